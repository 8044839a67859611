"""syslogcap.py: captures what echod sends to syslog.

Owns: the AF_UNIX datagram socket that stands in for /dev/log, the thread
that reads it (which a test can pause, to play a stalled syslog), parsing
"<PRI>Mmm dd hh:mm:ss echod[PID]: message" into facility and severity,
and the command prefix that runs echod in a private mount namespace
where /dev/log is that socket. Does not own: starting echod (echodctl.py).

There is no syslog daemon on the test machines, and /dev/log must not be
touched on the host, so echod gets its own /dev: a tmpfs holding
null/zero/random/urandom (bind-mounted from the real /dev, kept reachable
under $T/realdev) and a /dev/log that is a bind mount of our socket.
"""
import collections
import os
import re
import select
import socket
import subprocess
import tempfile
import threading

import pytest

from waits import DEFAULT_TIMEOUT, Deadline

FACILITIES = {"kern": 0, "user": 1, "daemon": 3, "local0": 16, "local1": 17,
              "local2": 18, "local3": 19, "local4": 20, "local5": 21,
              "local6": 22, "local7": 23}
SEVERITIES = {"emerg": 0, "alert": 1, "crit": 2, "err": 3, "warning": 4,
              "notice": 5, "info": 6, "debug": 7}

_LINE = re.compile(r"<(\d{1,3})>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) "
                   r"([^\[\]: ]+)\[(\d+)\]: (.*)", re.S)

# Runs as `sh -c SETUP sh T ARGV...` inside the new mount namespace.
_SETUP = r'''
set -e
T=$1; shift
mkdir -p "$T/realdev"
mount --rbind /dev "$T/realdev"
mount -t tmpfs -o mode=0755,size=64k echod-test-dev /dev
for n in null zero random urandom; do
    : > "/dev/$n"
    mount --bind "$T/realdev/$n" "/dev/$n"
done
: > /dev/log
mount --bind "$T/log.sock" /dev/log
exec "$@"
'''

Record = collections.namedtuple(
    "Record", "facility severity stamp ident pid text raw")


def parse(raw):
    """A Record for one datagram; facility is None if it does not parse."""
    text = raw.decode("utf-8", "replace")
    m = _LINE.fullmatch(text.rstrip("\n"))
    if not m:
        return Record(None, None, None, None, None, text, raw)
    pri = int(m.group(1))
    return Record(pri >> 3, pri & 7, m.group(2), m.group(3),
                  int(m.group(4)), m.group(5), raw)


class SyslogCapture:
    def __init__(self):
        # Short path: AF_UNIX addresses are limited to 108 bytes.
        self.dir = tempfile.mkdtemp(prefix="echod-log-")
        self.path = os.path.join(self.dir, "log.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind(self.path)
        self._records = []
        self._cond = threading.Condition()
        self._reading = threading.Event()
        self._reading.set()
        self._stop = False
        try:
            self.prefix = self._namespace_prefix()
        except BaseException:
            self._remove_files()
            raise
        self._thread = threading.Thread(target=self._read_loop, daemon=True)
        self._thread.start()

    # -- the namespace -------------------------------------------------

    def _namespace_prefix(self):
        """The unshare command that works here; fails the test if none does."""
        candidates = []
        if os.geteuid() == 0:
            candidates.append(["unshare", "--mount", "--propagation", "private"])
        candidates.append(["unshare", "--mount", "--map-root-user",
                           "--propagation", "private"])
        errors = []
        for prefix in candidates:
            cmd = prefix + ["sh", "-c", _SETUP, "sh", self.dir,
                            "sh", "-c", "test -S /dev/log && test -c /dev/null"]
            try:
                res = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                                     capture_output=True, timeout=DEFAULT_TIMEOUT)
            except (OSError, subprocess.TimeoutExpired) as e:
                errors.append("%s: %s" % (" ".join(prefix), e))
                continue
            if res.returncode == 0:
                return prefix
            errors.append("%s: exit %d: %s" % (" ".join(prefix), res.returncode,
                                                res.stderr.decode(errors="replace").strip()))
        pytest.fail("cannot capture syslog: no private mount namespace with a "
                    "fake /dev/log could be made:\n  " + "\n  ".join(errors),
                    pytrace=False)

    def wrap(self, argv):
        """argv run inside the namespace, with the same pid (exec chain)."""
        return self.prefix + ["sh", "-c", _SETUP, "sh", self.dir] + list(argv)

    # -- reading ---------------------------------------------------------

    def _read_loop(self):
        while not self._stop:
            if not self._reading.wait(0.1):
                continue
            ready, _, _ = select.select([self.sock], [], [], 0.1)
            if not ready or not self._reading.is_set():
                continue
            try:
                raw = self.sock.recv(65536)
            except OSError:
                return
            with self._cond:
                self._records.append(parse(raw))
                self._cond.notify_all()

    def pause(self):
        """Stops reading the socket: its queue fills and senders block."""
        self._reading.clear()

    def resume(self):
        self._reading.set()

    def records(self):
        with self._cond:
            return list(self._records)

    def find(self, pattern):
        """Records whose text matches pattern (re.search)."""
        rx = re.compile(pattern)
        return [r for r in self.records() if rx.search(r.text)]

    def wait_for(self, pattern, timeout=DEFAULT_TIMEOUT, nudge=None):
        """The first record whose text matches pattern; fails at the deadline.

        nudge, if given, is called about once a second while waiting.
        """
        rx = re.compile(pattern)
        deadline = Deadline(timeout)
        next_nudge = deadline.seconds - 1.0
        with self._cond:
            while True:
                for r in self._records:
                    if rx.search(r.text):
                        return r
                if deadline.expired():
                    texts = [r.text for r in self._records[-20:]]
                    raise AssertionError(
                        "timed out after %.1f s waiting for a syslog line "
                        "matching %r; last lines: %r" % (timeout, pattern, texts))
                if nudge and deadline.remaining() <= next_nudge:
                    next_nudge -= 1.0
                    self._cond.release()
                    try:
                        nudge()
                    finally:
                        self._cond.acquire()
                self._cond.wait(min(0.2, deadline.remaining()))

    def close(self):
        self._stop = True
        self._reading.set()
        self._thread.join(5)
        self._remove_files()

    def _remove_files(self):
        self.sock.close()
        # Only ever remove what we made; realdev must be an empty directory
        # here (its mount lived in echod's namespace only).
        for name in ("log.sock",):
            try:
                os.unlink(os.path.join(self.dir, name))
            except OSError:
                pass
        for d in (os.path.join(self.dir, "realdev"), self.dir):
            try:
                if not os.path.ismount(d):
                    os.rmdir(d)
            except OSError:
                pass
