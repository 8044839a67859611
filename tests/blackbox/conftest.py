"""conftest.py: the fixtures every black-box test uses.

Owns: finding the binary under test ($ECHOD), making echod instances in a
per-test temporary directory and stopping what is left of them at
teardown, the syslog capture fixture, options for a sanitized build,
raising the test process's descriptor limit, and a directory for an echod
run as nobody. Does not own: how echod is run (echodctl.py), how syslog
is captured (syslogcap.py).

The suite writes nothing into the source tree (it may be read-only under
distcheck): every file lives under pytest's tmp_path or a mkdtemp().
"""
import os
import resource
import shutil
import tempfile

import pytest

from echodctl import Echod
from syslogcap import SyslogCapture


@pytest.fixture(scope="session")
def echod_binary():
    path = os.environ.get("ECHOD")
    if not path:
        pytest.fail("ECHOD is not set: it must name the echod binary to test",
                    pytrace=False)
    if not os.access(path, os.X_OK):
        pytest.fail("ECHOD=%s is not an executable file" % path, pytrace=False)
    return os.path.abspath(path)


@pytest.fixture
def new_echod(echod_binary, tmp_path):
    """new_echod(syslog=None, workdir=None, **settings): an Echod with its
    config written (in workdir, by default a directory of its own under
    tmp_path), not started. Whatever still runs at teardown gets SIGTERM
    and must exit 0 (else the test errors); anything left after that is
    killed."""
    made = []

    def make(syslog=None, workdir=None, **settings):
        d = Echod(echod_binary, workdir or str(tmp_path / ("echod%d" % len(made))),
                  settings, syslog=syslog)
        made.append(d)
        return d

    yield make
    problems = [p for p in (d.teardown() for d in made) if p]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def start_echod(new_echod):
    """start_echod(syslog=None, args=(), workdir=None, **settings): a
    running echod -f that accepts connections."""

    def start(syslog=None, args=(), workdir=None, **settings):
        return new_echod(syslog=syslog, workdir=workdir, **settings).start(args)

    return start


@pytest.fixture
def syslog():
    """A SyslogCapture; pass it to new_echod/start_echod as syslog=."""
    cap = SyslogCapture()
    yield cap
    cap.close()


@pytest.fixture
def asan_options(monkeypatch):
    """asan_options("key=value:..."): adds to ASAN_OPTIONS for the echod
    this test starts (AddressSanitizer builds read it; others ignore it)."""
    def add(options):
        old = os.environ.get("ASAN_OPTIONS")
        monkeypatch.setenv("ASAN_OPTIONS", (old + ":" if old else "") + options)
    return add


def raise_nofile(wanted):
    """Raises this process's RLIMIT_NOFILE soft limit to at least wanted."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.fail("RLIMIT_NOFILE hard limit %d < %d needed" % (hard, wanted),
                        pytrace=False)
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


@pytest.fixture
def nofile():
    """nofile(n): raise the descriptor limit of the test process to n."""
    return raise_nofile


@pytest.fixture
def nobody_dir():
    """A directory nobody can read, for echod's binary and config (the
    test's own tmp_path is not); removed after the echod in it stopped."""
    if os.geteuid() != 0:
        pytest.skip("needs root: to run echod as nobody")
    path = tempfile.mkdtemp(prefix="echod-nobody-")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
