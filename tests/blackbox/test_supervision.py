"""test_supervision.py: the master process keeps a worker serving.

Covers: the worker killed (SIGKILL, SIGSEGV) under load: no connection
is refused, a new worker serves within a second, the death is logged at
err; a crash loop backs off, the pauses doubling up to 16 s and
beyond, and 10 s of serving end it; reloads under load (300 ping-ponging
clients and a stream of new connections through 20 reloads, some
changing threads and greeting) refuse, reset and corrupt nothing, and a
new connection sees the new greeting once "reloaded" is logged; SIGQUIT
closes everything at once; SIGTERM to master and worker alike still
drains; SIGTERM to the worker alone: it drains while a new one serves;
SIGUSR2 to the master is ignored; SIGUSR1 logs a stats line; the worker
leaves when the master is killed, and a new echod takes the pidfile the
killed one left; a replaced worker is logged as serving again.
"""
import os
import re
import signal
import time

import procinfo
from contract import GREETING
from loadclients import Churn, PingPong
from waits import wait_until


def _new_worker(d, old):
    return wait_until(lambda: (lambda w: w if w != old else None)(d.worker_pid()),
                      what="a worker other than %d" % old)


def _served(d):
    """A new client gets the greeting and an echo (waits in the backlog)."""
    with d.connect() as c:
        c.expect(GREETING)
        c.send(b"ping\n")
        c.expect(b"OK...ping\n")


def _kill_worker_under_load(d, sig):
    churn = Churn(d.port, [GREETING])
    churn.start()
    wait_until(lambda: churn.served > 20, what="load before the kill")
    old = d.worker_pid()
    killed_at = time.monotonic()
    os.kill(old, sig)
    wait_until(lambda: not procinfo.child_of(old, d.pid),
               what="the worker to die")
    _served(d)
    took = time.monotonic() - killed_at
    served_before = churn.served
    wait_until(lambda: churn.served > served_before + 20, what="load after the kill")
    churn.stop()
    assert churn.refused == 0, "%d connections refused" % churn.refused
    # Only the one exchange in flight in the killed worker may be lost.
    assert churn.reset + churn.cut <= 1, (churn.reset, churn.cut)
    assert not churn.errors, churn.errors[:5]
    assert took < 1.0, "a new worker served %.2f s after the kill" % took
    new = _new_worker(d, old)
    d.wait_stderr(r"^echod: worker %d killed by SIG%s.*; starting another$"
                  % (old, signal.Signals(sig).name[3:]))
    d.wait_stderr(r"^echod: worker %d serves again$" % new)
    return new


def test_worker_sigkill_under_load(start_echod):
    d = start_echod(threads=2)
    _kill_worker_under_load(d, signal.SIGKILL)
    d.stop()


def test_worker_sigsegv_under_load(syslog, start_echod, asan_options):
    asan_options("handle_segv=0")   # let SIGSEGV kill the worker as it would
    d = start_echod(syslog=syslog, threads=2)
    _kill_worker_under_load(d, signal.SIGSEGV)
    rec = syslog.wait_for(r"^worker \d+ killed by SIGSEGV")
    assert rec.severity == 3, rec.raw       # err
    d.stop()


def test_crash_loop_backs_off(start_echod):
    d = start_echod()
    worker = d.worker_pid()
    for _ in range(5):
        os.kill(worker, signal.SIGKILL)
        worker = _new_worker(d, worker) if _ < 4 else worker
    d.wait_stderr(r"^echod: the worker died 5 times within 10 s of running: waiting 1 s "
                  r"before starting another$")
    assert not [k for k in procinfo.children(d.pid) if procinfo.alive(k)], \
        "a worker was started without waiting"
    _served(d)          # waits in the backlog for the worker after the pause
    d.stop()


def test_crash_loop_pauses_keep_doubling(start_echod):
    """A worker killed as soon as it appears, nine times: the pauses grow
    1, 2, 4, 8, then 16 s (the waits themselves do not end the loop).
    Takes 15 s: the pauses are waited out."""
    d = start_echod()
    worker = d.worker_pid()
    for n in range(9):
        os.kill(worker, signal.SIGKILL)
        if n < 8:
            worker = _new_worker(d, worker)
    d.wait_stderr(r"^echod: the worker died 5 times within 10 s of running: "
                  r"waiting 16 s before starting another$")
    pauses = re.findall(r"^echod: the worker died .*: waiting (\d+) s ", d.stderr(), re.M)
    assert pauses == ["1", "2", "4", "8", "16"], d.stderr()
    d.stop()


def test_a_crash_long_after_a_crash_loop_is_not_paused(start_echod):
    """Five quick crashes make a loop (a 1 s pause); the next worker then
    serves 10 s and is replaced by a reload, whose worker is killed at
    once: it is replaced at once, the loop being over. Takes 12 s."""
    d = start_echod(greeting="one\n")
    worker = d.worker_pid()
    for _ in range(5):
        os.kill(worker, signal.SIGKILL)
        worker = _new_worker(d, worker)
    d.wait_stderr(r"^echod: the worker died 5 times within 10 s of running: "
                  r"waiting 1 s before starting another$")
    serving_since = time.monotonic()
    wait_until(lambda: time.monotonic() > serving_since + 10.5, timeout=15,
               what="10 s of serving")
    _reload(d, 1, greeting="two\n")
    fresh = d.worker_pid()
    killed_at = time.monotonic()
    os.kill(fresh, signal.SIGKILL)
    _new_worker(d, fresh)
    took = time.monotonic() - killed_at
    d.wait_stderr(r"^echod: worker %d killed by SIGKILL; starting another$" % fresh)
    assert took < 1.0, "replaced %.1f s after the kill:\n%s" % (took, d.stderr())
    assert len(re.findall(r": waiting \d+ s before", d.stderr())) == 1, d.stderr()
    d.stop()


def _reload(d, n, **changes):
    d.write_config(**changes)
    d.signal(signal.SIGHUP)
    wait_until(lambda: len(re.findall(r"^echod: reloaded ", d.stderr(), re.M)) >= n,
               what=lambda: "reload %d; stderr:\n%s" % (n, d.stderr()[-2000:]))


def test_reloads_under_load_lose_nothing(start_echod, nofile):
    d = start_echod(threads=2, greeting="gen 0\n")
    greetings = [b"gen 0\n"]
    pingpong = PingPong(d.port, 300, b"gen 0\n")
    pingpong.start()
    wait_until(lambda: pingpong.greeted == 300 or pingpong.errors,
               what="300 clients greeted")
    churn = Churn(d.port, greetings)
    churn.start()
    for n in range(1, 21):
        greetings.append(b"gen %d\n" % n)
        _reload(d, n, greeting="gen %d\n" % n, threads=1 + n % 3)
        with d.connect() as c:
            c.expect(b"gen %d\n" % n)
    rt = pingpong.round_trips
    wait_until(lambda: pingpong.round_trips > rt + 300 or pingpong.errors,
               what=lambda: "ping-pong after reloads; echod's stderr:\n" + d.stderr()[-3000:])
    churn.stop()
    pingpong.stop()
    assert not pingpong.errors, (pingpong.errors[:5], d.stderr()[-3000:])
    assert (churn.refused, churn.reset, churn.cut) == (0, 0, 0)
    assert not churn.errors, churn.errors[:5]
    assert churn.served > 20 and pingpong.round_trips > 300
    d.stop()


def test_sigquit_closes_everything_now(start_echod):
    d = start_echod(shutdown_timeout=60)
    c = d.connect()
    c.expect(GREETING)
    d.signal(signal.SIGQUIT)
    data, _ = c.recv_to_eof(timeout=5)
    assert data == b""
    assert d.wait_exit(timeout=5) == 0
    d.wait_stderr(r"^echod: disconnect 127\.0\.0\.1:%d \(conn \d+\): shutdown "
                  % c.local_port, timeout=0)


def test_sigusr1_logs_stats(start_echod):
    d = start_echod()
    d.wait_probes_gone()
    clients = [d.connect() for _ in range(3)]
    for c in clients:
        c.expect(GREETING)
    clients[1].send(b"abc\n")
    clients[1].expect(b"OK...abc\n")
    clients[0].close()
    d.wait_stderr(r"^echod: disconnect 127\.0\.0\.1:%d " % clients[0].local_port)
    line = re.compile(r"^echod: stats: 2 connections open, %d accepted, 0 refused "
                      r"\(max_connections\), 4 bytes in, (\d+) bytes out, "
                      r"0 log messages dropped$" % (len(d.probe_ports) + 3), re.M)

    def stats_with_the_echo():
        """Asks again until the line counts the echo: a thread counts its
        bytes just after the send the client may already have read."""
        seen = len(line.findall(d.stderr()))
        d.signal(signal.SIGUSR1)
        wait_until(lambda: len(line.findall(d.stderr())) > seen,
                   what=lambda: "a stats line; stderr:\n" + d.stderr()[-2000:])
        out = int(line.findall(d.stderr())[-1])
        # greetings (a probe may close before its own) + the 9-byte echo
        return out if out % len(GREETING) == 9 else None

    out = wait_until(stats_with_the_echo, what="a stats line counting the echo")
    assert out >= 3 * len(GREETING) + 9, out
    for c in clients[1:]:
        c.close()
    d.stop()


def test_killed_master_leaves_no_worker(start_echod, tmp_path):
    """The worker leaves when its master is killed, and the pidfile's lock
    goes with them: a new echod on the same pidfile starts at once."""
    pidfile = str(tmp_path / "echod.pid")
    d = start_echod(args=["-p", pidfile])
    worker = d.worker_pid()
    d.proc.kill()
    d.proc.wait(5)
    wait_until(lambda: not procinfo.alive(worker),
               what="the worker %d to exit after its master was killed" % worker)
    d.wait_stderr(r"^echod: the master process is gone: stopping")
    again = start_echod(args=["-p", pidfile])
    with open(pidfile) as f:
        assert int(f.read()) == again.pid
    again.stop()


def test_sigterm_to_every_process_still_drains(start_echod):
    """systemd's default KillMode signals the worker too: still a drain."""
    d = start_echod(shutdown_timeout=30)
    d.wait_probes_gone()                # the count below is of c alone
    c = d.connect()
    c.expect(GREETING)
    worker = d.worker_pid()
    os.kill(worker, signal.SIGTERM)
    d.signal(signal.SIGTERM)
    d.wait_stderr(r"^echod: stopping on SIGTERM \(1 connections open")
    for i in range(3):
        c.send(b"still %d\n" % i)
        c.expect(b"OK...still %d\n" % i)
    c.close()
    assert d.wait_exit() == 0


def test_sigterm_to_the_worker_alone_hands_over_at_once(start_echod):
    """The worker drains; a new one serves meanwhile, not after the drain."""
    d = start_echod(shutdown_timeout=30)
    d.wait_probes_gone()
    c = d.connect()
    c.expect(GREETING)
    old = d.worker_pid()
    os.kill(old, signal.SIGTERM)
    d.wait_stderr(r"^echod: worker %d stopped accepting, not asked by the "
                  r"master: starting another$" % old)
    _served(d)
    assert procinfo.child_of(old, d.pid), "the old worker did not drain"
    c.send(b"still here\n")
    c.expect(b"OK...still here\n")
    c.close()
    wait_until(lambda: not procinfo.child_of(old, d.pid),
               what="the old worker to leave once drained")
    d.wait_stderr(r"^echod: worker %d exited with status 0$" % old)
    assert not [l for l in d.stderr_lines() if "exited with status 0; starting" in l]
    d.stop()


def test_sigusr2_to_the_master_is_ignored(start_echod):
    d = start_echod()
    worker = d.worker_pid()
    d.signal(signal.SIGUSR2)
    d.wait_stderr(r"^echod: SIGUSR2 is for worker processes: ignored$")
    _served(d)
    assert d.worker_pid() == worker
    d.stop()
