"""test_privileges.py: the worker process gives up root.

Covers: started as root with user = "nobody", the worker runs as nobody
and nogroup with no supplementary group, no capability in any set (even
when started with inheritable ones) and no_new_privs, while the master
(which keeps root to bind and to start workers) binds a port below 1024
that the worker then serves; an unknown user or group is a config error
naming file, line and key. A worker running as another user still hears
its master die from the kernel (PR_SET_PDEATHSIG, which a change of user
clears, is set after it).
"""
import grp
import os
import pwd
import socket

import pytest

import procinfo
from contract import EXIT_CONFIG, GREETING
from echodctl import run_cli
from waits import wait_until


def _free_low_port():
    for port in range(990, 900, -1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port below 1024 on 127.0.0.1")


def test_worker_drops_to_user(new_echod):
    if os.geteuid() != 0:
        pytest.skip("needs root: echod only changes user when started as root")
    nobody = pwd.getpwnam("nobody")
    d = new_echod(user="nobody", listen=["127.0.0.1"])
    d.settings["port"] = _free_low_port()
    d.fixed_port = True
    d.write_config()
    # Started with inheritable capabilities, which a change of user keeps.
    plain_argv = d.argv
    d.argv = lambda *a, **kw: (["setpriv", "--inh-caps", "+net_bind_service,+net_raw", "--"]
                               + plain_argv(*a, **kw))
    d.start()
    assert int(procinfo.status_field(d.pid, "CapInh"), 16) != 0
    worker = d.worker_pid()
    # Every thread: capabilities and no_new_privs are per thread in Linux.
    for tid in os.listdir("/proc/%d/task" % worker):
        status = {k: procinfo.status_field(worker, k, tid=int(tid))
                  for k in ("Name", "Uid", "Gid", "Groups", "CapInh", "CapPrm",
                            "CapEff", "CapBnd", "CapAmb", "NoNewPrivs")}
        assert status["Uid"].split() == [str(nobody.pw_uid)] * 4, status
        assert status["Gid"].split() == [str(nobody.pw_gid)] * 4, status
        assert status["Groups"] == "", status
        for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert int(status[cap], 16) == 0, status
        assert status["NoNewPrivs"] == "1", status
    assert procinfo.status_field(d.pid, "Uid").split()[0] == "0"
    with d.connect() as c:
        c.expect(GREETING)
        c.send(b"low port\n")
        c.expect(b"OK...low port\n")
    d.stop()


def test_unknown_user_and_group_are_config_errors(new_echod, echod_binary):
    d = new_echod()
    d.write_config_text('user = "no-such-user-echod";\n'
                        'group = "no-such-group-echod";\n')
    res = run_cli(echod_binary, ["-t", "-c", d.conf])
    assert res.rc == EXIT_CONFIG
    assert '%s:1: user: no such user "no-such-user-echod"' % d.conf in res.stderr
    assert '%s:2: group: no such group "no-such-group-echod"' % d.conf in res.stderr


def test_group_needs_user(new_echod, echod_binary):
    d = new_echod()
    d.write_config_text('group = "%s";\n' % grp.getgrgid(0).gr_name)
    res = run_cli(echod_binary, ["-t", "-c", d.conf])
    assert res.rc == EXIT_CONFIG
    assert "%s:1: group: needs user to be set too" % d.conf in res.stderr


@pytest.mark.parametrize("user", ["", "nobody"])
def test_worker_hears_its_master_die_after_changing_user(start_echod, user):
    """The kernel's signal (PR_SET_PDEATHSIG) reaches the worker when the
    master dies, also when the worker runs as another user: a change of
    user clears the setting, so it must come after. The test holds the
    status pipe's read end, so the heartbeat cannot tell the worker."""
    if os.geteuid() != 0:
        pytest.skip("needs root: echod only changes user when started as root")
    d = start_echod(user=user, threads=1, listen=["127.0.0.1"])
    worker = d.worker_pid()
    pipes = [int(fd) for fd in os.listdir("/proc/%d/fd" % d.pid)
             if procinfo.fd_target(d.pid, int(fd)).startswith("pipe:")]
    assert len(pipes) == 1, pipes
    held = os.open("/proc/%d/fd/%d" % (d.pid, pipes[0]), os.O_RDONLY | os.O_NONBLOCK)
    try:
        d.proc.kill()
        d.proc.wait(5)
        d.wait_stderr(r"^echod: the master process is gone: stopping", timeout=5)
        wait_until(lambda: not procinfo.alive(worker), timeout=5,
                   what="the orphaned worker to exit")
    finally:
        os.close(held)
        procinfo.kill_all([worker])
