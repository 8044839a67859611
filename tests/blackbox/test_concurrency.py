"""test_concurrency.py: many clients at once on a small thread pool.

Covers: 1000 clients connected at the same time to echod with threads = 2;
every one gets the greeting and then exactly its own echo. One thread
drives all the sockets through a selector.
"""
import selectors
import socket
import time

from contract import GREETING

CLIENTS = 1000
DEADLINE = 20.0


def _drive(sel, pending, expected_len, deadline_at):
    """Reads on every socket in pending until it holds expected_len[s]
    bytes; returns what each got. Fails on EOF, error or deadline."""
    got = {s: bytearray() for s in pending}
    for s in pending:
        sel.register(s, selectors.EVENT_READ)
    left = set(pending)
    while left:
        timeout = deadline_at - time.monotonic()
        assert timeout > 0, "%d of %d clients still waiting after %.0f s" % (
            len(left), len(pending), DEADLINE)
        for key, _ in sel.select(min(timeout, 1.0)):
            s = key.fileobj
            try:
                chunk = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                raise AssertionError("a client failed: %s (after %r)"
                                     % (e, bytes(got[s]))) from None
            assert chunk, "a client got EOF after %r" % bytes(got[s])
            got[s] += chunk
            if len(got[s]) >= expected_len[s]:
                sel.unregister(s)
                left.discard(s)
    return got


def test_thousand_concurrent_clients_two_threads(start_echod, nofile):
    nofile(CLIENTS + 256)
    d = start_echod(threads=2)
    deadline_at = time.monotonic() + DEADLINE
    socks = []
    sel = selectors.DefaultSelector()
    try:
        for _ in range(CLIENTS):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            socks.append(s)
            s.connect_ex(("127.0.0.1", d.port))
        greeted = _drive(sel, socks, {s: len(GREETING) for s in socks},
                         deadline_at)
        assert all(bytes(g) == GREETING for g in greeted.values())
        # All CLIENTS are connected at once now; each says who it is.
        messages = {s: b"client %d\n" % i for i, s in enumerate(socks)}
        for s, m in messages.items():
            assert s.send(m) == len(m)
        echoes = _drive(sel, socks, {s: len(m) + 5 for s, m in messages.items()},
                        deadline_at)
        for s, m in messages.items():
            assert bytes(echoes[s]) == b"OK..." + m
    finally:
        sel.close()
        for s in socks:
            s.close()
    assert d.running()
