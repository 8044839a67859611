"""test_fd_exhaustion.py: echod out of file descriptors.

Covers: when accept() fails with EMFILE echod neither spins a CPU nor
drops the clients it serves; it logs the error (rate-limited), and once
descriptors free up the clients that waited in the backlog are served.
A start with a descriptor limit too small for max_connections warns.
"""
import os
import resource
import subprocess
import time

from contract import GREETING

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU time echod has used, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def test_emfile_backs_off_then_serves_the_backlog(start_echod):
    d = start_echod(threads=1, max_connections=1000)
    d.wait_probes_gone()
    worker = d.worker_pid()
    limit = open_fds(worker) + 3
    resource.prlimit(worker, resource.RLIMIT_NOFILE, (limit, limit))

    served = [d.connect() for _ in range(3)]
    for c in served:
        c.expect(GREETING)
    waiting = [d.connect() for _ in range(5)]
    d.wait_stderr(r"^echod: accept on 127\.0\.0\.1:\d+ \(pausing accepts.*"
                  r"Too many open files$")

    # While descriptors are short, echod must not busy-loop on accept().
    before, start = cpu_seconds(worker), time.monotonic()
    time.sleep(1.0)
    used = cpu_seconds(worker) - before
    assert used < 0.3 * (time.monotonic() - start), \
        "echod used %.2f s of CPU in 1 s while out of descriptors" % used
    errors = [l for l in d.stderr_lines() if "accept on" in l]
    assert len(errors) <= 3, "accept errors not rate-limited: %r" % errors

    for c in served:
        c.send(b"still here\n")
        c.expect(b"OK...still here\n")
        c.close()
    for c in waiting:
        c.expect(GREETING)
        c.send(b"late\n")
        c.expect(b"OK...late\n")
        c.close()
    d.stop()


def test_start_warns_when_max_connections_cannot_be_reached(new_echod):
    d = new_echod(max_connections=100000)

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    with open(d.stderr_path, "w") as err:
        proc = subprocess.Popen(d.argv(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err,
                                preexec_fn=low_limit)
    try:
        d.proc = proc
        d.wait_stderr(r"^echod: max_connections 100000 needs \d+ open files "
                      r"but the limit is 256")
        d.wait_stderr(r"^echod: echod \S+ started on ")
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.returncode == 0
