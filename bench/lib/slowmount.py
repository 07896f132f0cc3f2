"""Slow storage mounted for a run of bench/slow-storage: bench/lib/slowfs.py started in
its own session over a backing directory, waited for until the kernel lists the mount,
and always taken down again (unmounted, the daemon ended); the page-cache state of a
file on it; and the reads its log recorded."""

import os
import signal
import subprocess
import sys
import time

from . import procs
from .tools import find

FSTYPE = "fuse.slowfs"
SLOWFS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "slowfs.py")
MOUNT_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


class MountFailed(Exception):
    """The file system did not mount; the message says why (the daemon's last words)."""


def fuse_mounts():
    """{mountpoint: (fstype, device)} of every FUSE mount of this mount namespace."""
    mounts = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            # After the optional fields, "-" and then: fstype, source, options.
            tail = fields[fields.index("-") + 1:]
            if tail[0].startswith("fuse"):
                mounts[fields[4]] = (tail[0], fields[2])
    return mounts


def unmount(mountpoint):
    """Detaches MOUNTPOINT even when its daemon is gone or busy (lazy unmount)."""
    if find("fusermount3"):
        command = ["fusermount3", "-u", "-z", mountpoint]
    else:
        command = ["umount", "-l", mountpoint]
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class SlowMount:
    """BACKING shown read-only at MOUNTPOINT, each read call delayed DELAY_MS and at most
    READ_KIB long, with as much readahead; every read logged to LOG_PATH, the daemon's
    own output in OUTPUT_PATH. A context manager: the mount exists inside the with block
    and is gone after it, whatever happened."""

    def __init__(self, backing, mountpoint, delay_ms, read_kib, log_path, output_path):
        self.backing = backing
        self.mountpoint = mountpoint
        self.delay_ms = delay_ms
        self.read_kib = read_kib
        self.log_path = log_path
        self.output_path = output_path
        self.process = None

    def __enter__(self):
        os.makedirs(self.mountpoint, exist_ok=True)
        command = [sys.executable, SLOWFS, self.backing, self.mountpoint,
                   "--delay-ms", str(self.delay_ms), "--read-kib", str(self.read_kib), "--log", self.log_path]
        # Started as root, servers serve as nobody: they must be let in.
        if os.geteuid() == 0:
            command.append("--allow-other")
        with open(self.output_path, "ab") as output:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output,
                                            stderr=subprocess.STDOUT, start_new_session=True,
                                            preexec_fn=procs.end_with_parent)
        deadline = time.monotonic() + MOUNT_TIMEOUT
        while self.mountpoint not in fuse_mounts():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise MountFailed(self.output_tail())
            time.sleep(0.05)
        # The daemon can only lower the readahead below the kernel's default; root raises it.
        if os.geteuid() == 0 and self.read_ahead_kb() not in (None, self.read_kib):
            with open(self._read_ahead_path(), "w") as f:
                f.write(f"{self.read_kib}\n")
        return self

    def __exit__(self, *exc):
        if not self.stop():
            raise RuntimeError(f"{self.mountpoint} is still mounted; unmount it with: "
                               f"fusermount3 -u -z {self.mountpoint}")

    def stop(self):
        """Ends the daemon (SIGTERM makes libfuse unmount), unmounts lazily if the mount
        outlived it, and kills what is left. True when nothing is mounted there any more."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        if self.mountpoint in fuse_mounts():
            unmount(self.mountpoint)
        if self.process is not None:
            procs.stop_session(self.process, timeout=STOP_TIMEOUT)
        return self.mountpoint not in fuse_mounts()

    def output_tail(self, lines=3):
        try:
            with open(self.output_path, errors="replace") as f:
                text = f.read().strip().splitlines()
        except OSError:
            text = []
        return " | ".join(text[-lines:]) or "the daemon said nothing"

    def _read_ahead_path(self):
        device = os.stat(self.mountpoint).st_dev
        return f"/sys/class/bdi/{os.major(device)}:{os.minor(device)}/read_ahead_kb"

    def read_ahead_kb(self):
        """The mount's readahead (its backing device's read_ahead_kb), or None."""
        try:
            with open(self._read_ahead_path()) as f:
                return int(f.read())
        except (OSError, ValueError):
            return None


def resident_bytes(path):
    """Bytes of PATH in the page cache, counted by fincore (mincore(2) on a mapping)."""
    result = subprocess.run(["fincore", "--bytes", "--noheadings", "--raw", "--output", "RES", path],
                            capture_output=True, text=True, check=True)
    return int(result.stdout.strip())


def make_cold(path, attempts=20):
    """Drops PATH's pages from the page cache: posix_fadvise(DONTNEED) on it, and when
    that leaves pages (mapped or locked ones) and we are root, drop_caches. Tried again
    for about 2 s while pages remain: reads a stopped server started (read-ahead) still
    complete at the slow storage and fill pages after the first drop. Returns the bytes
    still resident (0 when it worked)."""
    for attempt in range(attempts):
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
        if resident_bytes(path) and os.geteuid() == 0:
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("1\n")
        left = resident_bytes(path)
        if left == 0 or attempt == attempts - 1:
            return left
        time.sleep(0.1)


class Read:
    """One read call the storage served: PATH, OFFSET, SIZE; START and END monotonic."""

    def __init__(self, line):
        _, self.path, offset, size, start, end = line.split()
        self.offset, self.size = int(offset), int(size)
        self.start, self.end = float(start), float(end)


def reads(log_path, path, start, end):
    """The read calls of PATH (as the mount shows it, "/big.bin") that began between
    START and END."""
    with open(log_path) as f:
        found = [Read(line) for line in f if line.startswith("read ")]
    return [read for read in found if read.path == path and start <= read.start <= end]


def most_at_once(found):
    """The most read calls in progress at the same moment."""
    events = sorted([(read.start, 1) for read in found] + [(read.end, -1) for read in found])
    current = peak = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak
