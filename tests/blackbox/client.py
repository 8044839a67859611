"""client.py: a TCP client for talking to echod in tests.

Owns: connecting to a loopback address (or finding it refused), sending,
and reading with a deadline (exactly N bytes, up to a marker, up to EOF);
many connects at once, not waited for, and how many completed; a
sender that never reads, to find where echod stops reading.
A timeout becomes an AssertionError that shows what did arrive.
Does not own: what echod is expected to answer (the tests say that).
"""
import socket
import struct
import threading
import time

from waits import DEFAULT_TIMEOUT, Deadline


class Client:
    def __init__(self, host, port, timeout=DEFAULT_TIMEOUT, rcvbuf=None,
                 sndbuf=None):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if sndbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect((host, port))
        except OSError:
            self.sock.close()
            raise
        self.host = host
        self.local_port = self.sock.getsockname()[1]
        self._buf = bytearray()

    @property
    def peer_name(self):
        """This client as echod prints it: 127.0.0.1:PORT or [::1]:PORT."""
        if ":" in self.host:
            return "[%s]:%d" % (self.host, self.local_port)
        return "%s:%d" % (self.host, self.local_port)

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline, what):
        """Reads once into the buffer; returns False on EOF."""
        remaining = deadline.remaining()
        if remaining <= 0:
            raise AssertionError("timed out after %.1f s waiting for %s; "
                                 "got %r" % (deadline.seconds, what,
                                             bytes(self._buf[:300])))
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            raise AssertionError("timed out after %.1f s waiting for %s; "
                                 "got %r" % (deadline.seconds, what,
                                             bytes(self._buf[:300]))) from None
        self._buf += chunk
        return bool(chunk)

    def recv_exact(self, n, timeout=DEFAULT_TIMEOUT):
        """Exactly n bytes; fails on EOF or timeout before that."""
        deadline = Deadline(timeout)
        what = "%d bytes" % n
        while len(self._buf) < n:
            if not self._fill(deadline, what):
                raise AssertionError("EOF after %d of %d bytes; got %r"
                                     % (len(self._buf), n, bytes(self._buf[:300])))
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def expect(self, expected, timeout=DEFAULT_TIMEOUT):
        """Reads len(expected) bytes and asserts they are expected."""
        got = self.recv_exact(len(expected), timeout)
        assert got == expected, "expected %r, got %r" % (expected[:300], got[:300])

    def recv_until(self, marker, timeout=DEFAULT_TIMEOUT):
        """Everything up to and including marker."""
        deadline = Deadline(timeout)
        while marker not in self._buf:
            if not self._fill(deadline, repr(marker)):
                raise AssertionError("EOF before %r; got %r"
                                     % (marker, bytes(self._buf[:300])))
        end = self._buf.index(marker) + len(marker)
        data = bytes(self._buf[:end])
        del self._buf[:end]
        return data

    def recv_to_eof(self, timeout=DEFAULT_TIMEOUT):
        """(data, how): all bytes until the peer closes; how is "eof" or
        "reset". Fails if the connection is still open at the deadline."""
        deadline = Deadline(timeout)
        try:
            while self._fill(deadline, "EOF"):
                pass
            how = "eof"
        except ConnectionResetError:
            how = "reset"
        data = bytes(self._buf)
        self._buf.clear()
        return data, how

    def shutdown_wr(self):
        self.sock.shutdown(socket.SHUT_WR)

    def reset(self):
        """Closes with an RST instead of a FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def connect_refused(host, port):
    """True if a connect() to host:port is refused right now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(DEFAULT_TIMEOUT)
        try:
            s.connect((host, port))
        except ConnectionRefusedError:
            return True
    return False


def connect_many(host, port, n):
    """n non-blocking connects to host:port, not waited for: sockets."""
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        s.setblocking(False)
        s.connect_ex((host, port))
        socks.append(s)
    return socks


def established(socks):
    """How many of socks are connected: accepted by echod, or completed by
    the kernel and waiting in the listen queue."""
    n = 0
    for s in socks:
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            try:
                s.getpeername()
                n += 1
            except OSError:
                pass
    return n


def _sysctl_max(name):
    with open("/proc/sys/net/ipv4/" + name) as f:
        return int(f.read().split()[2])


def kernel_hold_bytes():
    """The most the kernel may hold between a client that never reads and
    echod: echod's receive buffer, both send buffers, the client's
    receive buffer (at most the send buffer's size here)."""
    return _sysctl_max("tcp_rmem") + 2 * _sysctl_max("tcp_wmem")


class Pusher(threading.Thread):
    """Sends up to `target` bytes on a Client and reads nothing; stops when
    no byte goes out for 1.5 s (stalled) or after 30 s. The data has no
    newline: its whole echo is one line."""

    CHUNK = b"x" * 65536

    def __init__(self, client, target):
        super().__init__(daemon=True)
        self.client, self.target = client, target
        self.sent = 0
        self.stalled = False
        self.error = None
        self.done = threading.Event()

    def run(self):
        sock = self.client.sock
        last_progress = time.monotonic()
        give_up = last_progress + 30
        try:
            sock.settimeout(0.25)
            while self.sent < self.target and time.monotonic() < give_up:
                try:
                    self.sent += sock.send(self.CHUNK)
                    last_progress = time.monotonic()
                except TimeoutError:
                    if time.monotonic() - last_progress > 1.5:
                        self.stalled = True
                        break
        except OSError as e:
            self.error = e
        finally:
            self.done.set()
