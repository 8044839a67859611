"""test_cli.py: echod's command line.

Covers: -V and -h (stdout, exit 0), a bad option (named whole, "--help"
too), a missing option argument, an empty -c and an extra argument (usage
on stderr, exit 64), -t on a good config (exit 0, "FILE: configuration
OK") and a bad one (exit 78, "FILE:LINE: KEY: TEXT"), and a config file
that does not exist (exit 78).
"""
import re

import pytest

from contract import EXIT_CONFIG, EXIT_USAGE, VERSION
from echodctl import run_cli


def test_version(echod_binary):
    res = run_cli(echod_binary, ["-V"])
    assert (res.rc, res.stdout) == (0, "echod %s\n" % VERSION), res


def test_help_goes_to_stdout(echod_binary):
    res = run_cli(echod_binary, ["-h"])
    assert res.rc == 0, res
    assert re.search(r"usage", res.stdout, re.I), res
    for option in ("-c", "-f", "-t", "-p", "-V", "-h"):
        assert option in res.stdout, "usage does not mention %s: %r" % (option, res.stdout)
    assert res.stderr == ""


@pytest.mark.parametrize("args", [["-x"], ["--frobnicate"], ["-c"], ["-p"],
                                  ["-f", "extra"], ["-t", "-c", "a.conf", "b"]],
                         ids=["bad-option", "bad-long-option", "c-without-file",
                              "p-without-file", "extra-argument",
                              "extra-after-options"])
def test_usage_errors_exit_64(echod_binary, args):
    res = run_cli(echod_binary, args)
    assert res.rc == EXIT_USAGE, res
    assert re.search(r"usage", res.stderr, re.I), res
    assert res.stdout == ""


@pytest.mark.parametrize("arg", ["--help", "--version", "--frobnicate=1"])
def test_unknown_long_option_named_whole(echod_binary, arg):
    """echod has no long options: "--help" is reported as itself, not as
    the "-" getopt stopped at."""
    res = run_cli(echod_binary, ["-f", arg])
    assert res.rc == EXIT_USAGE, res
    assert res.stderr.startswith("echod: unknown option %s\nusage: " % arg), res
    assert res.stdout == ""


def test_unknown_short_option_named(echod_binary):
    res = run_cli(echod_binary, ["-fx"])
    assert res.rc == EXIT_USAGE, res
    assert res.stderr.startswith("echod: unknown option -x\nusage: "), res


def test_empty_config_path_is_a_usage_error(echod_binary):
    res = run_cli(echod_binary, ["-t", "-c", ""])
    assert res.rc == EXIT_USAGE, res
    assert res.stderr.startswith("echod: option -c needs a file name\nusage: "), res
    assert res.stdout == ""


def test_check_good_config(new_echod):
    d = new_echod()
    res = run_cli(d.binary, ["-t", "-c", d.conf])
    assert res.rc == 0, res
    assert "echod: %s: configuration OK\n" % d.conf in res.stderr, res


def test_check_bad_config(new_echod):
    d = new_echod()
    d.write_config_text("# bad\nthreads = 5000;\n")
    res = run_cli(d.binary, ["-t", "-c", d.conf])
    assert res.rc == EXIT_CONFIG, res
    assert ("echod: %s:2: threads: must be an integer from 0 to 1024\n" % d.conf
            in res.stderr), res
    assert "configuration OK" not in res.stderr


def test_missing_config_file(echod_binary, tmp_path):
    missing = str(tmp_path / "no-such.conf")
    for args in (["-t", "-c", missing], ["-f", "-c", missing, "-p", ""]):
        res = run_cli(echod_binary, args)
        assert res.rc == EXIT_CONFIG, res
        assert missing in res.stderr, res
