"""test_retire_race.py: a worker process retiring while clients arrive.

Covers: the last batch of events a worker thread takes before it retires
may hold, after the stop order, a listener's event for a new client; the
process closes its listeners once every thread stopped accepting, and
that late event must then be ignored, not taken for a connection (it was
a SIGSEGV that reset every connection being drained). 300 ping-pong
clients on one worker thread make its batches long, three threads
connect without pause, and 150 reloads each retire a worker: no worker
may die, no client lose a byte.
"""
import re
import signal

from loadclients import Churn, PingPong
from waits import wait_until


def _reload(d, n):
    d.write_config(greeting="gen %d\n" % n)
    d.signal(signal.SIGHUP)
    wait_until(lambda: len(re.findall(r"^echod: reloaded ", d.stderr(), re.M)) >= n,
               what=lambda: "reload %d; stderr:\n%s" % (n, d.stderr()[-2000:]))


def test_retiring_worker_ignores_late_listener_events(start_echod, nofile):
    d = start_echod(threads=1, greeting="gen 0\n", log={"connections": False})
    greetings = [b"gen 0\n"]
    pingpong = PingPong(d.port, 300, b"gen 0\n")
    pingpong.start()
    wait_until(lambda: pingpong.greeted == 300 or pingpong.errors,
               what="300 clients greeted")
    churns = [Churn(d.port, greetings) for _ in range(3)]
    for c in churns:
        c.start()
    for n in range(1, 151):
        greetings.append(b"gen %d\n" % n)
        _reload(d, n)
    for c in churns:
        c.stop()
    pingpong.stop()
    assert not re.search(r"^echod: worker \d+ killed", d.stderr(), re.M), d.stderr()[-3000:]
    assert not pingpong.errors, pingpong.errors[:5]
    for c in churns:
        assert (c.refused, c.reset, c.cut) == (0, 0, 0)
        assert not c.errors, c.errors[:5]
    d.stop()
