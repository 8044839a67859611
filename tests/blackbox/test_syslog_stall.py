"""test_syslog_stall.py: a syslog that stops reading never stalls serving.

Covers: with the /dev/log socket not read at all (its queue fills, so
echod's writes to it block), clients keep being served promptly through
many connect/echo/close cycles; once syslog is read again a warning
"N log messages dropped" arrives, and N accounts exactly for the
connect/disconnect lines that never arrived. Nor does it stall the
master: a killed worker is replaced and a stop completes while syslog
reads nothing.
"""
import os
import re
import signal
import time

from client import Client
from contract import VERSION
from syslogcap import SEVERITIES
from waits import wait_until

TIMED_CYCLES = 200       # must all complete within TIMED_LIMIT seconds
TIMED_LIMIT = 10.0
TOTAL_CYCLES = 1500      # ~3000 log lines: more than echod's queue holds
TOTAL_LIMIT = 40.0


def _cycle(port, i):
    with Client("127.0.0.1", port, timeout=2) as c:
        c.expect(b"hi\n", timeout=2)
        c.send(b"cycle %d\n" % i)
        c.expect(b"> cycle %d\n" % i, timeout=2)


def test_stalled_syslog_does_not_stall_clients(syslog, start_echod):
    d = start_echod(syslog=syslog, greeting="hi\n", reply_prefix="> ")
    syslog.wait_for(r"^echod %s started on " % re.escape(VERSION))
    syslog.pause()

    start = time.monotonic()
    for i in range(TOTAL_CYCLES):
        if i == TIMED_CYCLES:
            timed = time.monotonic() - start
            assert timed < TIMED_LIMIT, (
                "%d cycles took %.1f s with syslog stalled" % (TIMED_CYCLES, timed))
        _cycle(d.port, i)
    took = time.monotonic() - start
    assert took < TOTAL_LIMIT, "%d cycles took %.1f s" % (TOTAL_CYCLES, took)

    nudges = []

    def nudge():
        nudges.append(1)
        _cycle(d.port, -len(nudges))

    syslog.resume()
    rec = syslog.wait_for(r"^\d+ log messages dropped$", timeout=20, nudge=nudge)
    assert rec.severity == SEVERITIES["warning"]
    assert int(rec.text.split()[0]) > 0

    d.stop()
    syslog.wait_for(r"^echod stopped$")
    connections = len(d.probe_ports) + TOTAL_CYCLES + len(nudges)
    arrived = len(syslog.find(r"^(connect from|disconnect) "))
    dropped = sum(int(r.text.split()[0])
                  for r in syslog.find(r"^\d+ log messages dropped$"))
    assert arrived + dropped == 2 * connections, (
        "%d connections: %d connect/disconnect lines arrived, %d reported dropped"
        % (connections, arrived, dropped))


def test_stalled_syslog_does_not_stall_the_master(syslog, start_echod):
    """Respawn and stop go on while syslog reads nothing; a worker forked
    while the master's logger was stuck in syslog still serves."""
    d = start_echod(syslog=syslog, greeting="hi\n", reply_prefix="> ")
    syslog.wait_for(r"^echod %s started on " % re.escape(VERSION))
    syslog.pause()
    for i in range(400):            # 800 lines: more than /dev/log queues
        _cycle(d.port, i)

    worker = d.worker_pid()
    os.kill(worker, signal.SIGKILL)
    wait_until(lambda: d.worker_pid() != worker,
               what="a new worker while syslog is stalled")
    _cycle(d.port, -1)

    d.signal(signal.SIGTERM)
    # Each process gives its stuck logger 2 s, then exits all the same.
    assert d.wait_exit() == 0
    syslog.resume()
