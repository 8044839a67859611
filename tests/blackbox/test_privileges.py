"""test_privileges.py: the worker process gives up root.

Covers: started as root with user = "nobody", the worker runs as nobody
and nogroup with no supplementary group, no capability in any set (even
when started with inheritable ones) and no_new_privs, while the master (which keeps root to bind and to start
workers) binds a port below 1024 that the worker then serves; an unknown
user or group is a config error naming file, line and key.
"""
import grp
import os
import pwd
import socket

import pytest

import procinfo
from contract import EXIT_CONFIG, GREETING
from echodctl import run_cli


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
    status = {k: procinfo.status_field(worker, k)
              for k in ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff",
                        "CapBnd", "CapAmb", "NoNewPrivs")}
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
