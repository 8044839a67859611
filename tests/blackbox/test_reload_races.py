"""test_reload_races.py: a reload meeting a stop, a crash or another reload.

Covers: a stop right after two SIGHUPs ends as soon as the replaced
worker has drained (no new worker serving until shutdown_timeout; the
window in which the second SIGHUP is still queued when the stop comes is
under a millisecond, so this does not catch every ordering); the serving worker killed while a
reload's worker starts: the reload's worker takes over, and the listening
sockets survive the next crash, and a SIGHUP that came meanwhile is
carried out once it serves; a reload whose worker cannot start,
during the back-off of a crash loop, still leaves a worker serving; a
SIGHUP that comes while a failing reload starts is carried out after it;
a reload that fails keeps the listen backlog; a SIGHUP queued while the
first worker starts forks nothing once that worker fails (echod exits 71
leaving no process behind); the serving worker dying while a reload's
worker starts, and that worker failing, long after a crash loop: a
worker serves at once, not after the loop's pause. A worker is made unable to
start by RLIMIT_NPROC, which binds it once it runs as "nobody" (so those
tests need root).
"""
import os
import re
import resource
import signal
import subprocess
import time

import pytest

import procinfo
from client import Client, connect_many, connect_refused, established
from contract import GREETING
from echodctl import kill_traced
from loadclients import Churn
from waits import wait_until


def _greeting(d):
    with Client("127.0.0.1", d.port, timeout=5) as c:
        return c.recv_until(b"\n")


def _greeting_or_none(d):
    try:
        return _greeting(d)
    except OSError:
        return None


def _killed(d, pid):
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not procinfo.child_of(pid, d.pid), what="worker %d to die" % pid)


def test_reload_queued_before_a_stop_is_dropped(start_echod):
    d = start_echod(shutdown_timeout=30, greeting="one\n")
    held = d.connect()                  # keeps the replaced worker draining
    held.expect(b"one\n")
    d.write_config(greeting="two\n")
    d.signal(signal.SIGHUP)
    d.signal(signal.SIGHUP)             # queued until the replaced one stops
    wait_until(lambda: _greeting_or_none(d) == b"two\n", what="the first reload")
    d.signal(signal.SIGTERM)
    d.wait_stderr(r"^echod: stopping on SIGTERM")
    wait_until(lambda: connect_refused("127.0.0.1", d.port),
               what="the listening socket to close on SIGTERM")
    held.close()
    # Had the queued reload run once the replaced worker stopped, a new
    # worker would serve until shutdown_timeout (30 s) ran out.
    assert d.wait_exit(timeout=10) == 0, d.stderr()


def test_worker_killed_while_a_reload_starts(start_echod):
    d = start_echod(greeting="one\n")
    old = d.worker_pid()
    d.write_config(greeting="two\n")
    d.signal(signal.SIGHUP)
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: _greeting_or_none(d) == b"two\n",
               what="the reload's greeting after the old worker died")
    now = d.worker_pid()
    _killed(d, now)
    wait_until(lambda: _greeting_or_none(d) == b"two\n",
               what="a new worker after the next crash, on the same sockets")
    d.wait_stderr(r"^echod: reloaded ")
    assert len(re.findall(r"^echod: reloaded ", d.stderr(), re.M)) == 1, d.stderr()


def test_sighup_while_a_reload_starts_after_the_old_worker_died(start_echod,
                                                               asan_options):
    """The serving worker dies while a reload's worker starts, and another
    SIGHUP comes meanwhile: once the reload's worker serves, the second
    reload is carried out. strace only slows the workers' epoll_create1
    (2 s, ended early when strace leaves), so that the master takes the
    second SIGHUP while that one starts."""
    asan_options("detect_leaks=0")  # LeakSanitizer cannot work under strace
    d = start_echod(greeting="one\n")
    old = d.worker_pid()
    tracer = subprocess.Popen(
        ["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=epoll_create1",
         "-e", "inject=epoll_create1:delay_enter=2000000", "-p", str(d.pid)],
        stdin=subprocess.DEVNULL)
    try:
        wait_until(lambda: procinfo.status_field(d.pid, "TracerPid") != "0",
                   what="strace to attach to the master")
        d.write_config(greeting="two\n")
        d.signal(signal.SIGHUP)
        wait_until(lambda: len(procinfo.children(d.pid)) == 2,
                   what="the reload's worker to be forked")
        _killed(d, old)
        d.write_config(greeting="three\n")
        d.signal(signal.SIGHUP)
        wait_until(lambda: not _pending(d.pid, signal.SIGHUP),
                   what="the master to take the second SIGHUP")
        starting = procinfo.children(d.pid)
        assert len(starting) == 1 and procinfo.stat(starting[0])["state"] == "t", \
            "the reload's worker is no longer held starting by strace"
        d.wait_stderr(r"^echod: worker %d .*; the reload's worker takes over" % old)
    finally:
        tracer.terminate()
        tracer.wait(10)
    wait_until(lambda: _greeting_or_none(d) == b"three\n",
               what=lambda: "the second reload; stderr:\n" + d.stderr())
    wait_until(lambda: len(re.findall(r"^echod: reloaded ", d.stderr(), re.M)) == 2,
               what=lambda: "two \"reloaded\" lines; stderr:\n" + d.stderr())


def _pending(pid, sig):
    """Whether sig waits to be taken by process pid (its signalfd read)."""
    return bool(int(procinfo.status_field(pid, "ShdPnd"), 16) & (1 << (sig - 1)))


def _nobody_with_nproc(start_echod, **settings):
    """echod whose worker runs as nobody under a low RLIMIT_NPROC: a config
    with many threads cannot start a worker."""
    if os.geteuid() != 0:
        pytest.skip("needs root: echod only changes user when started as root")
    d = start_echod(user="nobody", threads=1, listen=["127.0.0.1"], **settings)
    resource.prlimit(d.pid, resource.RLIMIT_NPROC, (16, 16))
    return d


def test_failed_reload_during_crash_backoff_still_serves(start_echod):
    d = _nobody_with_nproc(start_echod)
    d.wait_probes_gone()
    for _ in range(5):                  # a crash loop: the master backs off
        w = d.worker_pid()
        _killed(d, w)
    d.wait_stderr(r"^echod: the worker died 5 times within")
    d.write_config(threads=64)          # more threads than nobody may have
    d.signal(signal.SIGHUP)
    d.wait_stderr(r"^echod: reload failed: the new worker")
    wait_until(lambda: _greeting_or_none(d) is not None, timeout=20,
               what="a worker serving again after the failed reload")


def test_failed_reload_after_an_old_crash_loop_serves_at_once(start_echod):
    """The serving worker dies while a reload's worker starts, and that one
    fails: another worker starts at once, not after the pause of a crash
    loop that is long over. The master is held stopped while it is sent
    SIGHUP and its worker is killed, so that it reads both at once
    (SIGHUP first: the reload's worker is starting when the death is
    reaped)."""
    d = _nobody_with_nproc(start_echod)
    d.wait_probes_gone()
    for _ in range(7):                  # a crash loop: pauses of 1, 2, 4 s
        _killed(d, d.worker_pid())
    d.wait_stderr(r"^echod: the worker died 5 times within 10 s of running: waiting 4 s")
    worker = d.worker_pid()
    started = time.monotonic()
    # Five crashed workers that lived less than 10 s in all make a loop;
    # one that lived longer ends it.
    wait_until(lambda: time.monotonic() > started + 10.5, timeout=15,
               what="the worker to have run 10 s")
    d.write_config(threads=64)          # more threads than nobody may have
    os.kill(d.pid, signal.SIGSTOP)
    try:
        d.signal(signal.SIGHUP)
        os.kill(worker, signal.SIGKILL)
        wait_until(lambda: not procinfo.alive(worker), what="the worker to die")
    finally:
        os.kill(d.pid, signal.SIGCONT)
    d.wait_stderr(r"^echod: worker %d killed by SIGKILL.*; the reload's worker "
                  r"takes over$" % worker)
    d.wait_stderr(r"^echod: reload failed: the new worker")
    failed_at = time.monotonic()
    wait_until(lambda: _greeting_or_none(d) is not None,
               what="a worker serving after the failed reload")
    took = time.monotonic() - failed_at
    assert took < 2.0, "served %.1f s after the failed reload (the pause of " \
        "the old crash loop was 4 s):\n%s" % (took, d.stderr())


def test_failing_reload_takes_no_client(start_echod):
    """A reload's worker some of whose threads cannot start (threads=64)
    must accept nothing before they all run: the connections it took
    would be closed as it gives up. The serving worker keeps every client
    through 30 such reloads."""
    d = _nobody_with_nproc(start_echod)
    d.wait_probes_gone()
    d.write_config(threads=64)
    churns = [Churn(d.port, [GREETING]) for _ in range(3)]
    for churn in churns:
        churn.start()
    try:
        for n in range(1, 31):
            d.signal(signal.SIGHUP)
            wait_until(lambda: len(re.findall(r"^echod: reload failed: the new worker",
                                              d.stderr(), re.M)) >= n,
                       what=lambda: "failed reload %d; stderr:\n%s" % (n, d.stderr()[-2000:]))
    finally:
        for churn in churns:
            churn.stop()
    for churn in churns:
        assert (churn.refused, churn.reset, churn.cut) == (0, 0, 0), \
            (churn.refused, churn.reset, churn.cut)
        assert not churn.errors, churn.errors[:5]
    assert sum(churn.served for churn in churns) > 100


def _failed_reloads(d):
    return len(re.findall(r"^echod: reload failed: the new worker", d.stderr(), re.M))


def _stop_master_with_reload_worker_unreaped(d, serving):
    """Sends SIGHUP until the master is caught, stopped, with the failing
    reload's worker started and not yet reaped (alive or a zombie): the
    master then reads whatever comes next together with that death."""
    for attempt in range(30):
        d.signal(signal.SIGHUP)
        wait_until(lambda: [k for k in procinfo.children(d.pid) if k != serving]
                   or _failed_reloads(d) > attempt, interval=0.001,
                   what="the reload's worker to start")
        os.kill(d.pid, signal.SIGSTOP)
        if [k for k in procinfo.children(d.pid) if k != serving]:
            return
        os.kill(d.pid, signal.SIGCONT)
        wait_until(lambda: _failed_reloads(d) > attempt, what="reload %d to fail" % attempt)
    raise AssertionError("the reload's worker was always reaped before the master stopped")


def test_sighup_during_a_failing_reload_is_carried_out(start_echod):
    """A SIGHUP that comes while a reload's worker is failing is carried
    out once that reload has failed. The master is stopped while the
    failing worker is unreaped, so the second SIGHUP surely comes during
    the first reload (it is read before the death: SIGHUP < SIGCHLD)."""
    d = _nobody_with_nproc(start_echod, greeting="one\n")
    d.wait_probes_gone()
    serving = d.worker_pid()
    d.write_config(threads=64, greeting="two\n")
    _stop_master_with_reload_worker_unreaped(d, serving)
    try:
        failed_before = _failed_reloads(d)
        d.write_config(threads=1, greeting="three\n")
        d.signal(signal.SIGHUP)
    finally:
        os.kill(d.pid, signal.SIGCONT)
    wait_until(lambda: _greeting_or_none(d) == b"three\n",
               what="the second SIGHUP's reload")
    d.wait_stderr(r"^echod: reloaded ")     # the master's lines come a little later
    text = d.stderr()
    assert _failed_reloads(d) == failed_before + 1, text
    assert text.rindex("reload failed: the new worker") < text.index("echod: reloaded "), text


def test_failed_reload_keeps_the_backlog(start_echod):
    d = start_echod(backlog=16, listen=["127.0.0.1"])
    d.wait_probes_gone()
    d.write_config(backlog=2, listen=["127.0.0.1", "192.0.2.1"])   # not ours
    d.signal(signal.SIGHUP)
    d.wait_stderr(r"^echod: reload failed, keeping the running configuration")
    worker = d.worker_pid()
    os.kill(worker, signal.SIGSTOP)     # nobody accepts: the queue fills
    socks = []
    try:
        socks = connect_many("127.0.0.1", d.port, 10)
        wait_until(lambda: established(socks) == 10, timeout=5,
                   what="10 connections queued (backlog 16; 2 would queue 3)")
    finally:
        os.kill(worker, signal.SIGCONT)
        for s in socks:
            s.close()


def test_reload_queued_at_a_failed_start_forks_nothing(new_echod, asan_options):
    """The first worker cannot start (threads=64 as nobody under
    RLIMIT_NPROC 16), so echod exits 71. A SIGHUP that came while it
    started must not fork a worker that outlives the master. strace only
    slows signalfd() (after the signals are blocked, before the first
    fork) so that the SIGHUP surely comes while the first worker starts."""
    if os.geteuid() != 0:
        pytest.skip("needs root: echod only changes user when started as root")
    asan_options("detect_leaks=0")  # LeakSanitizer cannot work under strace
    d = new_echod(user="nobody", threads=64, listen=["127.0.0.1"])

    def limit():
        resource.setrlimit(resource.RLIMIT_NPROC, (16, 16))

    with open(d.stdout_path, "w") as out, open(d.stderr_path, "w") as err:
        tracer = subprocess.Popen(
            ["strace", "-o", "/dev/null", "-e", "trace=signalfd4",
             "-e", "inject=signalfd4:delay_enter=1000000"] + d.argv(),
            stdin=subprocess.DEVNULL, stdout=out, stderr=err, preexec_fn=limit)
    try:
        def blocked_sighup():
            for k in procinfo.children(tracer.pid):
                try:
                    if int(procinfo.status_field(k, "SigBlk"), 16) & (1 << (signal.SIGHUP - 1)):
                        return k
                except (OSError, KeyError, ValueError):
                    pass
            return None
        master = wait_until(blocked_sighup, timeout=10, interval=0.001,
                            what="echod to block its signals")
        d.write_config(threads=1)       # a config the reload could start
        os.kill(master, signal.SIGHUP)
        rc = tracer.wait(20)
        assert rc == 71, "exit %d\n%s" % (rc, d.stderr())
        assert re.search(r"^echod: worker \d+ exited with status 71 before serving$",
                         d.stderr(), re.M), d.stderr()
        assert re.search(r"^echod: echod not started$", d.stderr(), re.M), d.stderr()
        left = procinfo.running(d.binary, d.conf)
        assert left == [], "echod exited %d, but processes of it still run: %s\n%s" \
            % (rc, left, d.stderr())
    finally:
        kill_traced(tracer, d)
