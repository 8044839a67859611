"""test_signals.py: stopping echod with SIGTERM and SIGINT.

Covers: after SIGTERM the listeners close (new connections are refused on
IPv4 and IPv6) while a connected client keeps being served; echod exits 0
as soon as the last client leaves, long before shutdown_timeout; with
shutdown_timeout = 1 a lingering client is closed (reason "shutdown") and
echod exits 0; SIGINT stops it the same way, draining; a second SIGTERM
or SIGINT while draining closes every connection at once; the pidfile is
removed, unless another echod has taken its path meanwhile. A
worker that cannot drain (stopped) is killed 10 s after it was told to
close everything, not sooner, and echod then exits 0; more stop signals
meanwhile do not put that off.
"""
import os
import re
import signal
import subprocess
import time

import pytest

from client import connect_refused
from contract import GREETING
from waits import wait_until


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_drains_connected_client(start_echod, sig):
    d = start_echod(shutdown_timeout=30)
    d.wait_probes_gone()
    c = d.connect()
    c.expect(GREETING)

    d.signal(sig)
    d.wait_stderr(r"^echod: stopping on %s \(1 connections open, "
                  r"waiting up to 30 s\)$" % sig.name)
    for host in ("127.0.0.1", "::1"):
        wait_until(lambda: connect_refused(host, d.port), timeout=5,
                   what="connections to %s to be refused after %s" % (host, sig.name))

    for i in range(3):
        c.send(b"draining %d\n" % i)
        c.expect(b"OK...draining %d\n" % i)
    assert d.running()

    c.close()
    closed_at = time.monotonic()
    rc = d.wait_exit(10)
    assert rc == 0, d.stderr()
    assert time.monotonic() - closed_at < 5, "echod waited after the last client left"
    d.wait_stderr(r"^echod: disconnect 127\.0\.0\.1:%d \(conn \d+\): eof after "
                  % c.local_port, timeout=0)
    d.wait_stderr(r"^echod: echod stopped$", timeout=0)


def test_shutdown_timeout_closes_lingering_client(start_echod):
    d = start_echod(shutdown_timeout=1)
    c = d.connect()
    c.expect(GREETING)
    sent_at = time.monotonic()
    d.signal(signal.SIGTERM)
    data, _ = c.recv_to_eof(timeout=8)
    assert data == b""
    rc = d.wait_exit(8)
    took = time.monotonic() - sent_at
    assert rc == 0, d.stderr()
    assert 0.9 <= took < 6, "exit %.2f s after SIGTERM with shutdown_timeout = 1" % took
    d.wait_stderr(r"^echod: disconnect 127\.0\.0\.1:%d \(conn \d+\): shutdown after "
                  % c.local_port, timeout=0)
    d.wait_stderr(r"^echod: echod stopped$", timeout=0)


@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGINT],
                         ids=["SIGTERM", "SIGINT"])
def test_second_signal_closes_every_connection(start_echod, second):
    """While a stop drains, a second SIGTERM or SIGINT has the master
    send SIGQUIT: every connection is closed at once (reason "shutdown"),
    long before shutdown_timeout, and echod exits 0."""
    d = start_echod(shutdown_timeout=60)
    d.wait_probes_gone()
    c = d.connect()
    c.expect(GREETING)
    d.signal(signal.SIGTERM)
    d.wait_stderr(r"^echod: stopping on SIGTERM \(1 connections open")
    c.send(b"draining\n")
    c.expect(b"OK...draining\n")
    d.signal(second)
    data, _ = c.recv_to_eof(timeout=10)
    assert data == b""
    assert d.wait_exit(10) == 0, d.stderr()
    d.wait_stderr(r"^echod: SIGQUIT while stopping: closing every connection now$",
                  timeout=0)
    d.wait_stderr(r"^echod: disconnect 127\.0\.0\.1:%d \(conn \d+\): shutdown after "
                  % c.local_port, timeout=0)


def test_foreground_pidfile_written_and_removed(start_echod, tmp_path):
    pidfile = tmp_path / "echod.pid"
    d = start_echod(args=["-p", str(pidfile)])
    assert pidfile.read_text() == "%d\n" % d.pid
    d.stop()
    assert not pidfile.exists()


def test_pidfile_from_config_and_p_empty_overrides_it(start_echod, tmp_path):
    from_config = tmp_path / "conf.pid"
    d = start_echod(pidfile=str(from_config))
    assert from_config.read_text() == "%d\n" % d.pid
    d.stop()
    assert not from_config.exists()

    d2 = start_echod(pidfile=str(from_config), args=["-p", ""])
    with d2.connect() as c:
        c.expect(GREETING)
    assert not from_config.exists(), "-p \"\" still wrote the config's pidfile"
    d2.stop()


def test_stop_leaves_a_pidfile_that_is_not_its_own(start_echod, tmp_path):
    """Someone removes A's pidfile and B starts on the same path: A stops
    and leaves B's pidfile in place, saying so."""
    pidfile = tmp_path / "echod.pid"
    a = start_echod(args=["-p", str(pidfile)])
    pidfile.unlink()
    b = start_echod(args=["-p", str(pidfile)])
    assert pidfile.read_text() == "%d\n" % b.pid
    a.stop()
    assert re.search(r"^echod: pidfile %s was removed or replaced meanwhile: "
                     r"left as it is$" % re.escape(str(pidfile)), a.stderr(), re.M), a.stderr()
    assert pidfile.read_text() == "%d\n" % b.pid
    b.stop()
    assert not pidfile.exists()


def test_stop_kills_a_worker_that_cannot_drain(start_echod):
    d = start_echod(shutdown_timeout=1)
    worker = d.worker_pid()
    os.kill(worker, signal.SIGSTOP)     # it can take neither SIGTERM nor SIGQUIT
    told = time.monotonic()
    d.signal(signal.SIGTERM)
    assert d.wait_exit(timeout=30) == 0, d.stderr()
    took = time.monotonic() - told
    d.wait_stderr(r"^echod: worker %d killed by SIGKILL$" % worker)
    # shutdown_timeout (1 s), then SIGQUIT, then 10 s of grace.
    assert 10.9 <= took < 14, "killed %.1f s after SIGTERM" % took


def test_more_stop_signals_do_not_put_off_the_kill(start_echod):
    """A worker that cannot drain, and a SIGTERM every half second: the
    second one the master takes closes everything at once, and the worker
    is killed 10 s later however many more come (it was never killed
    while they came)."""
    d = start_echod(shutdown_timeout=60)
    worker = d.worker_pid()
    os.kill(worker, signal.SIGSTOP)     # it can take neither SIGTERM nor SIGQUIT
    told = time.monotonic()
    while d.running() and time.monotonic() - told < 20:
        d.signal(signal.SIGTERM)
        try:
            d.proc.wait(0.5)
        except subprocess.TimeoutExpired:
            pass
    took = time.monotonic() - told
    assert d.wait_exit(timeout=15) == 0, d.stderr()
    d.wait_stderr(r"^echod: worker %d killed by SIGKILL$" % worker)
    assert took < 13, "killed %.1f s after the first SIGTERM" % took
