"""Slow storage for bench/slow-storage: a read-only FUSE passthrough of a backing
directory that sleeps a fixed delay in every read call, a stand-in for a busy disk or a
network mount. Everything but the file bodies (lookups, attributes, listings, opens)
answers at once. Multi-threaded (libfuse's default loop), so reads the kernel sends at
once sleep side by side, as requests queued on one disk would, and a lookup never waits
behind a sleeping read.

Every read call is logged to --log as "read PATH OFFSET SIZE START END" (START and END:
time.monotonic(), the same clock in every process), so the caller can count what reached
the storage and when.

    python3 bench/lib/slowfs.py BACKING MOUNTPOINT [--delay-ms 30] [--read-kib 128] [--log FILE] [--allow-other]

Runs in the foreground until SIGTERM or SIGINT, which unmount it (libfuse's handlers)."""

import argparse
import errno
import os
import sys
import threading
import time

import mfusepy

# What a lookup answers with: the backing file's own stat, these fields of it.
STAT_FIELDS = ("st_mode", "st_ino", "st_nlink", "st_uid", "st_gid", "st_size",
               "st_atime_ns", "st_mtime_ns", "st_ctime_ns", "st_blocks", "st_blksize")
STATVFS_FIELDS = ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail", "f_files",
                  "f_ffree", "f_favail", "f_flag", "f_namemax")


class SlowPassthrough(mfusepy.Operations):
    """The backing directory, read-only, each read call delayed."""

    use_ns = True  # times as integer nanoseconds (st_mtime_ns), not floats

    def __init__(self, backing, delay, read_bytes, log):
        self.backing = os.path.realpath(backing)
        self.delay = delay
        self.read_bytes = read_bytes
        self.log = log
        self.log_lock = threading.Lock()

    def init_with_config(self, conn, config):
        # The kernel splits reads at the mount's max_read option, and libfuse 3.14 stops
        # unless init asks for the same. max_readahead caps the kernel's readahead
        # window (it can only lower the mount's read_ahead_kb, 128 KiB by default).
        conn.max_read = self.read_bytes
        conn.max_readahead = self.read_bytes

    def _real(self, path):
        return os.path.join(self.backing, path.lstrip("/"))

    def getattr(self, path, fh=None):
        try:
            status = os.lstat(self._real(path))
        except OSError as error:
            raise mfusepy.FuseOSError(error.errno) from None
        attributes = {field: getattr(status, field) for field in STAT_FIELDS}
        for name in ("atime", "mtime", "ctime"):
            attributes[f"st_{name}"] = attributes.pop(f"st_{name}_ns")
        return attributes

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._real(path))

    def open(self, path, flags):
        if flags & os.O_ACCMODE != os.O_RDONLY:
            raise mfusepy.FuseOSError(errno.EROFS)
        try:
            return os.open(self._real(path), os.O_RDONLY | os.O_CLOEXEC)
        except OSError as error:
            raise mfusepy.FuseOSError(error.errno) from None

    def read(self, path, size, offset, fh):
        start = time.monotonic()
        time.sleep(self.delay)
        data = os.pread(fh, size, offset)
        end = time.monotonic()
        if self.log is not None:
            with self.log_lock:
                self.log.write(f"read {path} {offset} {size} {start:.6f} {end:.6f}\n")
        return data

    def release(self, path, fh):
        os.close(fh)
        return 0

    def statfs(self, path):
        status = os.statvfs(self.backing)
        return {field: getattr(status, field) for field in STATVFS_FIELDS}


def mount_options(read_bytes, allow_other):
    """The options the mount gets, as mfusepy keywords. Why each:
    - kernel_cache: keep the page cache across opens. Without it the kernel drops a
      file's cached pages at every open(2), so a server that opens per request (nginx
      without open_file_cache) would read even the hot file from slow storage every time.
      With it, only the benchmark's explicit drop makes a file cold.
    - attr_timeout, entry_timeout: nothing changes under the mount during a run, so
      attributes and names are cached for an hour instead of asked again every second.
    - ro: the benchmark only reads; writes fail with EROFS.
    - allow_other: a server started as root serves as nobody (Ferry, nginx), and a FUSE
      mount is otherwise open only to the user who mounted it.
    - max_read: the largest read call the storage gets. Left open, the kernel sends
      reads as large as its readahead window grows (256 KiB for cat here, 1 MiB with a
      bigger read_ahead_kb), so the delay per byte would depend on the reader.
    Not direct_io: that would bypass the page cache, the very thing sendfile reads from."""
    options = {"foreground": True, "ro": True, "kernel_cache": True, "attr_timeout": 3600,
               "entry_timeout": 3600, "max_read": read_bytes, "fsname": "ferry-slowfs",
               "subtype": "slowfs"}
    if allow_other:
        options["allow_other"] = True
    return options


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("backing", help="the directory whose files the mount shows")
    parser.add_argument("mountpoint")
    parser.add_argument("--delay-ms", type=float, default=30.0, help="sleep per read call (default 30)")
    parser.add_argument("--read-kib", type=int, default=128,
                        help="largest read call, and the most readahead the kernel may do (default 128)")
    parser.add_argument("--log", help="append a line per read call to this file")
    parser.add_argument("--allow-other", action="store_true", help="let other users in (root only)")
    args = parser.parse_args()
    log = open(args.log, "a", buffering=1) if args.log else None
    try:
        read_bytes = args.read_kib * 1024
        mfusepy.FUSE(SlowPassthrough(args.backing, args.delay_ms / 1000, read_bytes, log), args.mountpoint,
                     **mount_options(read_bytes, args.allow_other))
    except RuntimeError as error:
        # libfuse's main returns 8 when a signal ended its loop: the normal way out here.
        if str(error) != "8":
            sys.exit(f"slowfs: libfuse stopped with status {error} (mount failed?)")
    finally:
        if log is not None:
            log.close()


if __name__ == "__main__":
    main()
