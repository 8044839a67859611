"""test_urgent.py: a byte the client sends with MSG_OOB (TCP urgent data).

Covers: the urgent byte is part of the client's byte stream and must be
echoed in place, in RFC 862 mode and with the line prefix: the reply
depends only on the bytes sent, not on the flags they were sent with.
"""
import socket

from contract import GREETING


def test_urgent_byte_is_echoed_in_place_rfc862(start_echod):
    d = start_echod(greeting="", reply_prefix="")
    with d.connect() as c:
        c.sock.sendall(b"ab")
        c.sock.send(b"c", socket.MSG_OOB)
        c.sock.sendall(b"d\n")
        c.shutdown_wr()
        data, how = c.recv_to_eof()
        assert how == "eof"
        assert data == b"abcd\n"


def test_urgent_byte_is_echoed_in_place_seed(start_echod):
    d = start_echod()
    with d.connect() as c:
        c.expect(GREETING)
        c.sock.send(b"x", socket.MSG_OOB)
        c.sock.sendall(b"y\n")
        c.expect(b"OK...xy\n", timeout=5)
