"""test_systemd.py: echod under systemd's protocols, without systemd.

Covers: sd_notify messages captured on the test's own NOTIFY_SOCKET
(READY=1 with MAINPID once serving, STATUS= with live counts,
RELOADING=1 then READY=1 around a reload, also a failed one, STOPPING=1
on stop) and the watchdog (WATCHDOG=1 only while the worker's heartbeat
reaches the master); socket activation: under systemd-socket-activate
echod serves the socket it was passed, not the configured port (and
gives it the options of its own listeners), and
refuses to start with more sockets than it serves, with a socket that
is not a listening TCP socket (Accept=yes, a datagram socket), or with
LISTEN_FDS set for it but unreadable (rather than bind its own port);
an MPTCP socket (which has no SO_OOBINLINE) is served.
"""
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

import procinfo
from client import Client, connect_refused
from contract import GREETING
from echodctl import free_port
from waits import Deadline, wait_until


class NotifySocket:
    """An AF_UNIX datagram socket standing in for systemd's."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []

    def read(self, timeout):
        self.sock.settimeout(timeout)
        try:
            self.messages.append(self.sock.recv(4096).decode())
        except socket.timeout:
            pass

    def wait_for(self, text, timeout=10):
        """Reads until a message holding text arrives after the ones seen."""
        start = len(self.messages)
        deadline = Deadline(timeout)
        while not deadline.expired():
            if any(text in m for m in self.messages[start:]):
                return [m for m in self.messages[start:] if text in m][0]
            self.read(deadline.remaining() or 0.01)
        raise AssertionError("no %r from echod in %.0f s; got %r"
                             % (text, timeout, self.messages[start:]))


def _notify_echod(new_echod, tmp_path, monkeypatch, **settings):
    ns = NotifySocket(str(tmp_path / "notify.sock"))
    monkeypatch.setenv("NOTIFY_SOCKET", ns.path)
    d = new_echod(**settings).start()
    return d, ns


def test_notify_ready_status_reload_stop(new_echod, tmp_path, monkeypatch):
    d, ns = _notify_echod(new_echod, tmp_path, monkeypatch)
    ready = ns.wait_for("READY=1")
    assert "MAINPID=%d" % d.pid in ready, ready
    with d.connect() as c:
        c.expect(GREETING)
        status = ns.wait_for("STATUS=1 connections open")
        assert status.endswith("served, 2 threads"), status

    d.write_config(greeting="new\n")
    d.signal(signal.SIGHUP)
    ns.wait_for("RELOADING=1")
    ns.wait_for("READY=1")
    d.write_config_text("port = ;\n")
    d.signal(signal.SIGHUP)
    ns.wait_for("RELOADING=1")
    ns.wait_for("READY=1")

    d.signal(signal.SIGTERM)
    ns.wait_for("STOPPING=1")
    assert d.wait_exit() == 0


def test_watchdog_fed_only_while_the_worker_answers(new_echod, tmp_path, monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")
    d, ns = _notify_echod(new_echod, tmp_path, monkeypatch)
    ns.wait_for("WATCHDOG=1")
    worker = d.worker_pid()
    os.kill(worker, signal.SIGSTOP)
    try:
        # The master trusts a heartbeat for 2.5 s; then it must stop feeding.
        stale = Deadline(3.0)
        while not stale.expired():
            ns.read(stale.remaining() or 0.01)
        quiet_from = len(ns.messages)
        deadline = Deadline(2.5)
        while not deadline.expired():
            ns.read(deadline.remaining() or 0.01)
        assert not any("WATCHDOG=1" in m for m in ns.messages[quiet_from:]), \
            "WATCHDOG=1 sent while the worker was stopped"
    finally:
        os.kill(worker, signal.SIGCONT)
    ns.wait_for("WATCHDOG=1", timeout=5)
    d.stop()


def test_watchdog_fed_while_sigusr1_comes_often(new_echod, tmp_path, monkeypatch):
    """Each SIGUSR1 (a stats request) used to restart the worker's wait
    for its next heartbeat: asked every 0.3 s, it never sent one, and
    after 2.5 s the master stopped feeding a healthy worker's watchdog."""
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")
    d, ns = _notify_echod(new_echod, tmp_path, monkeypatch)
    ns.wait_for("WATCHDOG=1")
    asking = Deadline(4.5)
    late_from = None                    # the messages after 3 s of requests
    while not asking.expired():
        d.signal(signal.SIGUSR1)
        pause = Deadline(0.3)           # the pace of the requests
        while not pause.expired():
            ns.read(pause.remaining() or 0.01)
        if late_from is None and asking.remaining() < 1.5:
            late_from = len(ns.messages)
    assert any("WATCHDOG=1" in m for m in ns.messages[late_from:]), \
        "no WATCHDOG=1 after 3 s of SIGUSR1 every 0.3 s"
    d.stop()


def test_status_follows_a_drain(new_echod, tmp_path, monkeypatch):
    """A worker replaced by a reload reports its open connections while it
    drains, not the count it had when it stopped accepting."""
    d, ns = _notify_echod(new_echod, tmp_path, monkeypatch, shutdown_timeout=30)
    d.wait_probes_gone()
    clients = [d.connect() for _ in range(5)]
    for c in clients:
        c.expect(GREETING)
    ns.wait_for("STATUS=5 connections open")
    d.signal(signal.SIGHUP)
    ns.wait_for("READY=1")
    for c in clients[1:]:
        c.close()
    ns.wait_for("STATUS=1 connections open")
    clients[0].close()
    d.stop()


def test_short_watchdog_is_fed_without_spinning(new_echod, tmp_path, monkeypatch):
    """A WATCHDOG_USEC under 4 ms once made the feeding interval 0 ms: the
    master spun at a full core. It must feed at least every millisecond
    and still mostly sleep."""
    monkeypatch.setenv("WATCHDOG_USEC", "3000")
    d, ns = _notify_echod(new_echod, tmp_path, monkeypatch)
    ns.wait_for("WATCHDOG=1")
    fed_from = len(ns.messages)
    cpu_from = procinfo.cpu_seconds(d.pid)
    window = Deadline(1.0)              # the span the CPU time is measured over
    while not window.expired():
        ns.read(window.remaining() or 0.01)
    used = procinfo.cpu_seconds(d.pid) - cpu_from
    fed = sum("WATCHDOG=1" in m for m in ns.messages[fed_from:])
    assert fed >= 300, "WATCHDOG=1 only %d times in 1 s with a 3 ms watchdog" % fed
    assert used < 0.5, "the master used %.2f s of CPU in 1 s" % used
    # Read on while it stops, as systemd would: a full notify socket
    # blocks the master's sd_notify().
    d.signal(signal.SIGTERM)
    wait_until(lambda: (ns.read(0.01), d.proc.poll() is not None)[1],
               what="echod to stop")
    assert d.proc.returncode == 0


def test_socket_activation(new_echod, tmp_path):
    d = new_echod()             # its config names another port
    port = free_port()
    err = open(str(tmp_path / "activate.err"), "w")
    proc = subprocess.Popen(["systemd-socket-activate", "-l", "127.0.0.1:%d" % port,
                             d.binary, "-f", "-c", d.conf],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=err)
    try:
        def served():
            try:
                c = Client("127.0.0.1", port, timeout=2)
            except ConnectionRefusedError:
                return None
            return c
        c = wait_until(served, what="the activated socket to accept")
        c.expect(GREETING)
        # This connection queued before echod ran, so before it set the
        # options on the socket: it sets them on the connection itself.
        c.send(b"act")
        c.sock.send(b"i", socket.MSG_OOB)
        c.send(b"vated\n")
        c.expect(b"OK...activated\n")
        c.close()
        wait_until(lambda: "started on 127.0.0.1:%d " % port in open(err.name).read(),
                   what=lambda: "the start line; stderr:\n" + open(err.name).read())
        assert not _listening(d.port), \
            "echod bound its configured port despite socket activation"
        # The socket systemd made has the options echod's own have, which
        # the connections waiting to be accepted inherit.
        with procinfo.listener_copy(proc.pid, port) as lsock:
            assert lsock.getsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE) == 1
            assert lsock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
        err.close()


def _listening(port):
    try:
        Client("127.0.0.1", port, timeout=1).close()
        return True
    except ConnectionRefusedError:
        return False


def test_more_activated_sockets_than_echod_serves(new_echod, tmp_path):
    """Sockets past the 16th would take clients that wait forever: echod
    refuses to start instead, and says why."""
    d = new_echod()
    ports = [free_port() for _ in range(17)]
    argv = ["systemd-socket-activate"]
    for port in ports:
        argv += ["-l", "127.0.0.1:%d" % port]
    err = open(str(tmp_path / "activate.err"), "w")
    proc = subprocess.Popen(argv + [d.binary, "-f", "-c", d.conf],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=err)
    try:
        # The first connection that is not refused starts echod, which
        # then closes every socket as it exits.
        wait_until(lambda: not connect_refused("127.0.0.1", ports[0]),
                   what="systemd-socket-activate to listen")
        assert proc.wait(10) == 71
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = open(err.name).read()
    assert "systemd passed 17 sockets; echod serves at most 16" in text, text


def _activated_refusal(new_echod, tmp_path, mode, knock):
    """Starts echod under systemd-socket-activate in mode; knock(port)
    makes the activator start it. Returns echod's stderr once it has
    refused, and the activator's exit status if it ended (without
    --accept it becomes echod) within 10 s, else None."""
    d = new_echod()
    port = free_port()
    err = open(str(tmp_path / "activate.err"), "w")
    proc = subprocess.Popen(["systemd-socket-activate", mode, "-l",
                             "127.0.0.1:%d" % port, d.binary, "-f", "-c", d.conf],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=err)
    try:
        wait_until(lambda: "Listening on" in open(err.name).read(),
                   what="systemd-socket-activate to listen")
        knock(port)
        wait_until(lambda: "systemd is not a listening TCP socket" in open(err.name).read(),
                   what=lambda: "echod to refuse the socket; stderr:\n" + open(err.name).read())
        rc = None
        if mode != "--accept":
            rc = proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)
        err.close()
    return open(err.name).read(), rc


def test_accept_yes_socket_is_refused(new_echod, tmp_path):
    """Under Accept=yes systemd passes one connection, not a listening
    socket: echod must say so, not start and leave the client waiting."""
    clients = []

    def knock(port):
        clients.append(socket.create_connection(("127.0.0.1", port), timeout=5))
    text, _ = _activated_refusal(new_echod, tmp_path, "--accept", knock)
    try:
        # echod has exited: the connection it was passed is closed.
        assert clients[0].recv(1) == b""
    finally:
        for c in clients:
            c.close()
    assert "socket 3 from systemd is not a listening TCP socket: echod needs " \
        "ListenStream= and Accept=no" in text, text
    assert " started on " not in text, text


def test_datagram_socket_is_refused(new_echod, tmp_path):
    def knock(port):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"hello\n", ("127.0.0.1", port))
    text, rc = _activated_refusal(new_echod, tmp_path, "--datagram", knock)
    assert "socket 3 from systemd is not a listening TCP socket" in text, text
    assert " started on " not in text, text
    assert rc == 71, (rc, text)


def test_unreadable_listen_fds_is_refused(new_echod):
    """LISTEN_PID names echod but LISTEN_FDS is not a number: echod must
    not take that for "no sockets" and bind its configured port."""
    d = new_echod()
    res = subprocess.run(["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=x exec "$@"', "sh",
                          d.binary, "-f", "-c", d.conf],
                         stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    text = res.stderr.decode()
    assert res.returncode == 71, (res.returncode, text)
    assert "LISTEN_PID and LISTEN_FDS from systemd cannot be read: Invalid argument" \
        in text, text
    assert " started on " not in text, text


def test_mptcp_socket_is_served(new_echod):
    """A socket unit with SocketProtocol=mptcp passes an MPTCP listening
    socket, which refuses SO_OOBINLINE: echod serves it all the same."""
    try:
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)  # IPPROTO_MPTCP
    except OSError as e:
        pytest.skip("no MPTCP in this kernel: %s" % e)
    d = new_echod()
    with lsock:
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(16)
        port = lsock.getsockname()[1]
        fd = lsock.fileno()
        # As systemd passes it: descriptor 3, LISTEN_PID the process's own.
        script = ("import os, sys; os.dup2(int(sys.argv[1]), 3); "
                  "os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='1'); "
                  "os.execv(sys.argv[2], sys.argv[2:])")
        with open(d.stderr_path, "w") as err:
            proc = subprocess.Popen([sys.executable, "-c", script, str(fd),
                                     d.binary, "-f", "-c", d.conf],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=err, pass_fds=(fd,))
    try:
        c = wait_until(lambda: _client_or_none(port), what=lambda: "echod to serve the "
                       "MPTCP socket; stderr:\n" + open(d.stderr_path).read())
        with c:
            c.expect(GREETING)
            c.send(b"mptcp\n")
            c.expect(b"OK...mptcp\n")
    finally:
        proc.terminate()
        assert proc.wait(10) == 0, open(d.stderr_path).read()


def _client_or_none(port):
    try:
        return Client("127.0.0.1", port, timeout=2)
    except OSError:
        return None
