"""test_accept_errors.py: accept() failing with an error echod does not list.

Covers: when accept() keeps failing with an errno other than the
descriptor/memory shortages (here EINVAL, from a listening socket that
another holder of it shut down), echod must not spin on the
level-triggered listener event; it logs "pausing accepts for 100 ms" and
must then really pause, that listener alone: the other one still serves.
"""
import ctypes
import os
import socket
import time

import procinfo

_libc = ctypes.CDLL(None, use_errno=True)
_SYS_pidfd_getfd = 438


def _listener_copy(pid, port):
    """A copy (pidfd_getfd) of pid's IPv4 listening socket on port."""
    pidfd = os.pidfd_open(pid)
    try:
        for name in os.listdir("/proc/%d/fd" % pid):
            try:
                if not os.readlink("/proc/%d/fd/%s" % (pid, name)).startswith("socket:"):
                    continue
            except OSError:
                continue
            fd = _libc.syscall(_SYS_pidfd_getfd, pidfd, int(name), 0)
            if fd < 0:
                continue
            s = socket.socket(fileno=fd)
            try:
                if (s.family == socket.AF_INET and s.getsockname()[1] == port
                        and s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)):
                    return s
            except OSError:
                pass
            s.close()
    finally:
        os.close(pidfd)
    raise AssertionError("no listening socket on port %d in pid %d" % (port, pid))


def test_unexpected_accept_error_pauses_instead_of_spinning(start_echod):
    d = start_echod(threads=1)
    worker = d.worker_pid()
    lsock = _listener_copy(worker, d.port)
    lsock.shutdown(socket.SHUT_RD)      # leaves LISTEN: EPOLLHUP, accept() -> EINVAL
    d.wait_stderr(r"^echod: accept on 127\.0\.0\.1:\d+ \(pausing accepts")
    before, start = procinfo.cpu_seconds(worker), time.monotonic()
    time.sleep(1.0)
    used = procinfo.cpu_seconds(worker) - before
    lsock.close()
    assert used < 0.3 * (time.monotonic() - start), \
        "echod used %.2f s of CPU in 1 s on a listener whose accept() fails" % used
    # The other listener still serves.
    with d.connect("::1") as c:
        c.recv_until(b"\n")
