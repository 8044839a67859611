"""test_startup.py: start-up failures and the pidfile.

Covers: a port already in use (exit 71, "Address already in use" naming
the address, in the foreground and in daemon mode); a second instance
with the same pidfile on another port (exit 75, the pidfile and the first
instance's pid named, the first one unharmed); a pidfile that cannot be
created (exit 73); the pidfile's missing directory created (mode 0755);
threads = 0 starting one worker per online CPU.
"""
import os
import re
import socket

from contract import EXIT_CANTCREAT, EXIT_OSERR, EXIT_RUNNING, GREETING


def _listening_socket(host):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    s.listen(1)
    return s


def test_port_in_use_exits_71(new_echod):
    with _listening_socket("127.0.0.1") as blocker:
        port = blocker.getsockname()[1]
        d = new_echod(port=port, listen=["127.0.0.1"])
        for foreground in (True, False):
            res = d.run(foreground=foreground)
            assert res.rc == EXIT_OSERR, res
            assert re.search(r"^echod: .*127\.0\.0\.1:%d: Address already in use$"
                             % port, res.stderr, re.M), res.stderr


def test_ipv6_port_in_use_exits_71(new_echod):
    with _listening_socket("::1") as blocker:
        port = blocker.getsockname()[1]
        d = new_echod(port=port, listen=["::1"])
        res = d.run()
        assert res.rc == EXIT_OSERR, res
        assert re.search(r"^echod: .*%d: Address already in use$" % port,
                         res.stderr, re.M), res.stderr


def test_second_instance_same_pidfile_exits_75(new_echod, tmp_path):
    pidfile = str(tmp_path / "echod.pid")
    first = new_echod().start(["-p", pidfile])
    second = new_echod()
    assert second.port != first.port
    res = second.run(["-p", pidfile])
    assert res.rc == EXIT_RUNNING, res
    assert re.search(r"^echod: %s: another echod is running \(pid %d\)$"
                     % (re.escape(pidfile), first.pid), res.stderr, re.M), res.stderr
    with open(pidfile) as f:
        assert f.read() == "%d\n" % first.pid
    with first.connect() as c:
        c.expect(GREETING)
    first.stop()
    assert not os.path.exists(pidfile)


def test_pidfile_that_cannot_be_created_exits_73(new_echod, tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    pidfile = str(not_a_dir / "echod.pid")
    d = new_echod()
    res = d.run(["-p", pidfile])
    assert res.rc == EXIT_CANTCREAT, res
    assert pidfile in res.stderr, res.stderr


def test_pidfile_directory_is_created(new_echod, tmp_path):
    rundir = tmp_path / "run"
    pidfile = rundir / "echod.pid"
    d = new_echod().start(["-p", str(pidfile)])
    assert (os.stat(rundir).st_mode & 0o7777) == 0o755
    assert pidfile.read_text() == "%d\n" % d.pid
    d.stop()
    assert not pidfile.exists()


def test_threads_zero_means_one_per_cpu(start_echod):
    d = start_echod(threads=0)
    d.wait_stderr(r"^echod: echod \S+ started on 127\.0\.0\.1:%d, \[::1\]:%d "
                  r"\(%d threads, max_connections 10000\)$"
                  % (d.port, d.port, os.cpu_count()))
    d.stop()
