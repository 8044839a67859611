"""test_daemon.py: echod started without -f.

Covers: the launcher exits 0 only once the daemon accepts connections (a
connect right after it returns succeeds, no retry); the pidfile holds the
daemon's pid; the daemon is detached (not our child, another session, not
a session leader after the second fork), its stdio is /dev/null, its cwd
is / and its umask 022; SIGTERM stops it and removes the pidfile.
Relative -c and -p paths name files in the directory echod was started
in, for a reload and at exit too. Started with stdin and stdout closed,
echod still serves and keeps its pidfile locked (no file of its own
takes fd 0, 1 or 2, which it later points at /dev/null). Ctrl-C stops
the launching process's wait for a start that hangs; the daemon goes on.
A pidfile removed by a stopping echod between another's open and lock is
not taken: the lock is on the file on disk. Told to stop before it
serves, echod does not log "started" once its worker is ready, and the
daemon's launching process exits 1, not 0. A failure to detach removes
the pidfile. When the first worker fails, the launching process exits
71 only once the daemon has removed its pidfile and logged "not started".
A pipe the caller passed beyond stdio is not held by the daemon. The
worker's start-up warnings reach the launcher's stderr.
"""
import os
import re
import resource
import select
import shutil
import signal
import subprocess

import pytest

import procinfo
from client import Client
from contract import GREETING
from echodctl import as_nobody, kill_traced
from waits import wait_until


def test_daemon_mode(new_echod, tmp_path):
    pidfile = str(tmp_path / "echod.pid")
    d = new_echod()
    d.pidfiles.append(pidfile)          # so teardown can kill a leftover
    res = d.run(["-p", pidfile], foreground=False)
    assert res.rc == 0, res

    # Ready means ready: no polling here.
    with Client("127.0.0.1", d.port, timeout=5) as c:
        c.expect(GREETING)
        c.send(b"daemon\n")
        c.expect(b"OK...daemon\n")

    with open(pidfile) as f:
        text = f.read()
    assert text.endswith("\n") and text.strip().isdigit(), repr(text)
    pid = int(text)
    assert procinfo.alive(pid)
    assert procinfo.exe(pid) == os.path.realpath(d.binary)
    st = procinfo.stat(pid)
    assert st["ppid"] != os.getpid()
    assert st["session"] != os.getsid(0), "daemon is in the test's session"
    assert st["session"] != pid, "daemon is a session leader (no second fork)"
    for fd in (0, 1, 2):
        assert procinfo.fd_target(pid, fd) == "/dev/null", "fd %d" % fd
    assert procinfo.cwd(pid) == "/"
    assert procinfo.status_field(pid, "Umask") == "0022"

    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not procinfo.alive(pid), what="the daemon to exit on SIGTERM")
    assert not os.path.exists(pidfile), "pidfile left behind"


def test_inherited_descriptors_are_closed(new_echod, tmp_path):
    """The launcher gets the write end of a pipe beyond stdio, as from a CI
    harness or make's jobserver: the daemon does not keep it, so the
    caller's read sees EOF once the launcher is done (else not until the
    daemon stops)."""
    pidfile = str(tmp_path / "echod.pid")
    d = new_echod()
    d.pidfiles.append(pidfile)
    read_end, write_end = os.pipe()
    try:
        res = subprocess.run(d.argv(["-p", pidfile], foreground=False),
                             stdin=subprocess.DEVNULL, capture_output=True,
                             pass_fds=(write_end,), timeout=20)
        assert res.returncode == 0, res
        os.close(write_end)
        readable, _, _ = select.select([read_end], [], [], 5)
        assert readable and os.read(read_end, 1) == b"", \
            "the daemon holds the caller's pipe"
        _stop_daemon(_daemon_pid(pidfile), pidfile)
    finally:
        os.close(read_end)


def _greeting(port):
    with Client("127.0.0.1", port, timeout=5) as c:
        return c.recv_until(b"\n")


def _daemon_pid(pidfile):
    with open(pidfile) as f:
        return int(f.read())


def _stop_daemon(pid, pidfile):
    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not procinfo.alive(pid), what="the daemon to exit on SIGTERM")
    assert not os.path.exists(pidfile), "pidfile left behind"


def test_relative_paths_are_taken_from_the_start_directory(new_echod):
    d = new_echod(greeting="one\n")
    pidfile = os.path.join(d.dir, "echod.pid")
    d.pidfiles.append(pidfile)
    res = subprocess.run([d.binary, "-c", "echod.conf", "-p", "echod.pid"],
                         cwd=d.dir, stdin=subprocess.DEVNULL,
                         capture_output=True, timeout=10)
    assert res.returncode == 0, res
    pid = _daemon_pid(pidfile)
    assert _greeting(d.port) == b"one\n"

    d.write_config(greeting="two\n")
    os.kill(pid, signal.SIGHUP)
    wait_until(lambda: _greeting(d.port) == b"two\n",
               what="the reloaded greeting from a config named by a relative path")
    _stop_daemon(pid, pidfile)


def test_closed_stdin_and_stdout_at_start(new_echod):
    d = new_echod()
    pidfile = os.path.join(d.dir, "echod.pid")
    d.pidfiles.append(pidfile)
    res = subprocess.run([d.binary, "-c", d.conf, "-p", pidfile],
                         preexec_fn=lambda: (os.close(0), os.close(1)),
                         stderr=subprocess.PIPE, timeout=10)
    assert res.returncode == 0, res
    pid = _daemon_pid(pidfile)
    assert _greeting(d.port) == GREETING

    second = subprocess.run([d.binary, "-c", d.conf, "-p", pidfile],
                            stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    assert second.returncode != 0, "a second echod started beside the first"
    assert b"another echod is running (pid %d)" % pid in second.stderr, second
    _stop_daemon(pid, pidfile)


def _pid_in(pidfile, other_than):
    try:
        with open(pidfile) as f:
            pid = int(f.read())
    except (OSError, ValueError):     # not there yet, or being written
        return None
    return pid if pid != other_than else None


def test_ctrl_c_stops_the_wait_for_a_hung_start(new_echod):
    d = new_echod(threads=1024)         # a start that takes a while
    pidfile = os.path.join(d.dir, "echod.pid")
    d.pidfiles.append(pidfile)
    for _ in range(20):     # until the daemon is caught before it serves
        launcher = subprocess.Popen([d.binary, "-c", d.conf, "-p", pidfile],
                                    stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        daemon = wait_until(lambda: _pid_in(pidfile, launcher.pid), interval=0.001,
                            what="the daemon's pid in the pidfile")
        os.kill(daemon, signal.SIGSTOP)     # its start now hangs
        if launcher.poll() is None:
            break
        os.kill(daemon, signal.SIGCONT)
        _stop_daemon(daemon, pidfile)
    else:
        raise AssertionError("the daemon always served before it could be stopped")
    try:
        launcher.send_signal(signal.SIGINT)
        assert launcher.wait(5) == -signal.SIGINT
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
        os.kill(daemon, signal.SIGCONT)
    assert _greeting(d.port) == GREETING     # the daemon goes on
    _stop_daemon(daemon, pidfile)


def test_pidfile_removed_between_open_and_lock(new_echod, tmp_path):
    """B opens the pidfile while A holds it; A stops, removing it; only
    then does B lock (strace delays B's flock by 3 s). B must lock
    the file on disk, not the removed one, so that a third echod on the
    same pidfile is refused (75)."""
    pidfile = str(tmp_path / "echod.pid")
    a = new_echod(pidfile=pidfile).start()
    b = new_echod(pidfile=pidfile)
    c = new_echod(pidfile=pidfile)
    c.pidfiles.append(pidfile)          # teardown kills C if it started
    with open(b.stdout_path, "w") as out, open(b.stderr_path, "w") as err:
        tracer = subprocess.Popen(
            ["strace", "-o", "/dev/null", "-e", "trace=flock",
             "-e", "inject=flock:delay_enter=3000000"] + b.argv(),
            stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    try:
        def b_opened():
            for k in procinfo.children(tracer.pid):
                try:
                    if any(procinfo.fd_target(k, int(fd)) == pidfile
                           for fd in os.listdir("/proc/%d/fd" % k)):
                        return k
                except OSError:
                    pass
            return None
        wait_until(b_opened, interval=0.005, what="B to open the pidfile")
        a.stop()
        wait_until(lambda: "started on" in b.stderr() or tracer.poll() is not None,
                   what="B to start or fail")
        assert tracer.poll() is None, b.stderr()
        assert os.path.exists(pidfile), "B runs with no pidfile on disk"
        res = c.run(foreground=False)
        assert res.rc == 75, "a third echod on B's pidfile: exit %d\n%s" % (res.rc, res.stderr)
    finally:
        procinfo.kill_all(procinfo.running(b.binary, b.conf))
        tracer.wait(10)


def _pid_in_pidfile_of(pidfile, foreground):
    """The pid in pidfile once it is echod's serving process: in the
    foreground the first one written; as a daemon, one in another session
    than the launcher's (ours)."""
    pid = _pid_in(pidfile, None)
    if pid is None or foreground:
        return pid
    st = procinfo.stat(pid)
    return pid if st is not None and st["session"] != os.getsid(0) else None


@pytest.mark.parametrize("foreground", [False, True], ids=["daemon", "foreground"])
def test_stopped_before_serving(new_echod, asan_options, foreground):
    """SIGTERM reaches echod before its first worker serves (strace delays
    signalfd() by 1 s, after the signals are blocked and the pid is in the
    pidfile, and the master's first poll() by 0.5 s, so that the worker's
    ready report and the SIGTERM are read in the same round): echod
    neither logs "started" nor tells a launching process it serves (which
    would exit 0); in the foreground it stops with 0."""
    asan_options("detect_leaks=0")  # LeakSanitizer cannot work under strace
    d = new_echod()
    pidfile = os.path.join(d.dir, "echod.pid")
    d.pidfiles.append(pidfile)
    with open(d.stderr_path, "w") as err:
        tracer = subprocess.Popen(
            ["strace", "-f", "-o", "/dev/null", "-e", "trace=signalfd4,poll",
             "-e", "inject=signalfd4:delay_enter=1000000",
             "-e", "inject=poll:delay_enter=500000:when=1"]
            + d.argv(["-p", pidfile], foreground=foreground),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    try:
        # A daemon's launcher writes its own pid first, then the daemon
        # its own, from a session of its own.
        daemon = wait_until(lambda: _pid_in_pidfile_of(pidfile, foreground),
                            interval=0.005, what="echod's pid in the pidfile")
        os.kill(daemon, signal.SIGTERM)
        rc = tracer.wait(20)
        assert rc == (0 if foreground else 1), "exit %d\n%s" % (rc, d.stderr())
        wait_until(lambda: not procinfo.alive(daemon), what="echod to stop")
        assert not os.path.exists(pidfile), "pidfile left behind"
        if foreground:
            assert "started on" not in d.stderr(), d.stderr()
            assert d.stderr().rstrip().endswith("echod: echod stopped"), d.stderr()
    finally:
        kill_traced(tracer, d)


def test_detach_failure_leaves_no_pidfile(new_echod, asan_options):
    """setsid() fails in the first child (strace injects EPERM): the
    pidfile, written with the original pid before detaching, is removed,
    and the launching process exits 71. It was left behind, naming a
    dead pid."""
    asan_options("detect_leaks=0")  # LeakSanitizer cannot work under strace
    d = new_echod()
    pidfile = os.path.join(d.dir, "echod.pid")
    d.pidfiles.append(pidfile)
    res = subprocess.run(["strace", "-f", "-o", "/dev/null", "-e", "trace=setsid",
                          "-e", "inject=setsid:error=EPERM",
                          d.binary, "-c", d.conf, "-p", pidfile],
                         stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    assert res.returncode == 71, res
    assert b"setsid/fork: Operation not permitted" in res.stderr, res.stderr
    assert not os.path.exists(pidfile), "pidfile left behind"


def test_failed_start_is_over_when_the_launcher_exits(new_echod, asan_options):
    """The first worker cannot start (threads = 64 under RLIMIT_NOFILE 40).
    By the time the launching process exits 71, the daemon has removed its
    pidfile and logged "echod not started": a restart right after it finds
    neither in its way. strace slows the daemon's unlink() by 1 s, so that
    a launcher told first would be gone before it."""
    asan_options("detect_leaks=0")  # LeakSanitizer cannot work under strace
    d = new_echod(threads=64, listen=["127.0.0.1"])
    pidfile = os.path.join(d.dir, "echod.pid")
    d.pidfiles.append(pidfile)

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (40, 40))

    with open(d.stderr_path, "w") as err:
        tracer = subprocess.Popen(
            ["strace", "-f", "-o", "/dev/null", "-e", "trace=unlink",
             "-e", "inject=unlink:delay_enter=1000000"]
            + d.argv(["-p", pidfile], foreground=False),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
            preexec_fn=limit)
    try:
        # strace's child that runs echod (strace forks short-lived ones of
        # its own too, to probe ptrace).
        binary = os.path.realpath(d.binary)
        launcher = wait_until(lambda: next((k for k in procinfo.children(tracer.pid)
                                            if procinfo.exe(k) == binary), None),
                              interval=0.001, what="the launching process (not "
                              "seen at all if it exited at once)")
        wait_until(lambda: not procinfo.alive(launcher), interval=0.005,
                   what="the launching process to exit")
        assert not os.path.exists(pidfile), "the launcher exited before the pidfile went"
        assert re.search(r"^echod: echod not started$", d.stderr(), re.M), d.stderr()
        assert tracer.wait(20) == 71, d.stderr()
    finally:
        kill_traced(tracer, d)


def test_worker_start_up_warning_reaches_the_terminal(nobody_dir, new_echod):
    """A daemon run as nobody with user set: the worker's warning that it
    cannot change user is on the launcher's stderr by the time it exits
    (the worker queues it, and its stdio goes to /dev/null once it serves)."""
    d = new_echod(workdir=nobody_dir, user="nobody")
    d.binary = shutil.copy(d.binary, nobody_dir)
    try:
        res = subprocess.run(as_nobody([d.binary, "-c", d.conf, "-p", ""]),
                             stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
        text = res.stderr.decode()
        assert res.returncode == 0, (res.returncode, text)
        assert 'user "nobody" is set but echod does not run as root' in text, text
    finally:
        procinfo.kill_all(procinfo.running(d.binary, d.conf))
