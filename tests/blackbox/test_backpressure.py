"""test_backpressure.py: a client that sends a lot and never reads.

Covers: echod stops reading from a client whose echoes are not read (the
sender stalls long before its data is all sent), keeps at most about
buffer_size per connection (its resident memory stays bounded), keeps
serving other clients promptly meanwhile, and the stalled client's echo
is intact once it does read.
"""
import threading
import time

import procinfo
from contract import GREETING
from waits import wait_until

BUFFER_SIZE = 65536
RSS_LIMIT = 64 << 20
CHUNK = b"x" * 65536      # no newline: the whole echo is one line


def _sysctl_max(name):
    with open("/proc/sys/net/ipv4/" + name) as f:
        return int(f.read().split()[2])


class Pusher(threading.Thread):
    """Sends up to `target` bytes; stops when no byte goes out for 1.5 s."""

    def __init__(self, client, target):
        super().__init__(daemon=True)
        self.client, self.target = client, target
        self.sent = 0
        self.stalled = False
        self.error = None
        self.done = threading.Event()

    def run(self):
        sock = self.client.sock
        last_progress = time.monotonic()
        give_up = last_progress + 30
        try:
            sock.settimeout(0.25)
            while self.sent < self.target and time.monotonic() < give_up:
                try:
                    self.sent += sock.send(CHUNK)
                    last_progress = time.monotonic()
                except TimeoutError:
                    if time.monotonic() - last_progress > 1.5:
                        self.stalled = True
                        break
        except OSError as e:
            self.error = e
        finally:
            self.done.set()


def test_non_reading_client_is_not_read_and_others_are_served(start_echod):
    d = start_echod(buffer_size=BUFFER_SIZE)
    # What the kernel may hold at most between the pusher and echod:
    # echod's receive buffer, both send buffers, our receive buffer.
    kernel_bytes = _sysctl_max("tcp_rmem") + 2 * _sysctl_max("tcp_wmem")
    target = max(64 << 20, kernel_bytes + BUFFER_SIZE + (16 << 20))
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
