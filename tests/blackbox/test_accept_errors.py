"""test_accept_errors.py: accept() failing with an error echod does not list.

Covers: when accept() keeps failing with an errno other than the
descriptor/memory shortages (here EINVAL, from a listening socket that
another holder of it shut down), echod must not spin on the
level-triggered listener event; it logs "pausing accepts for 100 ms" and
must then really pause, that listener alone: the other one still serves.
"""
import os
import socket
import time

import procinfo

def test_unexpected_accept_error_pauses_instead_of_spinning(start_echod):
    d = start_echod(threads=1)
    worker = d.worker_pid()
    lsock = procinfo.listener_copy(worker, d.port)
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
