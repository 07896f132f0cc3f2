"""Processes: free ports, a server's CPU time over its whole process tree, its children and
threads, the memory of its session, tying a child's life to the script's, stopping a
process group, the temp dirs of runs that were killed, and the kernel's count of TCP
connections opened."""

import ctypes
import os
import signal
import socket
import tempfile
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stat_fields(pid):
    """Fields of /proc/PID/stat after the command name (which may hold spaces), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read().decode("ascii", "replace")
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def _all_parents():
    """{pid: parent pid} for every process on the machine."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(entry)
            if fields:
                parents[int(entry)] = int(fields[1])
    return parents


def _children_by_parent():
    """{pid: [its live children]} for every process on the machine."""
    children = {}
    for pid, parent in _all_parents().items():
        children.setdefault(parent, []).append(pid)
    return children


def children(parent):
    """The live children of PARENT (not zombies), in order of their PIDs."""
    found = _children_by_parent().get(parent, [])
    return sorted(pid for pid in found if (_stat_fields(pid) or ["Z"])[0] != "Z")


def threads(pid):
    """Every thread (task) ID of process PID, or [] when it is gone."""
    try:
        return sorted(int(task) for task in os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return []


def process_tree(root):
    """ROOT and all its live descendants, found through the parent links in /proc/*/stat."""
    children = _children_by_parent()
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def tree_cpu_seconds(root):
    """User + system CPU seconds of ROOT's process tree: for every live member its own
    time (all threads) plus that of the children it has reaped (cutime, cstime), so a
    worker that exited still counts once its parent waited for it."""
    ticks = 0
    for pid in process_tree(root):
        fields = _stat_fields(pid)
        if fields:
            # After the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt
            # cmajflt utime stime cutime cstime: utime is the 12th (index 11).
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / CLOCK_TICKS


def tcp_active_opens():
    """The kernel's count of TCP connections this machine opened (connect calls that
    sent a SYN), from /proc/net/snmp."""
    with open("/proc/net/snmp") as f:
        rows = [line.split() for line in f if line.startswith("Tcp:")]
    names, values = rows[0], rows[1]
    return int(values[names.index("ActiveOpens")])


def session_members(session):
    """Live processes whose session id is SESSION (a server started with setsid keeps
    its workers there even when they leave its process group or lose their parent)."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(entry)
            # After the name: state ppid pgrp session; zombies need no signal.
            if fields and int(fields[3]) == session and fields[0] != "Z":
                members.append(int(entry))
    return members


def stale_workdirs(prefix, marker):
    """Temp dirs left by bench runs that were killed: named PREFIX + PID + "-...", whose
    PID is no longer a process with MARKER (bytes) in its command line."""
    root = tempfile.gettempdir()
    stale = []
    for entry in os.listdir(root):
        pid = entry[len(prefix):].split("-")[0] if entry.startswith(prefix) else ""
        if not pid.isdigit():
            continue  # not a directory of ours
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                alive = marker in f.read()
        except (OSError, ValueError):
            alive = False
        if not alive:
            stale.append(os.path.join(root, entry))
    return stale


_PR_SET_PDEATHSIG = 1


def end_with_parent():
    """In the child before exec: SIGTERM when the bench script dies, even by SIGKILL, so
    nothing it started outlives the run (each child runs in its own session, out of reach
    of the terminal)."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def stop_session(process, timeout=15.0):
    """Ends a server started in its own session: SIGTERM to its process group, a wait
    for it to drain and exit, then SIGKILL to whatever of its session is left.
    Returns the leader's exit status."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    for _ in range(50):
        members = session_members(process.pid)
        if not members:
            break
        for pid in members:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)
    return process.wait()


def _kib_field(path, name):
    """The value in kB of the line NAME: in a /proc file such as status, or None."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def session_memory(session):
    """Memory of every live process of SESSION, summed: Pss (each shared page split
    among the processes that map it, from /proc/PID/smaps_rollup, so shared pages of a
    preforked pool count once) and VmRSS (shared pages counted in each process), in KiB."""
    pss = rss = 0
    members = session_members(session)
    for pid in members:
        pss += _kib_field(f"/proc/{pid}/smaps_rollup", "Pss") or 0
        rss += _kib_field(f"/proc/{pid}/status", "VmRSS") or 0
    return {"pss_kib": pss, "rss_kib": rss, "processes": len(members)}
