"""test_daemon.py: echod started without -f.

Covers: the launcher exits 0 only once the daemon accepts connections (a
connect right after it returns succeeds, no retry); the pidfile holds the
daemon's pid; the daemon is detached (not our child, another session, not
a session leader after the second fork), its stdio is /dev/null, its cwd
is / and its umask 022; SIGTERM stops it and removes the pidfile.
"""
import os
import signal

import procinfo
from client import Client
from contract import GREETING
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
