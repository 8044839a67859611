"""test_cpu_slice.py: cpu_slice reaches the worker threads.

Covers: each worker thread (echod-wN) asks the kernel for scheduler
slices of cpu_slice microseconds (se.slice in /proc/PID/task/TID/sched;
Linux 6.12 and later use it), a reload gives the new worker process the
new value, and cpu_slice = 0 leaves the kernel's own slice (these are
skipped, and say so, on kernels before 6.12); on every kernel, setting
it logs no warning. When the worker threads yield is cpushare.c's,
covered by check_cpushare.
"""
import os
import re
import signal

import pytest

import procinfo
from contract import GREETING
from waits import wait_until


def _kernel_has_custom_slices():
    major, minor = (int(x) for x in re.match(r"(\d+)\.(\d+)", os.uname().release).groups())
    return (major, minor) >= (6, 12)


def _worker_slices(d, threads):
    """The se.slice of each of the worker process's `threads` worker threads."""
    worker = d.worker_pid()
    slices = wait_until(
        lambda: (lambda s: s if len(s) == threads else None)(
            procinfo.thread_slices(worker, "echod-w")),
        what="%d echod-w threads in worker process %d" % (threads, worker))
    return sorted(slices.values())


needs_custom_slices = pytest.mark.skipif(
    not _kernel_has_custom_slices(),
    reason="Linux %s has no scheduler slice of a task's own (6.12 and later)"
    % os.uname().release)


@needs_custom_slices
def test_worker_threads_run_to_cpu_slice_and_reload_changes_it(start_echod):
    d = start_echod(threads=2, cpu_slice=300)
    assert _worker_slices(d, 2) == [300000, 300000]
    old_worker = d.worker_pid()
    d.write_config(threads=3, cpu_slice=500)
    d.signal(signal.SIGHUP)
    wait_until(lambda: d.worker_pid() != old_worker,
               what="a new worker process after SIGHUP")
    assert _worker_slices(d, 3) == [500000] * 3
    d.stop()


def test_cpu_slice_is_set_without_a_warning(start_echod):
    """On any kernel: the request is taken (older ones ignore the slice),
    so nothing is logged about it, at start or after a reload."""
    d = start_echod(threads=2, cpu_slice=300)
    old_worker = d.worker_pid()
    d.write_config(cpu_slice=500)
    d.signal(signal.SIGHUP)
    wait_until(lambda: d.worker_pid() != old_worker,
               what="a new worker process after SIGHUP")
    with d.connect() as c:
        c.expect(GREETING)
    assert "scheduler slice" not in d.stderr(), d.stderr()
    d.stop()


@needs_custom_slices
def test_zero_cpu_slice_keeps_the_kernel_slice(start_echod):
    d = start_echod(threads=2, cpu_slice=0, greeting="", reply_prefix="")
    main_slice = procinfo.thread_slices(d.pid, "echod")[d.pid]
    assert main_slice is not None
    assert _worker_slices(d, 2) == [main_slice, main_slice]
    with d.connect() as c:
        c.send(b"x\n")
        c.expect(b"x\n")
    d.stop()
