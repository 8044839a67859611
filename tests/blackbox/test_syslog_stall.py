"""test_syslog_stall.py: a syslog that stops reading never stalls serving.

Covers: with the /dev/log socket not read at all (its queue fills, so
echod's writes to it block), clients keep being served promptly through
many connect/echo/close cycles; once syslog is read again a warning
"N log messages dropped" arrives, and N accounts exactly for the
connect/disconnect lines that never arrived. Nor does it stall the
master: a killed worker is replaced and a stop completes while syslog
reads nothing, nor a reload whose worker logs as it starts (echod not
run as root, with user set). The same for stderr under -f when it is a
pipe nobody reads.
"""
import array
import fcntl
import os
import re
import shutil
import signal
import subprocess
import termios
import time

import procinfo
from client import Client
from contract import VERSION
from echodctl import as_nobody
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


def test_stalled_syslog_does_not_stall_a_reload(nobody_dir, syslog, new_echod):
    """echod run as nobody with user set: each worker logs, as it starts,
    that it cannot change user. With syslog stalled, a reload's worker
    still starts and serves: that line is queued like any other, not
    written while the worker starts. (The master logs nothing before the
    fork here, so its logger is not stuck in syslog when it forks.)"""
    os.chmod(syslog.path, 0o666)
    d = new_echod(syslog=syslog, workdir=nobody_dir, user="nobody",
                  greeting="hi\n", reply_prefix="> ")
    d.binary = shutil.copy(d.binary, nobody_dir)
    d.argv = lambda args=(), foreground=True: syslog.wrap(
        as_nobody([d.binary, "-f", "-c", d.conf] + list(args)))
    d.start()
    syslog.wait_for(r"^echod %s started on " % re.escape(VERSION))
    assert syslog.find(r'^user "nobody" is set but echod does not run as root')
    syslog.pause()
    for i in range(400):            # 800 lines: more than /dev/log queues
        _cycle(d.port, i)
    d.write_config(greeting="two\n")
    d.signal(signal.SIGHUP)
    wait_until(lambda: _greeting(d.port) == b"two\n",
               what="the reload's worker to serve with syslog stalled")
    d.stop()
    syslog.resume()


def _greeting(port):
    try:
        with Client("127.0.0.1", port, timeout=2) as c:
            return c.recv_until(b"\n")
    except (OSError, AssertionError):
        return None


def test_stderr_nobody_reads_stalls_nothing(new_echod, asan_options):
    """echod -f with stderr a pipe that is never read (its buffer fills
    within a few hundred lines, so the writes to it block): clients are
    served promptly, and a stop completes (each process gives its stuck
    logger 2 s). A sanitizer's report goes to a file: on the blocked
    stderr, LeakSanitizer's warning that it could not stop the stuck
    thread would hang the exit."""
    d = new_echod(greeting="hi\n", reply_prefix="> ")
    asan_options("log_path=%s/asan" % d.dir)
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(d.argv(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=write_end)
    os.close(write_end)
    try:
        wait_until(lambda: _served(d.port), what="echod to serve")
        start = time.monotonic()
        for i in range(TOTAL_CYCLES):       # ~3000 lines: far past the pipe's
            _cycle(d.port, i)
        took = time.monotonic() - start
        assert took < TOTAL_LIMIT, "%d cycles took %.1f s" % (TOTAL_CYCLES, took)
        size = fcntl.fcntl(read_end, fcntl.F_GETPIPE_SZ)
        # Full: within a page of its size (the last page may stay unused).
        wait_until(lambda: _queued(read_end) > size - 4096,
                   what=lambda: "stderr's pipe to be full (%d of %d bytes)"
                   % (_queued(read_end), size))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        reports = [open(os.path.join(d.dir, f)).read()
                   for f in os.listdir(d.dir) if f.startswith("asan.")]
        assert not [r for r in reports if "ERROR:" in r], reports
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(read_end)
        procinfo.kill_all(procinfo.running(d.binary, d.conf))


def _queued(fd):
    buf = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, buf)
    return buf[0]


def _served(port):
    try:
        _cycle(port, -1)
        return True
    except OSError:
        return False
