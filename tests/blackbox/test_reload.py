"""test_reload.py: SIGHUP reloads the config file.

Covers: a good config applies to new connections (greeting, reply_prefix,
idle_timeout, shutdown_timeout) while existing connections keep the settings they started
with, and "reloaded FILE" is logged; a broken config is refused with every
error logged as FILE:LINE: KEY: TEXT plus "reload failed, keeping the
running configuration", and serving goes on unchanged; a changed port
moves the service there while a client of the old port stays served, and
a changed listen list closes and opens addresses; a changed backlog
applies to the sockets kept; log.level applies to the new worker's
lines, max_connections and buffer_size to its clients; a
changed pidfile is warned about, unless -p names the pidfile; with 64
worker processes draining, a reload fails, says why, and serving goes on.
"""
import os
import re
import signal
import subprocess
import time

import pytest

import confwriter
import procinfo
from client import Client, Pusher, connect_refused, kernel_hold_bytes
from contract import GREETING
from echodctl import free_port
from waits import wait_until


def _reload(d):
    """Sends SIGHUP and waits for the n-th "reloaded" line."""
    before = len(re.findall(r"^echod: reloaded ", d.stderr(), re.M))
    d.signal(signal.SIGHUP)
    wait_until(lambda: len(re.findall(r"^echod: reloaded %s$" % re.escape(d.conf),
                                      d.stderr(), re.M)) > before,
               what=lambda: "\"reloaded %s\" on stderr:\n%s" % (d.conf, d.stderr()))


def test_reload_applies_to_new_connections_only(start_echod):
    d = start_echod(greeting="one\n", reply_prefix="A>")
    old = d.connect()
    old.expect(b"one\n")

    d.write_config(greeting="two\n", reply_prefix="B>")
    _reload(d)

    with d.connect() as new:
        new.expect(b"two\n")
        new.send(b"x\n")
        new.expect(b"B>x\n")
    old.send(b"y\nz")
    old.expect(b"A>y\nA>z")
    old.close()
    d.stop()


def test_reload_idle_timeout_applies_to_new_connections_only(start_echod):
    d = start_echod(greeting="hi\n", idle_timeout=0)
    old = d.connect()
    old.expect(b"hi\n")
    d.write_config(idle_timeout=1)
    _reload(d)

    new = d.connect()
    new.expect(b"hi\n")
    started = time.monotonic()
    data, _ = new.recv_to_eof(timeout=5)
    assert data == b""
    assert time.monotonic() - started >= 0.9
    # The old connection (idle_timeout 0 = never) outlived the new one's
    # timeout by well over a second and still works.
    wait_until(lambda: time.monotonic() - started >= 2.5, timeout=3)
    old.send(b"alive\n")
    old.expect(b"OK...alive\n")
    old.close()
    new.close()
    d.stop()


def test_broken_config_on_reload_keeps_running_config(start_echod):
    d = start_echod(greeting="one\n")
    text = confwriter.render(dict(d.settings, greeting="two\n", threads=5000,
                                  frobnicate=1))
    d.write_config_text(text)
    d.signal(signal.SIGHUP)

    d.wait_stderr(r"^echod: reload failed, keeping the running configuration$")
    errors = d.stderr()
    conf = re.escape(d.conf)
    assert re.search(r"^echod: %s:%d: threads: must be an integer from 0 to 1024$"
                     % (conf, confwriter.line_of(text, "threads")), errors, re.M), errors
    assert re.search(r"^echod: %s:%d: frobnicate: unknown setting$"
                     % (conf, confwriter.line_of(text, "frobnicate")), errors, re.M), errors
    assert not re.search(r"^echod: reloaded ", errors, re.M)

    with d.connect() as c:
        c.expect(b"one\n")
        c.send(b"ok?\n")
        c.expect(b"OK...ok?\n")

    # A later good reload still works.
    d.write_config(greeting="three\n")
    _reload(d)
    with d.connect() as c:
        c.expect(b"three\n")
    d.stop()


def test_reload_with_syntax_error_keeps_serving(start_echod):
    d = start_echod(greeting="one\n")
    text = confwriter.render(dict(d.settings, greeting="two\n")) + "backlog = ;\n"
    d.write_config_text(text)
    d.signal(signal.SIGHUP)
    d.wait_stderr(r"^echod: reload failed, keeping the running configuration$")
    assert re.search(r"^echod: %s:%d: syntax error" % (re.escape(d.conf),
                                                     text.count("\n")),
                     d.stderr(), re.M), d.stderr()
    with d.connect() as c:
        c.expect(b"one\n")
    d.stop()


@pytest.mark.parametrize("target", ["directory", "fifo"])
def test_reload_including_a_directory_or_fifo_keeps_serving(start_echod, target):
    """libconfig alone exited echod (status 2) reading a directory it
    included, and waited for ever on a FIFO: echod reads includes itself."""
    d = start_echod(greeting="one\n")
    path = os.path.join(d.dir, "inc")
    if target == "directory":
        os.mkdir(path)
    else:
        os.mkfifo(path)
    text = confwriter.render(dict(d.settings, greeting="two\n")) + '@include "inc"\n'
    d.write_config_text(text)
    d.signal(signal.SIGHUP)
    d.wait_stderr(r"^echod: reload failed, keeping the running configuration$")
    d.wait_stderr(r'^echod: %s:%d: @include "inc": cannot open: %s$'
                  % (re.escape(d.conf), text.count("\n"),
                     "Is a directory" if target == "directory" else "not a regular file"))
    with d.connect() as c:
        c.expect(b"one\n")
    d.stop()


@pytest.mark.parametrize("dirs", [3, 6])
def test_reload_error_of_a_long_path_is_logged(start_echod, tmp_path, dirs):
    """A reload's errors go through the logger thread's queue, whose lines
    were cut at 511 bytes without a mark: with a config path of over 600
    characters the line ended inside the path. Now a line is whole up to
    1023 bytes (600: whole), and a longer one ends in "..." (1200)."""
    deep = tmp_path
    for _ in range(dirs):
        deep = deep / ("d" * 200)
    d = start_echod(workdir=str(deep))
    d.write_config(threads=5000)
    d.signal(signal.SIGHUP)
    d.wait_stderr(r"^echod: reload failed, keeping the running configuration$")
    text = "%s:%d: threads: must be an integer from 0 to 1024" % (
        d.conf, confwriter.line_of(confwriter.render(d.settings), "threads"))
    if len(text) > 1023:
        text = text[:1020] + "..."
    assert "echod: %s\n" % text in d.stderr(), d.stderr()
    d.stop()


def test_reload_moves_to_a_new_port(start_echod):
    d = start_echod(greeting="one\n")
    old_port, new_port = d.port, free_port()
    before = Client("127.0.0.1", old_port)
    before.expect(b"one\n")
    d.write_config(port=new_port, greeting="two\n")
    _reload(d)
    with Client("127.0.0.1", new_port) as c:
        c.expect(b"two\n")
    wait_until(lambda: connect_refused("127.0.0.1", old_port),
               what="the old port to be closed after the reload")
    before.send(b"still\n")
    before.expect(b"OK...still\n")
    before.close()
    d.stop()


def test_reload_changes_the_listen_addresses(start_echod):
    """listen from 127.0.0.1 to ::1 on the same port: the dropped address
    is closed, the new one served with the new config."""
    d = start_echod(listen=["127.0.0.1"], greeting="one\n")
    d.write_config(listen=["::1"], greeting="two\n")
    _reload(d)
    with Client("::1", d.port) as c:
        c.expect(b"two\n")
    wait_until(lambda: connect_refused("127.0.0.1", d.port),
               what="127.0.0.1 to be closed after the reload")
    d.stop()


def _backlogs(port):
    """The backlog of each socket listening on port: what ss shows as the
    Send-Q of a listening socket."""
    out = subprocess.run(["ss", "-Hltn", "sport = :%d" % port], check=True,
                         capture_output=True, text=True).stdout
    return sorted(int(line.split()[2]) for line in out.splitlines())


def test_reload_changes_the_backlog(start_echod):
    d = start_echod(backlog=16, listen=["127.0.0.1", "::1"])
    assert _backlogs(d.port) == [16, 16]
    d.write_config(backlog=5)
    _reload(d)
    assert _backlogs(d.port) == [5, 5]
    d.stop()


def test_reload_changes_buffer_size(start_echod):
    """buffer_size 4096 to 8 MiB: the new worker holds up to 8 MiB of a
    client that reads none of its echo, so its resident memory grows by
    about that much (the old one would hold 4 KiB)."""
    d = start_echod(buffer_size=4096, greeting="", reply_prefix="")
    d.write_config(buffer_size=8 << 20)
    _reload(d)
    worker = d.worker_pid()
    before = procinfo.rss_bytes(worker)
    heavy = d.connect(rcvbuf=4096, sndbuf=65536)
    pusher = Pusher(heavy, kernel_hold_bytes() + (24 << 20))
    pusher.start()
    wait_until(pusher.done.is_set, 40, what="the pusher to stall or finish")
    assert pusher.error is None and pusher.stalled, (pusher.error, pusher.sent)
    grown = procinfo.rss_bytes(worker) - before
    assert grown >= 6 << 20, "the worker's VmRSS grew by %d bytes" % grown
    heavy.close()
    d.stop()


def test_reload_changes_log_level(start_echod):
    """log.level from notice to info: a client of the old worker is not
    logged, one of the new worker is (its connect line is info)."""
    d = start_echod(greeting="one\n", log={"level": "notice"})
    with d.connect() as before:
        before.expect(b"one\n")
    d.write_config(greeting="two\n", log={"level": "info"})
    d.signal(signal.SIGHUP)
    wait_until(lambda: _greeting_of(d) == b"two\n", what="the reloaded greeting")
    with d.connect() as after:
        after.expect(b"two\n")
    d.wait_stderr(r"^echod: connect from 127\.0\.0\.1:%d " % after.local_port)
    assert "connect from 127.0.0.1:%d " % before.local_port not in d.stderr(), d.stderr()
    d.stop()


def _greeting_of(d):
    with d.connect() as c:
        return c.recv_until(b"\n")


def test_reload_changes_max_connections(start_echod):
    """max_connections 1 to 2: the new worker process serves two clients
    at once and refuses the third."""
    d = start_echod(max_connections=1, greeting="one\n")
    d.write_config(max_connections=2, greeting="two\n")
    _reload(d)
    d.wait_probes_gone()
    first, second = d.connect(), d.connect()
    first.expect(b"two\n")
    second.expect(b"two\n")
    with d.connect() as third:
        assert third.recv_to_eof(timeout=5)[0] == b""
    d.wait_stderr(r"^echod: disconnect 127\.0\.0\.1:%d \(conn \d+\): limit .*"
                  r"max_connections \(2\) reached" % third.local_port)
    first.close()
    second.close()
    d.stop()


def test_reload_applies_shutdown_timeout_to_the_next_stop(start_echod):
    d = start_echod(greeting="hi\n", shutdown_timeout=60)
    lingering = d.connect()
    lingering.expect(b"hi\n")
    d.write_config(shutdown_timeout=1)
    _reload(d)

    d.signal(signal.SIGTERM)
    d.wait_stderr(r"^echod: stopping on SIGTERM \(\d+ connections open, "
                  r"waiting up to 1 s\)$")
    data, _ = lingering.recv_to_eof(timeout=8)
    assert data == b""
    assert d.wait_exit(timeout=8) == 0
    lingering.close()


def _reload_pidfile_change(d):
    d.write_config(pidfile=os.path.join(str(d.dir), "other.pid"))
    _reload(d)
    return [l for l in d.stderr_lines() if "a pidfile change needs a restart" in l]


def test_reload_warns_of_a_pidfile_change(start_echod, tmp_path):
    d = start_echod(pidfile=str(tmp_path / "one.pid"))
    assert _reload_pidfile_change(d) == \
        ["echod: reload: a pidfile change needs a restart"]
    d.stop()


def test_reload_pidfile_change_is_moot_under_p(new_echod, tmp_path):
    """With -p the config's pidfile is never used: nothing to warn of."""
    d = new_echod(pidfile=str(tmp_path / "one.pid"))
    d.start(args=["-p", str(tmp_path / "cli.pid")])
    assert _reload_pidfile_change(d) == []
    d.stop()


def test_reload_refused_while_64_workers_drain(start_echod):
    """Each reload leaves the replaced worker draining its client; with 64
    worker processes (the most) a further reload fails, says why, and the
    serving worker goes on serving."""
    d = start_echod(threads=1, shutdown_timeout=60)
    d.wait_probes_gone()
    clients = []
    try:
        for _ in range(63):
            c = d.connect()
            c.expect(GREETING)
            clients.append(c)
            _reload(d)
        c = d.connect()
        c.expect(GREETING)
        clients.append(c)
        d.signal(signal.SIGHUP)
        d.wait_stderr(r"^echod: 64 worker processes are still draining: "
                      r"not starting another$")
        d.wait_stderr(r"^echod: reload failed: the new worker could not be "
                      r"started before serving; keeping the running configuration$")
        with d.connect() as new:
            new.expect(GREETING)
            new.send(b"still\n")
            new.expect(b"OK...still\n")
        for c in clients[-3:]:          # drained clients are still served
            c.send(b"x\n")
            c.expect(b"OK...x\n")
    finally:
        for c in clients:
            c.close()
    d.stop()
