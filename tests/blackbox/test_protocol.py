"""test_protocol.py: the echo protocol seen by one or a few clients.

Covers: the greeting, the reply prefix before every line (and only there),
immediate echo without waiting for the newline, IPv4 and IPv6, config
strings with escapes, RFC 862 mode (byte-exact binary echo of 1 MiB, and
of 16 MiB through a full, wrapped buffer to a slow reader),
bulks of lines sent flat out in random-sized pieces (short and empty
ones; long ones through a full buffer to a slow reader), each line
prefixed and the echo byte-exact, and several clients talking at once
without crosstalk.
"""
import os
import random
import threading

from contract import GREETING, PREFIX


def test_greeting_then_prefixed_echo(start_echod):
    d = start_echod()
    with d.connect() as c:
        c.expect(GREETING)
        c.send(b"abc\n")
        c.expect(b"OK...abc\n")
        c.send(b"second line\n")
        c.expect(b"OK...second line\n")


def test_data_is_echoed_before_the_newline(start_echod):
    d = start_echod()
    with d.connect() as c:
        c.expect(GREETING)
        c.send(b"abc")
        c.expect(b"OK...abc")
        c.send(b"def")
        c.expect(b"def")
        c.send(b"\n")
        c.expect(b"\n")


def test_line_split_over_sends_gets_one_prefix(start_echod):
    d = start_echod()
    with d.connect() as c:
        c.expect(GREETING)
        c.send(b"ab")
        c.expect(b"OK...ab")
        c.send(b"c\nd")
        c.expect(b"c\nOK...d")
        c.send(b"\n")
        c.expect(b"\n")


def test_one_byte_per_send(start_echod):
    d = start_echod()
    with d.connect() as c:
        c.expect(GREETING)
        for ch in b"hello\nworld\n":
            c.send(bytes([ch]))
        c.expect(b"OK...hello\nOK...world\n")


def test_several_lines_in_one_send(start_echod):
    d = start_echod()
    with d.connect() as c:
        c.expect(GREETING)
        c.send(b"x\ny\n\nz\r\nlast")
        c.expect(b"OK...x\nOK...y\nOK...\nOK...z\r\nOK...last")


def test_ipv6_client(start_echod):
    d = start_echod()
    with d.connect("::1") as c:
        c.expect(GREETING)
        c.send(b"over v6\n")
        c.expect(b"OK...over v6\n")


def test_configured_greeting_and_prefix_with_escapes(start_echod):
    greeting = 'say "hi"\t\\ back\r\n'
    d = start_echod(greeting=greeting, reply_prefix="<\"q\">\t")
    with d.connect() as c:
        c.expect(greeting.encode())
        c.send(b"a\nb\n")
        c.expect(b'<"q">\ta\n<"q">\tb\n')


def test_empty_greeting_keeps_prefix(start_echod):
    d = start_echod(greeting="")
    with d.connect() as c:
        c.send(b"first\n")
        c.expect(PREFIX + b"first\n")


def test_rfc862_one_mebibyte_binary_exact(start_echod):
    d = start_echod(greeting="", reply_prefix="")
    payload = os.urandom(1 << 20)
    errors = []
    with d.connect() as c:
        def send():
            try:
                c.send(payload)
            except OSError as e:
                errors.append(e)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        got = c.recv_exact(len(payload), timeout=20)
        sender.join(10)
        assert not sender.is_alive() and not errors, errors
        assert got == payload, "echo differs from what was sent"


def _send_in_pieces(c, data, rng, errors):
    try:
        at = 0
        while at < len(data):
            n = rng.randint(1, 100000)
            c.send(data[at:at + n])
            at += n
    except OSError as e:
        errors.append(e)


def _echo_is_exact(d, rng, data, expected, **client_kw):
    """Sends data flat out in random-sized pieces while reading: what comes
    back is expected, then (after our shutdown) the EOF and nothing more."""
    errors = []
    with d.connect(**client_kw) as c:
        sender = threading.Thread(target=_send_in_pieces, args=(c, data, rng, errors),
                                  daemon=True)
        sender.start()
        got = c.recv_exact(len(expected), timeout=60)
        sender.join(10)
        assert not sender.is_alive() and not errors, errors
        assert got == expected, "echo differs from the reference"
        c.shutdown_wr()
        assert c.recv_to_eof() == (b"", "eof"), "more than the echo came back"


def _bulk_echo_is_exact(d, rng, lines, **client_kw):
    """The lines and a last one without a newline: each echoed line has
    the prefix, after the greeting."""
    data = b"".join(lines) + b"no newline at the end"
    expected = GREETING + b"".join(PREFIX + line for line in lines) \
        + PREFIX + b"no newline at the end"
    _echo_is_exact(d, rng, data, expected, **client_kw)


def test_bulk_short_and_empty_lines_each_prefixed(start_echod):
    """About 2 MiB of lines of 0 to 40 bytes; an empty line's echo is six
    times its size."""
    rng = random.Random(862)
    lines = [bytes(rng.choice(b"abc xyz\t\r\x00\xff") for _ in range(rng.randint(0, 40)))
             + b"\n" for _ in range(100000)]
    _bulk_echo_is_exact(start_echod(), rng, lines)


def test_bulk_long_lines_through_a_full_buffer(start_echod):
    """8 MiB of lines of up to 60 KB to a client with a small receive
    buffer: echod's 1 MiB buffer fills, and echoes of many long lines go
    out from it in pieces."""
    rng = random.Random(1)
    blob = rng.randbytes(8 << 20).replace(b"\n", b"n")
    lines, at = [], 0
    while at < len(blob):
        n = rng.randint(0, 60000)
        lines.append(blob[at:at + n] + b"\n")
        at += n
    _bulk_echo_is_exact(start_echod(buffer_size=1 << 20), rng, lines, rcvbuf=8192)


def test_rfc862_bulk_through_a_full_buffer_to_a_slow_reader(start_echod):
    """16 MiB of binary data to a client with a small receive buffer: more
    than the kernel's buffers hold, so echod's buffer fills, wraps around
    and is sent from in two pieces. The echo is exact, then the EOF."""
    d = start_echod(greeting="", reply_prefix="")
    rng = random.Random(7)
    payload = rng.randbytes(16 << 20)
    _echo_is_exact(d, rng, payload, payload, rcvbuf=8192)


def test_three_clients_each_get_only_their_own_echo(start_echod):
    """The seed scenario: three clients interleave; nobody sees another's data."""
    d = start_echod()
    clients = [d.connect() for _ in range(3)]
    try:
        for c in clients:
            c.expect(GREETING)
        received = {i: bytearray() for i in range(3)}
        rounds = [(0, 1, 2), (2, 0, 1), (1, 2, 0)]
        for r, order in enumerate(rounds):
            for i in order:
                clients[i].send(b"client %d round %d\n" % (i, r))
            for i in reversed(order):
                received[i] += clients[i].recv_until(b"\n")
        # A final marker shows nothing else was queued for anyone.
        for i, c in enumerate(clients):
            c.send(b"end %d\n" % i)
            received[i] += c.recv_until(b"end %d\n" % i)
        for i in range(3):
            expected = b"".join(b"OK...client %d round %d\n" % (i, r)
                                for r in range(3)) + b"OK...end %d\n" % i
            assert bytes(received[i]) == expected
    finally:
        for c in clients:
            c.close()
