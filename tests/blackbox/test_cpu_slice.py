"""test_cpu_slice.py: cpu_slice reaches the worker threads.

Covers: each worker thread (echod-wN) asks the kernel for scheduler
slices of cpu_slice microseconds (se.slice in /proc/PID/task/TID/sched;
Linux 6.12 and later use it), a reload gives the new worker process the
new value, and cpu_slice = 0 leaves the kernel's own slice. When the
worker threads yield is cpushare.c's, covered by check_cpushare.
"""
import os
import re
import signal

import procinfo
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


def test_worker_threads_run_to_cpu_slice_and_reload_changes_it(start_echod):
    d = start_echod(threads=2, cpu_slice=300)
    if _kernel_has_custom_slices():
        assert _worker_slices(d, 2) == [300000, 300000]
    old_worker = d.worker_pid()
    d.write_config(threads=3, cpu_slice=500)
    d.signal(signal.SIGHUP)
    wait_until(lambda: d.worker_pid() != old_worker,
               what="a new worker process after SIGHUP")
    if _kernel_has_custom_slices():
        assert _worker_slices(d, 3) == [500000] * 3
    assert "scheduler slice" not in d.stderr()
    d.stop()


def test_zero_cpu_slice_keeps_the_kernel_slice(start_echod):
    d = start_echod(threads=2, cpu_slice=0, greeting="", reply_prefix="")
    main_slice = procinfo.thread_slices(d.pid, "echod")[d.pid]
    assert _worker_slices(d, 2) == [main_slice, main_slice]
    with d.connect() as c:
        c.send(b"x\n")
        c.expect(b"x\n")
    d.stop()
