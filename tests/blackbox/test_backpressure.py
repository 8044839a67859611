"""test_backpressure.py: a client that sends a lot and never reads.

Covers: echod stops reading from a client whose echoes are not read (the
sender stalls long before its data is all sent), keeps at most about
buffer_size per connection (its resident memory stays bounded), keeps
serving other clients promptly meanwhile, and the stalled client's echo
is intact once it does read.
"""
import time

import procinfo
from client import Pusher, kernel_hold_bytes
from contract import GREETING
from waits import wait_until

BUFFER_SIZE = 65536
RSS_LIMIT = 64 << 20


def test_non_reading_client_is_not_read_and_others_are_served(start_echod):
    d = start_echod(buffer_size=BUFFER_SIZE)
    target = max(64 << 20, kernel_hold_bytes() + BUFFER_SIZE + (16 << 20))
    heavy = d.connect(rcvbuf=4096, sndbuf=65536)
    pusher = Pusher(heavy, target)
    pusher.start()
    wait_until(pusher.done.is_set, 40, what="the pusher to stall or finish")
    assert pusher.error is None, pusher.error
    assert pusher.stalled and pusher.sent < target, (
        "echod read %d bytes from a client that reads nothing "
        "(buffer_size %d)" % (pusher.sent, BUFFER_SIZE))

    started = time.monotonic()
    with d.connect() as other:
        other.expect(GREETING, timeout=2)
        other.send(b"still there?\n")
        other.expect(b"OK...still there?\n", timeout=2)
    assert time.monotonic() - started < 2.0

    rss = sum(procinfo.rss_bytes(pid) for pid in procinfo.tree(d.pid))
    assert rss < RSS_LIMIT, "echod's VmRSS %d bytes >= %d" % (rss, RSS_LIMIT)

    # Once the heavy client reads, its echo is intact and in order.
    heavy.expect(GREETING + b"OK..." + b"x" * (1 << 20), timeout=10)
    heavy.close()
    d.stop()
