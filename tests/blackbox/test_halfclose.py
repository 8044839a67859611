"""test_halfclose.py: a client that shuts down its sending side.

Covers: after shutdown(SHUT_WR) echod echoes everything it received, then
closes (EOF, not a reset), both for a few bytes and for far more than
buffer_size, which has to flow through the bounded buffer after the
client's FIN.
"""
import os
import threading

from contract import GREETING


def test_half_close_echoes_everything_then_eof(start_echod):
    d = start_echod()
    with d.connect() as c:
        c.send(b"one\ntwo\nthree")
        c.shutdown_wr()
        data, how = c.recv_to_eof()
        assert how == "eof"
        assert data == GREETING + b"OK...one\nOK...two\nOK...three"


def test_half_close_after_more_than_buffer_size(start_echod):
    d = start_echod(greeting="", reply_prefix="", buffer_size=4096)
    payload = os.urandom(1 << 20)
    errors = []
    with d.connect() as c:
        def send_then_shutdown():
            try:
                c.send(payload)
                c.shutdown_wr()
            except OSError as e:
                errors.append(e)

        sender = threading.Thread(target=send_then_shutdown, daemon=True)
        sender.start()
        data, how = c.recv_to_eof(timeout=20)
        sender.join(10)
        assert not errors, errors
        assert how == "eof"
        assert len(data) == len(payload)
        assert data == payload
