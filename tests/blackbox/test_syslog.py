"""test_syslog.py: what echod tells syslog.

Covers: the datagram format and ident/pid; the start line at notice with
version, listeners, threads and max_connections; connect and disconnect
lines at info with peer (IPv4 and IPv6), connection id, open count,
reason (eof, reset) and exact byte counts; reload and stop lines at
notice; the refusal warning; log.facility (also after a reload),
log.level and log.connections honoured; the same texts on stderr with
-f, but not when stderr is the journal (JOURNAL_STREAM), where config
errors carry their priority ("<3>"); client data
never in any log line (syslog or stderr).
"""
import os
import re
import signal
import subprocess

import confwriter
from contract import GREETING, VERSION
from syslogcap import FACILITIES, SEVERITIES

DAEMON, LOCAL3 = FACILITIES["daemon"], FACILITIES["local3"]
NOTICE, INFO, WARNING, ERR = (SEVERITIES[s] for s in ("notice", "info", "warning", "err"))


def _start(syslog, start_echod, **settings):
    """echod under syslog capture, its start line seen, its probes gone."""
    d = start_echod(syslog=syslog, **settings)
    syslog.wait_for(r"^echod %s started on " % re.escape(VERSION))
    for port in d.probe_ports:
        syslog.wait_for(r"^disconnect 127\.0\.0\.1:%d " % port)
    return d


def _stop(d, syslog):
    d.stop()
    syslog.wait_for(r"^echod stopped$")


def test_datagram_format_and_start_line(syslog, start_echod):
    d = _start(syslog, start_echod)
    rec = syslog.wait_for(r"^echod %s started on " % re.escape(VERSION))
    assert rec.text == ("echod %s started on 127.0.0.1:%d, [::1]:%d "
                        "(2 threads, max_connections 10000)"
                        % (VERSION, d.port, d.port))
    assert (rec.facility, rec.severity) == (DAEMON, NOTICE)
    pids = {d.pid, d.worker_pid()}
    _stop(d, syslog)
    stderr = d.stderr_lines()
    for r in syslog.records():
        assert r.facility is not None, "unparsable datagram %r" % r.raw
        assert r.ident == "echod" and r.pid in pids, r.raw
        assert "echod: " + r.text in stderr, "not on stderr with -f: %r" % r.text


def test_connect_and_disconnect_lines(syslog, start_echod):
    d = _start(syslog, start_echod)
    sent = b"hello there\nand more"
    with d.connect() as c:
        c.expect(GREETING)
        c.send(sent)
        c.expect(b"OK...hello there\nOK...and more")
    con = syslog.wait_for(r"^connect from 127\.0\.0\.1:%d " % c.local_port)
    m = re.fullmatch(r"connect from 127\.0\.0\.1:%d \(conn (\d+), 1 open\)"
                     % c.local_port, con.text)
    assert m, con.text
    assert (con.facility, con.severity) == (DAEMON, INFO)
    conn_id = int(m.group(1))

    dis = syslog.wait_for(r"^disconnect 127\.0\.0\.1:%d " % c.local_port)
    out = len(GREETING) + len(b"OK...hello there\nOK...and more")
    assert re.fullmatch(r"disconnect 127\.0\.0\.1:%d \(conn %d\): eof after "
                        r"\d+\.\d s, %d bytes in, %d bytes out"
                        % (c.local_port, conn_id, len(sent), out), dis.text), dis.text
    assert (dis.facility, dis.severity) == (DAEMON, INFO)
    _stop(d, syslog)


def test_open_count_and_distinct_ids_ipv6_peer(syslog, start_echod):
    d = _start(syslog, start_echod)
    first = d.connect()
    first.expect(GREETING)
    second = d.connect("::1")
    second.expect(GREETING)
    a = syslog.wait_for(r"^connect from 127\.0\.0\.1:%d " % first.local_port)
    b = syslog.wait_for(r"^connect from \[::1\]:%d " % second.local_port)
    ma = re.fullmatch(r"connect from \S+ \(conn (\d+), 1 open\)", a.text)
    mb = re.fullmatch(r"connect from \S+ \(conn (\d+), 2 open\)", b.text)
    assert ma and mb, (a.text, b.text)
    assert ma.group(1) != mb.group(1)
    second.close()
    syslog.wait_for(r"^disconnect \[::1\]:%d \(conn %s\): eof after "
                    % (second.local_port, mb.group(1)))
    first.close()
    _stop(d, syslog)


def test_reset_reason(syslog, start_echod):
    d = _start(syslog, start_echod)
    c = d.connect()
    c.expect(GREETING)
    c.send(b"bye\n")
    c.expect(b"OK...bye\n")
    c.reset()
    rec = syslog.wait_for(r"^disconnect 127\.0\.0\.1:%d " % c.local_port)
    assert re.search(r"\): reset after \d+\.\d s, 4 bytes in, %d bytes out$"
                     % (len(GREETING) + 9), rec.text), rec.text
    _stop(d, syslog)


def test_lifecycle_lines_at_notice(syslog, start_echod):
    d = _start(syslog, start_echod)
    d.signal(signal.SIGHUP)
    rec = syslog.wait_for(r"^reloaded ")
    assert rec.text == "reloaded %s" % d.conf
    assert rec.severity == NOTICE
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0
    stop = syslog.wait_for(r"^stopping on SIGTERM")
    assert stop.text == "stopping on SIGTERM (0 connections open, waiting up to 30 s)"
    end = syslog.wait_for(r"^echod stopped$")
    assert (stop.severity, end.severity) == (NOTICE, NOTICE)


def test_failed_reload_logged_at_err(syslog, start_echod):
    d = _start(syslog, start_echod)
    text = confwriter.render(dict(d.settings, threads=5000))
    d.write_config_text(text)
    d.signal(signal.SIGHUP)
    rec = syslog.wait_for(r"^%s:%d: threads: must be an integer from 0 to 1024$"
                          % (re.escape(d.conf), confwriter.line_of(text, "threads")))
    assert rec.severity == ERR
    syslog.wait_for(r"^reload failed, keeping the running configuration$")
    _stop(d, syslog)


def test_refusal_is_a_warning(syslog, start_echod):
    d = _start(syslog, start_echod, max_connections=1)
    with d.connect() as kept:
        kept.expect(GREETING)
        with d.connect() as refused:
            assert refused.recv_to_eof(timeout=5)[0] == b""
        rec = syslog.wait_for(r"^disconnect 127\.0\.0\.1:%d \(conn \d+\): limit after "
                              % refused.local_port)
        assert rec.text.endswith(": max_connections (1) reached"), rec.text
        assert rec.severity == WARNING
    _stop(d, syslog)


def test_facility_local3(syslog, start_echod):
    d = _start(syslog, start_echod, log={"facility": "local3"})
    with d.connect() as c:
        c.expect(GREETING)
    syslog.wait_for(r"^disconnect 127\.0\.0\.1:%d " % c.local_port)
    _stop(d, syslog)
    start = syslog.find(r"^echod %s started on " % re.escape(VERSION))[0]
    assert start.raw.startswith(b"<%d>" % (LOCAL3 * 8 + NOTICE)), start.raw
    assert {r.facility for r in syslog.records()} == {LOCAL3}


def test_reload_applies_new_facility(syslog, start_echod):
    d = _start(syslog, start_echod)
    d.write_config(log={"facility": "local3"})
    d.signal(signal.SIGHUP)
    syslog.wait_for(r"^reloaded ")
    with d.connect() as c:
        c.expect(GREETING)
    rec = syslog.wait_for(r"^disconnect 127\.0\.0\.1:%d " % c.local_port)
    assert rec.facility == LOCAL3, rec.raw
    start = syslog.find(r"^echod %s started on " % re.escape(VERSION))[0]
    assert start.facility == DAEMON
    _stop(d, syslog)


def test_connections_false_suppresses_connect_lines(syslog, start_echod):
    d = start_echod(syslog=syslog, log={"connections": False})
    syslog.wait_for(r"^echod %s started on " % re.escape(VERSION))
    for _ in range(3):
        with d.connect() as c:
            c.expect(GREETING)
            c.send(b"x\n")
            c.expect(b"OK...x\n")
    _stop(d, syslog)
    assert not syslog.find(r"^connect from "), [r.text for r in syslog.records()]
    assert not re.search(r"^echod: connect from ", d.stderr(), re.M)


def test_level_notice_hides_info(syslog, start_echod):
    d = start_echod(syslog=syslog, log={"level": "notice"})
    syslog.wait_for(r"^echod %s started on " % re.escape(VERSION))
    with d.connect() as c:
        c.expect(GREETING)
    _stop(d, syslog)
    assert not [r.text for r in syslog.records() if r.severity > NOTICE]
    assert not syslog.find(r"^(connect|disconnect) ")


def test_client_data_never_logged(syslog, start_echod):
    d = _start(syslog, start_echod, greeting="", reply_prefix="")
    secret = b"SECRET-c0ffee-%s%n%x"
    for host in ("127.0.0.1", "::1"):
        with d.connect(host) as c:
            c.send(secret + b"\n" + secret)
            c.expect(secret + b"\n" + secret)
        with d.connect(host) as c:
            c.send(secret)
            c.reset()
    d.signal(signal.SIGHUP)
    syslog.wait_for(r"^reloaded ")
    _stop(d, syslog)
    for r in syslog.records():
        assert b"SECRET" not in r.raw and b"c0ffee" not in r.raw, r.raw
    assert "SECRET" not in d.stderr() and "c0ffee" not in d.stderr()


def test_journal_stream_gets_each_line_once(syslog, new_echod, monkeypatch):
    """Under systemd, stderr is the journal, which also gets syslog: echod
    then logs through syslog only, so no line reaches the journal twice."""
    d = new_echod(syslog=syslog)
    open(d.stderr_path, "w").close()
    st = os.stat(d.stderr_path)
    monkeypatch.setenv("JOURNAL_STREAM", "%d:%d" % (st.st_dev, st.st_ino))
    d.start(started=lambda: syslog.find(r"^echod %s started on " % re.escape(VERSION)))
    with d.connect() as c:
        c.expect(GREETING)
    syslog.wait_for(r"^disconnect 127\.0\.0\.1:%d " % c.local_port)
    _stop(d, syslog)
    # Under AddressSanitizer its runtime may speak ("==PID==..."); echod may not.
    ours = [l for l in d.stderr_lines() if not re.match(r"==\d+==", l)]
    assert ours == [], "stderr is the journal, yet got:\n" + d.stderr()


def test_config_errors_reach_the_journal_as_errors(new_echod, tmp_path):
    """Before syslog is open (a bad config, echod -t), stderr is all there
    is: to the journal each line goes with its priority ("<3>" = err)."""
    d = new_echod()
    d.write_config_text("threads = 5000;\n")
    err_path = str(tmp_path / "journal-stream")
    with open(err_path, "w") as err:
        st = os.fstat(err.fileno())
        env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
        rc = subprocess.run([d.binary, "-t", "-c", d.conf], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=err, env=env,
                            timeout=20).returncode
    assert rc == 78
    with open(err_path) as f:
        lines = f.read().splitlines()
    assert lines == ["<3>echod: %s:1: threads: must be an integer from 0 to 1024"
                     % d.conf], lines
