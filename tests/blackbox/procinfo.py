"""procinfo.py: what /proc says about a process (Linux only).

Owns: reading a process's state, parent, children, session, memory,
umask, cwd, descriptors (a copy of a listening socket, through
pidfd_getfd), epoll sets and scheduler slices, for the
daemon, memory and thread tests. Does not own: starting or
stopping processes (echodctl.py).
"""
import ctypes
import os
import socket


def stat(pid):
    """Fields of /proc/PID/stat: state, ppid, pgrp, session; None if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            text = f.read()
    except OSError:         # gone (ENOENT), or going away (ESRCH)
        return None
    fields = text[text.rindex(")") + 2:].split()
    return {"state": fields[0], "ppid": int(fields[1]),
            "pgrp": int(fields[2]), "session": int(fields[3])}


def cpu_seconds(pid):
    """User plus system CPU time pid has used, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid):
    """The pids whose parent is pid, oldest first."""
    kids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = stat(int(name))
            if st is not None and st["ppid"] == pid:
                kids.append(int(name))
    return sorted(kids)


def tree(pid):
    """pid and all its descendants."""
    found = [pid]
    for kid in children(pid):
        found += tree(kid)
    return found


def describe_tree(pid):
    """Every thread of pid and its descendants with what it waits in, to
    show where a process that does not exit is stuck."""
    lines = []
    for p in tree(pid):
        try:
            for tid in sorted(os.listdir("/proc/%d/task" % p), key=int):
                base = "/proc/%d/task/%s/" % (p, tid)
                fields = {}
                for name in ("comm", "wchan", "syscall"):
                    try:
                        with open(base + name) as f:
                            fields[name] = f.read().strip()
                    except OSError as e:
                        fields[name] = "?(%s)" % e.strerror
                lines.append("%d/%s %s wchan=%s syscall=%s" % (
                    p, tid, fields["comm"], fields["wchan"], fields["syscall"][:40]))
        except OSError:
            lines.append("%d: gone" % p)
    return "\n".join(lines)


def alive(pid):
    """True while pid exists and is not a zombie."""
    st = stat(pid)
    return st is not None and st["state"] not in ("Z", "X")


def child_of(pid, parent):
    """True while pid is alive and parent's child; one read of /proc, so a
    process that exits between two checks cannot be half-seen."""
    st = stat(pid)
    return st is not None and st["state"] not in ("Z", "X") and st["ppid"] == parent


def thread_slices(pid, prefix):
    """{tid: se.slice in ns} of pid's threads whose name starts with
    prefix, from /proc/PID/task/TID/sched; a value is None where the
    kernel shows no slice there."""
    slices = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        base = "/proc/%d/task/%s/" % (pid, tid)
        try:
            with open(base + "comm") as f:
                if not f.read().startswith(prefix):
                    continue
            with open(base + "sched") as f:
                text = f.read()
        except OSError:         # the thread has just exited
            continue
        slices[int(tid)] = None
        for line in text.splitlines():
            key, _, val = line.partition(":")
            if key.strip() == "se.slice":
                slices[int(tid)] = int(val)
    return slices


def status_field(pid, name, tid=None):
    """The value of `name:` in /proc/PID/status (of thread tid, if given),
    as a string."""
    path = "/proc/%d/status" % pid if tid is None else "/proc/%d/task/%d/status" % (pid, tid)
    with open(path) as f:
        for line in f:
            key, _, val = line.partition(":")
            if key == name:
                return val.strip()
    raise KeyError(name)


def rss_bytes(pid):
    """Resident set size (VmRSS) in bytes."""
    kib, unit = status_field(pid, "VmRSS").split()
    assert unit == "kB"
    return int(kib) * 1024


def exe(pid):
    """The path of the program pid runs, or None."""
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return None


def fd_target(pid, fd):
    return os.readlink("/proc/%d/fd/%d" % (pid, fd))


def cwd(pid):
    return os.readlink("/proc/%d/cwd" % pid)


def epoll_sets(pid):
    """For each epoll descriptor of pid, the data words of what it
    watches (from /proc/PID/fdinfo), as a list of lists of ints."""
    sets = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) != "anon_inode:[eventpoll]":
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                sets.append([int(line.split("data:")[1].split()[0], 16)
                             for line in f if line.startswith("tfd:")])
        except OSError:     # closed meanwhile
            continue
    return sets


def running(binary, arg):
    """Live processes of binary whose command line holds arg (an echod's
    master and workers, by its config file), wherever they were started."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if arg.encode() in argv and exe(pid) == os.path.realpath(binary) and alive(pid):
            found.append(pid)
    return found


def kill_all(pids):
    """SIGKILL to each of pids that is still there."""
    for pid in pids:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass


_libc = ctypes.CDLL(None, use_errno=True)
_SYS_pidfd_getfd = 438


def listener_copy(pid, port):
    """A copy (pidfd_getfd) of pid's IPv4 listening socket on port."""
    pidfd = os.pidfd_open(pid)
    try:
        for name in os.listdir("/proc/%d/fd" % pid):
            try:
                if not os.readlink("/proc/%d/fd/%s" % (pid, name)).startswith("socket:"):
                    continue
            except OSError:
                continue
            fd = _libc.syscall(_SYS_pidfd_getfd, pidfd, int(name), 0)
            if fd < 0:
                continue
            s = socket.socket(fileno=fd)
            try:
                if (s.family == socket.AF_INET and s.getsockname()[1] == port
                        and s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)):
                    return s
            except OSError:
                pass
            s.close()
    finally:
        os.close(pidfd)
    raise AssertionError("no listening socket on port %d in pid %d" % (port, pid))
