"""echodctl.py: runs the echod under test and watches it.

Owns: picking a free loopback port, writing the instance's config file,
starting echod (in the foreground with -f, or as a daemon), waiting until
it accepts connections, reading its stderr, signalling it, asserting how
it exits, and stopping (or killing) whatever is left at teardown. A start
that loses a race for its port (exit 71, "Address already in use") is
retried on a new port; the command line to run it as nobody, and the
cleanup after a test that ran it under strace. Does not own: the config
syntax (confwriter.py) or syslog capture (syslogcap.py).
"""
import collections
import os
import pwd
import re
import signal
import socket
import subprocess

import confwriter
import procinfo
from client import Client
from waits import DEFAULT_TIMEOUT, wait_until

EX_OSERR = 71
PORT_ATTEMPTS = 5

Result = collections.namedtuple("Result", "rc stdout stderr")


def as_nobody(argv):
    """argv run as user and group nobody, with no supplementary group."""
    nobody = pwd.getpwnam("nobody")
    return ["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid,
            "--clear-groups"] + list(argv)


def kill_traced(tracer, d):
    """After a test that ran echod d under strace: kills the tracer if it
    still runs, then whatever process of d is left."""
    if tracer.poll() is None:
        tracer.kill()
        tracer.wait()
    procinfo.kill_all(procinfo.running(d.binary, d.conf))


def free_port():
    """A TCP port free on both 127.0.0.1 and ::1 right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s4:
            s4.bind(("127.0.0.1", 0))
            port = s4.getsockname()[1]
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6:
                s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                try:
                    s6.bind(("::1", port))
                except OSError:
                    continue
                return port
    raise AssertionError("no free loopback port found")


def run_cli(binary, args, timeout=DEFAULT_TIMEOUT):
    """Runs `binary args` to its exit: a Result with text stdout/stderr."""
    try:
        res = subprocess.run([binary] + list(args), stdin=subprocess.DEVNULL,
                             capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError("echod %s did not exit within %.0f s"
                             % (" ".join(args), timeout)) from None
    return Result(res.returncode, res.stdout.decode(errors="replace"),
                  res.stderr.decode(errors="replace"))


def _lost_port_race(rc, stderr):
    return rc == EX_OSERR and "Address already in use" in stderr


class Echod:
    """One echod instance: its directory, config file and process."""

    def __init__(self, binary, workdir, settings, syslog=None):
        self.binary = binary
        self.dir = workdir
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "echod.conf")
        self.stdout_path = os.path.join(self.dir, "stdout.txt")
        self.stderr_path = os.path.join(self.dir, "stderr.txt")
        self.syslog = syslog
        self.fixed_port = "port" in settings
        self.settings = dict(confwriter.BASE_SETTINGS)
        self.settings.update(settings)
        if not self.fixed_port:
            self.settings["port"] = free_port()
        self.proc = None
        self.probe_ports = []
        self.pidfiles = []          # to find daemons to kill at teardown
        self.write_config()

    # -- config ------------------------------------------------------------

    @property
    def port(self):
        return self.settings["port"]

    def write_config(self, **changes):
        """Rewrites the config file with changes applied (None deletes)."""
        for key, v in changes.items():
            if v is None:
                self.settings.pop(key, None)
            else:
                self.settings[key] = v
        self.write_config_text(confwriter.render(self.settings))

    def write_config_text(self, text):
        tmp = self.conf + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.conf)

    def _new_port(self):
        self.settings["port"] = free_port()
        self.write_config()

    # -- launching -----------------------------------------------------------

    def argv(self, args=(), foreground=True):
        argv = [self.binary] + (["-f"] if foreground else []) + ["-c", self.conf]
        argv += list(args)
        return self.syslog.wrap(argv) if self.syslog else argv

    def _launch(self, args, foreground):
        with open(self.stdout_path, "w") as out, open(self.stderr_path, "w") as err:
            self.proc = subprocess.Popen(self.argv(args, foreground),
                                         stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err)

    def start(self, args=(), timeout=DEFAULT_TIMEOUT, started=None):
        """Starts echod -f and waits until it serves. started() says whether
        echod has logged "started on"; by default, stderr is read for it."""
        for _ in range(PORT_ATTEMPTS):
            self._launch(args, foreground=True)
            if self._wait_ready(timeout, started or self._started_on_stderr):
                return self
            if self.fixed_port or not _lost_port_race(self.proc.returncode,
                                                      self.stderr()):
                break
            self._new_port()
        raise AssertionError("echod did not start: exit %s; stderr:\n%s"
                             % (self.proc.returncode, self.stderr()))

    def _probe_host(self):
        first = self.settings.get("listen", ["127.0.0.1"])[0]
        return "127.0.0.1" if first in ("0.0.0.0",) else ("::1" if first == "::" else first)

    def _started_on_stderr(self):
        return re.search(r"^echod: echod \S+ started on ", self.stderr(), re.M)

    def _wait_ready(self, timeout, started):
        """True once echod serves: started() (the master logs "started on"
        when the worker process says it serves; the listeners take
        connections into the backlog before that) and connect() succeeds.
        False if echod exited first."""
        host = self._probe_host()

        def ready():
            if self.proc.poll() is not None:
                return "exited"
            if not started():
                return None
            try:
                probe = Client(host, self.port, timeout=1.0)
            except OSError:
                return None
            self.probe_ports.append(probe.local_port)
            probe.close()
            return "ready"

        state = wait_until(ready, timeout, what=lambda: (
            "echod to accept connections on %s port %d; stderr:\n%s"
            % (host, self.port, self.stderr())))
        return state == "ready"

    def run(self, args=(), foreground=True, timeout=DEFAULT_TIMEOUT):
        """Runs echod to its exit (for starts that must fail, -t, or daemon
        mode where the launcher exits); a Result. Fails if it does not exit."""
        for _ in range(PORT_ATTEMPTS):
            self._launch(args, foreground)
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("echod %s did not exit within %.0f s; "
                                     "stderr:\n%s" % (" ".join(args), timeout,
                                                      self.stderr())) from None
            if self.fixed_port or not _lost_port_race(rc, self.stderr()):
                break
            self._new_port()
        return Result(rc, self.stdout(), self.stderr())

    # -- watching --------------------------------------------------------------

    @property
    def pid(self):
        return self.proc.pid

    def worker_pid(self, timeout=DEFAULT_TIMEOUT):
        """The pid of the worker process serving for this master: its
        only child (waits while a replaced one still drains)."""
        def single_worker():
            kids = [k for k in procinfo.children(self.pid) if procinfo.alive(k)]
            return kids[0] if len(kids) == 1 else None
        return wait_until(single_worker, timeout,
                          what="echod (pid %d) to have one worker process" % self.pid)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stdout(self):
        with open(self.stdout_path, errors="replace") as f:
            return f.read()

    def stderr(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def stderr_lines(self):
        return self.stderr().splitlines()

    def wait_stderr(self, pattern, timeout=DEFAULT_TIMEOUT):
        """The first match of pattern (re.M) in stderr; fails at the deadline."""
        rx = re.compile(pattern, re.M)
        return wait_until(lambda: rx.search(self.stderr()), timeout,
                          what=lambda: "stderr to match %r; stderr so far:\n%s"
                          % (pattern, self.stderr()))

    def wait_probes_gone(self, timeout=DEFAULT_TIMEOUT):
        """Waits until echod has logged the disconnect of every readiness
        probe, so connection counts in a test are exact."""
        host = self._probe_host()
        name = ("[%s]" % host) if ":" in host else host
        for port in self.probe_ports:
            self.wait_stderr(r"^echod: disconnect %s:%d " % (re.escape(name), port),
                             timeout)

    def connect(self, host="127.0.0.1", **kw):
        return Client(host, self.port, **kw)

    # -- stopping ----------------------------------------------------------

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=DEFAULT_TIMEOUT):
        """echod's exit status; fails if it is still running at the deadline."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("echod (pid %d) still running after %.0f s; "
                                 "stderr:\n%s" % (self.pid, timeout,
                                                  self.stderr())) from None

    def stop(self, sig=None, timeout=DEFAULT_TIMEOUT):
        """Signals echod (SIGTERM by default) and asserts it exits 0 within
        timeout."""
        sig = signal.SIGTERM if sig is None else sig
        self.signal(sig)
        rc = self.wait_exit(timeout)
        assert rc == 0, "echod exited %d after %s; stderr:\n%s" % (
            rc, signal.Signals(sig).name, self.stderr())

    def teardown(self, timeout=10.0):
        """Stops whatever of this instance still runs: SIGTERM (echod must
        exit 0), then SIGKILL. Returns what went wrong, or None."""
        problem = None
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                problem = ("echod (pid %d) did not exit within %.0f s of SIGTERM "
                           "at teardown" % (self.pid, timeout))
            else:
                if rc != 0:
                    problem = "echod exited %d on SIGTERM at teardown" % rc
            if problem:
                problem += "; stderr:\n" + self.stderr()[-3000:]
                problem += "\nthreads:\n" + procinfo.describe_tree(self.pid)
        self.kill()
        return problem

    def kill(self):
        """SIGKILL whatever of this instance still runs."""
        if self.running():
            self.proc.kill()
            self.proc.wait(DEFAULT_TIMEOUT)
        for path in self.pidfiles:
            try:
                with open(path) as f:
                    pid = int(f.read().strip() or 0)
            except (OSError, ValueError):
                continue
            if pid > 0 and procinfo.exe(pid) == os.path.realpath(self.binary):
                os.kill(pid, signal.SIGKILL)
