"""test_limits.py: max_connections and idle_timeout.

Covers: over max_connections a new connection is closed at once with no
greeting while the others keep being served, its disconnect line (reason
"limit", a warning) names the refused peer (rate-limited: a burst of
refusals logs a few lines, not one each, the next one counting exactly
those held back),
and a slot freed by a leaving client is usable again; an idle client
is closed after idle_timeout (and not before), an active one is not, and
the disconnect is logged with reason "idle timeout" (syslog, at info).
max_connections beyond the hard limit on open files is warned about at
start-up and on each reload.
"""
import re
import select
import signal
import socket
import time

from contract import GREETING
from syslogcap import FACILITIES, SEVERITIES
from waits import wait_until


def test_max_connections_refuses_the_third(start_echod):
    d = start_echod(max_connections=2)
    d.wait_probes_gone()
    first, second = d.connect(), d.connect()
    first.expect(GREETING)
    second.expect(GREETING)

    third = d.connect()
    data, _ = third.recv_to_eof(timeout=5)
    assert data == b"", "refused connection got %r" % data
    third.close()
    d.wait_stderr(r"^echod: disconnect 127\.0\.0\.1:%d \(conn \d+\): limit after 0\.0 s, "
                  r"0 bytes in, 0 bytes out: max_connections \(2\) reached$"
                  % third.local_port)

    for c in (first, second):
        c.send(b"still served\n")
        c.expect(b"OK...still served\n")

    first.close()

    def served():
        c = d.connect()
        try:
            data = c.recv_exact(len(GREETING), timeout=5)
        except (AssertionError, ConnectionResetError):
            c.close()
            return None
        assert data == GREETING
        return c

    fourth = wait_until(served, what="a new client to be served after one left")
    fourth.send(b"new\n")
    fourth.expect(b"OK...new\n")
    second.send(b"old\n")
    second.expect(b"OK...old\n")
    fourth.close()
    second.close()
    d.stop()


def _closed(sock):
    """True if the peer has closed sock (readable and at EOF or reset)."""
    ready, _, _ = select.select([sock], [], [], 0)
    if not ready:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def test_idle_client_closed_active_client_kept(syslog, start_echod):
    d = start_echod(syslog=syslog, idle_timeout=1)
    idle = d.connect()
    idle.expect(GREETING)
    idle_since = time.monotonic()
    active = d.connect()
    active.expect(GREETING)

    idle_closed_after = None

    def note_idle_closed():
        nonlocal idle_closed_after
        if idle_closed_after is None and _closed(idle.sock):
            idle_closed_after = time.monotonic() - idle_since

    start = time.monotonic()
    for tick in range(10):          # one line every 0.3 s for 3 s
        active.send(b"tick %d\n" % tick)
        active.expect(b"OK...tick %d\n" % tick, timeout=2)
        next_at = start + 0.3 * (tick + 1)
        wait_until(lambda: note_idle_closed() or time.monotonic() >= next_at,
                   timeout=2, interval=0.01)
    if idle_closed_after is None:
        wait_until(lambda: _closed(idle.sock), timeout=3,
                   what="the idle client to be closed")
        idle_closed_after = time.monotonic() - idle_since

    assert 0.9 <= idle_closed_after <= 4.0, (
        "idle client closed after %.2f s with idle_timeout = 1"
        % idle_closed_after)
    assert not _closed(active.sock), "active client was closed"
    active.send(b"after\n")
    active.expect(b"OK...after\n")

    rec = syslog.wait_for(r"^disconnect 127\.0\.0\.1:%d \(conn \d+\): idle timeout "
                          % idle.local_port)
    assert (rec.facility, rec.severity) == (FACILITIES["daemon"], SEVERITIES["info"])
    assert not syslog.find(r"^disconnect 127\.0\.0\.1:%d " % active.local_port)
    assert re.search(r"idle timeout after \d+(\.\d+)? s, 0 bytes in, %d bytes out$"
                     % len(GREETING), rec.text), rec.text
    active.close()
    idle.close()
    d.stop()


def test_refusals_are_rate_limited(start_echod):
    """A burst of refusals logs about one line a second, not one each, and
    the next line says how many were held back: exactly the refused
    connections between the two lines (connection ids are consecutive:
    one worker thread, and nothing but refusals meanwhile)."""
    d = start_echod(max_connections=1, threads=1)
    d.wait_probes_gone()
    kept = d.connect()
    kept.expect(GREETING)
    refused = 0

    def refuse_one():
        nonlocal refused
        with d.connect() as c:
            assert c.recv_to_eof(timeout=5)[0] == b""
        refused += 1

    for _ in range(100):
        refuse_one()
    wait_until(lambda: refuse_one() or "more refused before)" in d.stderr(),
               interval=0.05, what="a limit line that counts what was held back")
    kept.close()
    d.stop()
    lines = [l for l in d.stderr_lines() if re.match(r"echod: disconnect .*: limit after", l)]
    assert 2 <= len(lines) <= refused // 4, (
        "%d refusals logged %d lines" % (refused, len(lines)))
    ids = [int(re.search(r"\(conn (\d+)\)", l).group(1)) for l in lines[:2]]
    held = re.search(r"\((\d+) more refused before\)$", lines[1])
    assert "more refused" not in lines[0] and held, lines[:2]
    assert int(held.group(1)) == ids[1] - ids[0] - 1, lines[:2]


class _FileLimit:
    """Stands where a SyslogCapture would (echodctl wraps the command):
    runs echod under a hard limit of `hard` open files."""

    def __init__(self, hard):
        self.hard = hard

    def wrap(self, argv):
        return ["prlimit", "--nofile=%d:%d" % (self.hard, self.hard)] + argv


def test_open_files_warning_at_start_and_on_reload(start_echod):
    """max_connections beyond what the hard limit on open files allows:
    echod raises its soft limit as far as it can, starts, and says so, at
    start-up and again on each reload."""
    d = start_echod(syslog=_FileLimit(4096), max_connections=100000, threads=2)
    warning = (r"^echod: max_connections 100000 needs 100068 open files but the "
               r"limit is 4096: raise the hard limit \(ulimit -Hn, LimitNOFILE=\)$")
    assert len(re.findall(warning, d.stderr(), re.M)) == 1, d.stderr()
    d.write_config(greeting="again\n")
    d.signal(signal.SIGHUP)
    wait_until(lambda: len(re.findall(warning, d.stderr(), re.M)) == 2,
               what=lambda: "the warning again on reload; stderr:\n" + d.stderr())
    d.stop()
