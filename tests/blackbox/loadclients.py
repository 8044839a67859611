"""loadclients.py: background client load for the supervision tests.

Owns: a thread that opens short connections in a loop (connect, greeting,
one echo, close) and counts what went wrong, and a thread that keeps many
connections ping-ponging lines and checks every byte of every echo.
Refused, reset and corrupted exchanges are counted, never retried
silently, so a test can assert that there were none. Bounded: each runs
until stopped, and stop() has a deadline.
"""
import selectors
import socket
import threading
import time

from waits import DEFAULT_TIMEOUT


class Churn(threading.Thread):
    """New connections, one after another: each must get a greeting the
    test allows and a correct echo."""

    def __init__(self, port, greetings, prefix=b"OK..."):
        super().__init__(daemon=True)
        self.port, self.prefix = port, prefix
        self.greetings = greetings      # a list the test may append to
        self.served = self.refused = self.reset = self.cut = 0
        self.errors = []
        self.last_greeting = None
        self._halt = threading.Event()

    def _once(self, n):
        with socket.create_connection(("127.0.0.1", self.port),
                                      timeout=DEFAULT_TIMEOUT) as s:
            f = s.makefile("rb")
            greeting = f.readline()
            line = b"churn %d\n" % n
            s.sendall(line)
            echo = f.readline()
        if not greeting or not echo:
            self.cut += 1           # closed by echod mid-exchange
            return
        if greeting not in self.greetings:
            self.errors.append("greeting %r" % greeting)
        if echo != self.prefix + line:
            self.errors.append("echo %r for %r" % (echo, line))
        self.last_greeting = greeting
        self.served += 1

    def run(self):
        n = 0
        while not self._halt.is_set():
            n += 1
            try:
                self._once(n)
            except ConnectionRefusedError:
                self.refused += 1
            except (ConnectionResetError, BrokenPipeError):
                self.reset += 1
            except OSError as e:
                self.errors.append(repr(e))

    def stop(self):
        self._halt.set()
        self.join(DEFAULT_TIMEOUT)
        assert not self.is_alive(), "churn thread did not stop"


class PingPong(threading.Thread):
    """count connections, each sending numbered lines and checking every
    echo byte; connected before the thread starts."""

    def __init__(self, port, count, greeting, prefix=b"OK..."):
        super().__init__(daemon=True)
        self.prefix = prefix
        self.sel = selectors.DefaultSelector()
        self.conns = []
        for i in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=DEFAULT_TIMEOUT)
            s.setblocking(False)
            state = {"sock": s, "id": i, "n": 0, "want": bytearray(greeting),
                     "buf": bytearray()}
            self.conns.append(state)
            self.sel.register(s, selectors.EVENT_READ, state)
        self.round_trips = 0
        self.greeted = 0
        self.errors = []
        self._halt = threading.Event()

    def _send_next(self, st):
        st["n"] += 1
        line = b"conn %d line %d\n" % (st["id"], st["n"])
        st["want"] += self.prefix + line
        st["sock"].sendall(line)

    def _on_readable(self, st):
        try:
            chunk = st["sock"].recv(65536)
        except BlockingIOError:
            return
        except OSError as e:
            self.errors.append("conn %d: %r" % (st["id"], e))
            self.sel.unregister(st["sock"])
            return
        if not chunk:
            self.errors.append("conn %d: closed by echod" % st["id"])
            self.sel.unregister(st["sock"])
            return
        st["buf"] += chunk
        if not st["want"].startswith(bytes(st["buf"][:len(st["want"])])):
            self.errors.append("conn %d: got %r, want %r" % (
                st["id"], bytes(st["buf"][-80:]), bytes(st["want"][-80:])))
            self.sel.unregister(st["sock"])
            return
        if len(st["buf"]) == len(st["want"]):
            st["buf"].clear()
            st["want"].clear()
            if st["n"] == 0:
                self.greeted += 1
            self.round_trips += 1
            if not self._halt.is_set():
                self._send_next(st)

    def run(self):
        while not self._halt.is_set() or any(st["want"] for st in self.conns
                                              if st["sock"].fileno() >= 0
                                              and self._registered(st)):
            for key, _ in self.sel.select(timeout=0.2):
                self._on_readable(key.data)
            if self._halt.is_set() and time.monotonic() > self._halt_deadline:
                self.errors.append("echoes still missing at stop")
                return

    def _registered(self, st):
        try:
            self.sel.get_key(st["sock"])
            return True
        except KeyError:
            return False

    def start(self):
        self._halt_deadline = float("inf")
        super().start()

    def stop(self):
        self._halt_deadline = time.monotonic() + DEFAULT_TIMEOUT
        self._halt.set()
        self.join(DEFAULT_TIMEOUT + 5)
        assert not self.is_alive(), "ping-pong thread did not stop"
        for st in self.conns:
            st["sock"].close()
