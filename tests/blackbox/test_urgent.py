"""test_urgent.py: a byte the client sends with MSG_OOB (TCP urgent data).

Covers: the urgent byte is part of the client's byte stream and must be
echoed in place, in RFC 862 mode and with the line prefix: the reply
depends only on the bytes sent, not on the flags they were sent with;
urgent bytes sent while the connection waits in the listen queue, before
echod accepts it, are not lost either.
"""
import os
import signal
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


def test_urgent_bytes_sent_before_accept_are_echoed_in_place(start_echod):
    """Two urgent bytes, each its own segment, reach the connection while
    it waits to be accepted (the worker is stopped). Without SO_OOBINLINE
    from the start the kernel keeps the first out of band and drops it
    when the second comes."""
    d = start_echod(greeting="", reply_prefix="")
    worker = d.worker_pid()
    os.kill(worker, signal.SIGSTOP)
    try:
        c = d.connect()
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.sock.send(b"x", socket.MSG_OOB)
        c.sock.send(b"y", socket.MSG_OOB)
        c.sock.sendall(b"z\n")
    finally:
        os.kill(worker, signal.SIGCONT)
    c.shutdown_wr()
    assert c.recv_to_eof() == (b"xyz\n", "eof")
    c.close()
