"""The cost of a kept request, counted rather than timed (DESIGN.md, "The cost of a
request"): over a fixed number of kept 1 KiB requests sent by ab, the system calls of a
server's serving processes (strace -c attached to every thread of them) and, where perf
can put a uprobe on libc's malloc, their heap allocations. The same counts for a new
connection per request take every process of the server, so that what a parent does to
accept and pass a connection is counted too. strace stops the server at every system
call, so these runs give counts only: nothing is timed from them."""

import os
import re
import signal
import subprocess
import time

from . import procs
from .data import SMALL_PAGE

CONCURRENCY = 32
MALLOC_EVENT = "probe_libc:malloc"
# The event loop's wait, reported apart: how often a loop waits depends on how requests
# arrive, and under strace that is strace's pace rather than the server's.
WAITS = ("epoll_wait", "epoll_pwait", "epoll_pwait2")
ATTACH_TIMEOUT = 10.0
# After ab's last answer: time for the server to see ab's connections close, so that
# those close calls are counted too.
SETTLE = 0.2


class RequestCost:
    """Counts with the given ab, strace and (optional) perf; files go to SCRATCH."""

    def __init__(self, scratch, ab, strace, perf=None):
        self.scratch = scratch
        self.ab = ab
        self.strace = strace
        self.perf = perf
        # Why heap allocations cannot be counted here (None: not known yet, or they can).
        self.mallocs_skipped = None if perf else "perf is not installed (apt-get install linux-perf)"
        self._probe_ready = False

    def measure(self, server, requests, warmup, count_mallocs, kept=True):
        """One sample of a running SERVER: WARMUP requests, then REQUESTS requests with
        strace attached; with COUNT_MALLOCS, REQUESTS more with perf counting malloc calls
        (a separate run, so strace's stops change nothing there). KEPT: the requests share
        32 kept connections and the serving processes are counted; else each request has a
        connection of its own and every process of the server is counted."""
        url = server.url(SMALL_PAGE)
        warm = self._ab(url, warmup, kept)
        if "error" in warm:
            return {"error": "warm-up: " + warm["error"]}
        # After the warm-up: every worker it needed exists.
        pids = server.serving_processes() if kept else server.all_processes()
        if not pids:
            return {"error": "no serving process found"}
        sample = self._count_syscalls(server.name, pids, url, requests, kept)
        sample.update(server=server.description, command=server.command)
        if count_mallocs and "error" not in sample:
            sample.update(self._count_mallocs(server.name, pids, url, requests, kept))
        return sample

    def _count_syscalls(self, name, pids, url, requests, kept):
        tasks = [task for pid in pids for task in procs.threads(pid)]
        output = os.path.join(self.scratch, f"strace-{name}.txt")
        command = [self.strace, "-c", "-f", "-o", output]
        for task in tasks:
            command += ["-p", str(task)]
        tracer = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        run = None
        try:
            attached = _wait_for(lambda: tracer.poll() is not None
                                 or all(_tracer_of(task) == tracer.pid for task in tasks))
            if attached and tracer.poll() is None:
                run = self._ab(url, requests, kept)
                time.sleep(SETTLE)
        finally:
            errors = _interrupt(tracer)
        if run is None:
            return {"error": f"strace did not attach to {tasks}: {errors.strip()[-300:]}"}
        if "error" in run:
            return run
        try:
            with open(output) as f:
                calls = parse_strace_summary(f.read())
        except OSError as error:
            return {"error": f"no strace summary: {error}"}
        if not calls:
            return {"error": "strace counted no system call"}
        waits = sum(count for call, (count, _) in calls.items() if call in WAITS)
        work = sum(count for call, (count, _) in calls.items() if call not in WAITS)
        ranked = sorted(calls.items(), key=lambda item: -item[1][0])
        return {
            "requests": requests, "concurrency": min(CONCURRENCY, requests), "kept": run["kept"],
            "processes": pids, "threads": tasks,
            "syscalls_per_request": work / requests,
            "epoll_wait_per_request": waits / requests,
            "per_request": {call: count / requests for call, (count, _) in ranked},
            "calls": {call: count for call, (count, _) in ranked},
            "failed_calls": {call: failed for call, (_, failed) in ranked if failed},
        }

    def _count_mallocs(self, name, pids, url, requests, kept):
        """{"mallocs_per_request": n}, {"mallocs_skipped": why}, or {"error": ...}."""
        if not self._malloc_probe(pids[0]):
            return {"mallocs_skipped": self.mallocs_skipped}
        output = os.path.join(self.scratch, f"perf-{name}.csv")
        counter = subprocess.Popen(
            [self.perf, "stat", "-x", ",", "-e", MALLOC_EVENT, "-p", ",".join(map(str, pids)),
             "-o", output], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        run = None
        try:
            counting = _wait_for(lambda: counter.poll() is not None or _has_perf_event(counter.pid))
            if counting and counter.poll() is None:
                run = self._ab(url, requests, kept)
        finally:
            errors = _interrupt(counter)
        if run is None:
            return {"mallocs_skipped": "perf stat did not start: " + errors.strip()[-300:]}
        if "error" in run:
            return run
        try:
            with open(output) as f:
                rows = [line.split(",") for line in f]
        except OSError as error:
            return {"mallocs_skipped": f"no perf stat output: {error}"}
        counts = [row[0] for row in rows if len(row) > 2 and row[2] == MALLOC_EVENT]
        if not counts or not counts[0].isdigit():
            return {"mallocs_skipped": f"perf stat counted nothing ({counts[0] if counts else 'no line'})"}
        return {"mallocs_per_request": int(counts[0]) / requests}

    def _malloc_probe(self, pid):
        """Whether the uprobe on malloc exists, added now (for the libc that PID maps) when
        missing; the probe is left in place for later runs. When it cannot be had, says why
        in mallocs_skipped."""
        if self._probe_ready or self.mallocs_skipped:
            return self._probe_ready
        listed = subprocess.run([self.perf, "probe", "--list=" + MALLOC_EVENT],
                                capture_output=True, text=True, timeout=60)
        if MALLOC_EVENT not in listed.stdout:
            libc = _mapped_libc(pid)
            if libc is None:
                self.mallocs_skipped = f"no libc.so.6 in the memory map of process {pid}"
                return False
            added = subprocess.run([self.perf, "probe", "-x", libc, "--add", "malloc"],
                                   capture_output=True, text=True, timeout=60)
            if added.returncode != 0:
                why = (added.stderr.strip().splitlines() or ["no message"])[-1]
                self.mallocs_skipped = f"perf probe could not put a uprobe on malloc ({why})"
                return False
        self._probe_ready = True
        return True

    def _ab(self, url, requests, kept):
        """REQUESTS requests for URL, CONCURRENCY at a time, over kept connections or
        (not KEPT) a new connection each; the counts ab reports, or {"error": ...} unless
        every request got a 2xx answer."""
        command = [self.ab] + (["-k"] if kept else []) + [
            "-q", "-s", "10", "-n", str(requests), "-c", str(min(CONCURRENCY, requests)), url]
        try:
            # Generous: under strace a server still answers far more than 200 requests a second.
            result = subprocess.run(command, capture_output=True, text=True,
                                    timeout=60 + requests / 200)
        except subprocess.TimeoutExpired:
            return {"error": f"ab did not finish {requests} requests in time"}
        counts = {key: _ab_count(result.stdout, label) for key, label in
                  (("complete", "Complete requests"), ("failed", "Failed requests"),
                   ("kept", "Keep-Alive requests"), ("non_2xx", "Non-2xx responses"))}
        if result.returncode != 0 or counts["complete"] != requests or counts["failed"] or counts["non_2xx"]:
            return {"error": f"ab exit {result.returncode}, {counts}: "
                             f"{(result.stderr or result.stdout).strip()[-200:]}"}
        return counts


def parse_strace_summary(text):
    """{system call: (calls, errors)} from the table strace -c writes."""
    calls = {}
    for line in text.splitlines():
        # % time, seconds, usecs/call, calls, [errors,] name; the header and rules fail isdigit.
        fields = line.split()
        if len(fields) in (5, 6) and fields[3].isdigit() and fields[-1] != "total":
            calls[fields[-1]] = (int(fields[3]), int(fields[4]) if len(fields) == 6 else 0)
    return calls


def _ab_count(report, label):
    found = re.search(rf"^{label}:\s+(\d+)", report, re.MULTILINE)
    return int(found.group(1)) if found else 0


def _wait_for(condition, timeout=ATTACH_TIMEOUT):
    """Whether CONDITION became true within TIMEOUT seconds (checked every 20 ms)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _tracer_of(task):
    """The PID tracing thread TASK (0: none), from /proc/TASK/status."""
    try:
        with open(f"/proc/{task}/status") as f:
            for line in f:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _has_perf_event(pid):
    """Whether process PID holds a perf event descriptor (perf stat has opened its counter)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:[perf_event]":
                return True
        except OSError:
            continue
    return False


def _mapped_libc(pid):
    """The path of the libc.so.6 process PID has mapped, or None."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            for line in f:
                path = line.split()[-1]
                if path.endswith("/libc.so.6"):
                    return path
    except OSError:
        pass
    return None


def _interrupt(process, timeout=10.0):
    """SIGINT (strace detaches and writes its table; perf stat writes its count), a
    bounded wait, SIGKILL if that was not enough; returns what it wrote on stderr."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        _, errors = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, errors = process.communicate()
    return errors or ""
