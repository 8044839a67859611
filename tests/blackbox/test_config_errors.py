"""test_config_errors.py: how echod reports a wrong config file.

Covers: each kind of error (out of range, wrong type, unknown setting with
or without the key likely meant, bad enum in the log group, syntax error)
reported as "echod: FILE:LINE: KEY: TEXT" with the line of the offending
setting and exit 78; every error in a file reported, not just the first;
a message printed whole when the file's path is long; a config at every
range boundary accepted; a bad config at start-up (not only with -t)
exits 78 without listening.
"""
import re

import pytest

from contract import EXIT_CONFIG
from echodctl import free_port, run_cli

HEAD = "# echod test config\npidfile = \"\";\n"      # lines 1-2

# (config lines after HEAD, line of the error, "KEY: TEXT" pattern)
BAD = {
    "threads-range": ("threads = 1025;\n", 3,
                      r"threads: must be an integer from 0 to 1024"),
    "threads-negative": ("threads = -1;\n", 3,
                         r"threads: must be an integer from 0 to 1024"),
    "threads-type": ('threads = "two";\n', 3, r"threads: \S"),
    "unknown": ("frobnicate = 1;\n", 3, r"frobnicate: unknown setting$"),
    "unknown-near-miss": ("treads = 4;\n", 3,
                          r"treads: unknown setting \(did you mean threads\?\)"),
    "unknown-other-group": ('level = "debug";\n', 3,
                            r"level: unknown setting \(did you mean log\.level\?\)"),
    "log-level": ('log = {\n  level = "loud";\n};\n', 4,
                  r"log\.level: must be one of err, warning, notice, info, debug"),
    "log-facility": ('log = {\n  connections = true;\n  facility = "kern";\n};\n', 5,
                     r"log\.facility: \S"),
    "log-unknown": ('log = {\n  colour = "blue";\n};\n', 4,
                    r"log\.colour: unknown setting"),
    "log-connections-type": ('log = {\n  connections = "yes";\n};\n', 4,
                             r"log\.connections: \S"),
    "max-connections-zero": ("max_connections = 0;\n", 3, r"max_connections: \S"),
    "max-connections-big": ("max_connections = 1000001;\n", 3, r"max_connections: \S"),
    "buffer-small": ("buffer_size = 1023;\n", 3, r"buffer_size: \S"),
    "buffer-big": ("buffer_size = 16777217;\n", 3, r"buffer_size: \S"),
    "shutdown-big": ("shutdown_timeout = 86401;\n", 3, r"shutdown_timeout: \S"),
    "shutdown-negative": ("shutdown_timeout = -1;\n", 3, r"shutdown_timeout: \S"),
    "port-range": ("port = 70000;\n", 3, r"port: \S"),
    "cpu-slice-big": ("cpu_slice = 100001;\n", 3,
                      r"cpu_slice: must be an integer from 0 to 100000"),
    "cpu-slice-type": ('cpu_slice = "short";\n', 3, r"cpu_slice: \S"),
    "greeting-type": ("greeting = 5;\n", 3, r"greeting: \S"),
    "listen-type": ('listen = "127.0.0.1";\n', 3, r"listen: \S"),
}


def _write(tmp_path, text):
    path = tmp_path / "bad.conf"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("case", sorted(BAD))
def test_each_error_names_file_line_and_key(echod_binary, tmp_path, case):
    body, line, key_text = BAD[case]
    conf = _write(tmp_path, HEAD + body)
    res = run_cli(echod_binary, ["-t", "-c", conf])
    assert res.rc == EXIT_CONFIG, res
    assert re.search(r"^echod: %s:%d: %s" % (re.escape(conf), line, key_text),
                     res.stderr, re.M), res.stderr


def test_syntax_error_names_file_and_line(echod_binary, tmp_path):
    conf = _write(tmp_path, HEAD + "threads = 2;\nbacklog = ;\n")
    res = run_cli(echod_binary, ["-t", "-c", conf])
    assert res.rc == EXIT_CONFIG, res
    assert re.search(r"^echod: %s:4: syntax error" % re.escape(conf),
                     res.stderr, re.M), res.stderr


def test_all_errors_are_reported(echod_binary, tmp_path):
    conf = _write(tmp_path, "\n".join([
        "# three mistakes",                 # 1
        "threads = 5000;",                  # 2
        "port = 8888;",                     # 3
        "frobnicate = 1;",                  # 4
        "log = {",                          # 5
        '  facility = "daemon";',           # 6
        '  level = "loud";',                # 7
        "};", ""]))
    res = run_cli(echod_binary, ["-t", "-c", conf])
    assert res.rc == EXIT_CONFIG, res
    c = re.escape(conf)
    for pattern in (r"%s:2: threads: must be an integer from 0 to 1024$",
                    r"%s:4: frobnicate: unknown setting$",
                    r"%s:7: log\.level: must be one of err, warning, notice, "
                    r"info, debug$"):
        assert re.search(r"^echod: " + pattern % c, res.stderr, re.M), res.stderr


def test_long_path_is_printed_whole(echod_binary, tmp_path):
    """A config over 600 characters down still gets "FILE:LINE: KEY: TEXT"
    whole, not cut after the path nor without it."""
    deep = tmp_path
    for _ in range(3):
        deep = deep / ("d" * 200)
    deep.mkdir(parents=True)
    conf = _write(deep, HEAD + "threads = 5000;\n")
    res = run_cli(echod_binary, ["-t", "-c", conf])
    assert res.rc == EXIT_CONFIG, res
    assert ("echod: %s:3: threads: must be an integer from 0 to 1024\n" % conf
            in res.stderr), res.stderr


def test_boundary_values_are_accepted(echod_binary, tmp_path):
    conf = _write(tmp_path, "\n".join([
        "port = 1;", 'listen = ["127.0.0.1", "::1"];', "backlog = 1;",
        "threads = 1024;", "cpu_slice = 100000;", "max_connections = 1000000;", "idle_timeout = 0;",
        "buffer_size = 1024;", 'greeting = "";', 'reply_prefix = "";',
        "shutdown_timeout = 86400;", 'pidfile = "";',
        'log = { facility = "local7"; level = "debug"; connections = false; };',
        ""]))
    res = run_cli(echod_binary, ["-t", "-c", conf])
    assert res.rc == 0, res
    assert "echod: %s: configuration OK" % conf in res.stderr

    conf = _write(tmp_path, "port = 65535;\nthreads = 0;\ncpu_slice = 0;\nmax_connections = 1;\n"
                  "buffer_size = 16777216;\nshutdown_timeout = 0;\n"
                  'log = { facility = "user"; level = "err"; };\n')
    res = run_cli(echod_binary, ["-t", "-c", conf])
    assert res.rc == 0, res


@pytest.mark.parametrize("facility", ["daemon", "user"] + ["local%d" % i for i in range(8)])
def test_every_documented_facility_is_accepted(echod_binary, tmp_path, facility):
    conf = _write(tmp_path, 'log = { facility = "%s"; };\n' % facility)
    res = run_cli(echod_binary, ["-t", "-c", conf])
    assert res.rc == 0, res


def test_bad_config_at_start_exits_78_without_listening(echod_binary, tmp_path, asan_options):
    """Exits 78 having bound nothing: strace lists every bind() and
    listen() echod makes (none), in the foreground and daemon modes."""
    asan_options("detect_leaks=0")  # LeakSanitizer cannot work under strace
    port = free_port()
    conf = _write(tmp_path, 'port = %d;\nlisten = ["127.0.0.1"];\npidfile = "";\n'
                  "threads = 5000;\n" % port)
    trace = str(tmp_path / "strace.out")
    res = run_cli("strace", ["-f", "-qq", "-o", trace, "-e", "trace=bind,listen",
                             echod_binary, "-f", "-c", conf])
    assert res.rc == EXIT_CONFIG, res
    assert re.search(r"^echod: %s:4: threads: " % re.escape(conf), res.stderr, re.M)
    calls = open(trace).read()
    assert "bind(" not in calls and "listen(" not in calls, calls
    res = run_cli(echod_binary, ["-c", conf])          # daemon mode too
    assert res.rc == EXIT_CONFIG, res
    assert re.search(r"^echod: %s:4: threads: " % re.escape(conf), res.stderr, re.M)
