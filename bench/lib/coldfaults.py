"""The slow storage's fault checks: a cold file truncated or deleted on the storage while
Ferry's readers are bringing its pages in, in both body modes. Ferry's worker must go on
(the same process answers the hot file afterwards), the download must end (no hang),
and no byte of it may be foreign: deleted, the whole old body (the storage keeps the file
open); truncated, a prefix of the old body, possibly ending in zeros (the FUSE mount still
believes the old size and fills what the storage no longer has with zeros), or cut short.
"""

import hashlib
import os
import subprocess

from . import servers, slowmount

FAULT_BYTES = 8 << 20
# When the fault is made: the download has this much, so the rest is still being read.
FAULT_AFTER = 1 << 20
TRUNCATED_TO = 2 << 20


def body(size):
    """Deterministic bytes no zero run can be mistaken for."""
    block = hashlib.sha256(b"fault").digest() * 2048  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


def check(make_server, mount, backing, hot_path, hot_body):
    """Runs every fault against every Ferry mode; returns lines "name fault: ok|problem"."""
    lines = []
    for name in ("ferry", "ferry-copy"):
        for fault in ("truncated", "deleted"):
            problem = _one(make_server(name), mount, backing, fault, hot_path, hot_body)
            lines.append(f"{name} {fault}: {problem or 'ok'}")
    return lines


def _one(server, mount, backing, fault, hot_path, hot_body):
    original = body(FAULT_BYTES)
    # A name of its own: the mount keeps the attributes of a file it saw (its size) a while.
    name = f"{server.name}-{fault}.bin"
    path = os.path.join(backing, name)
    with open(path, "wb") as f:
        f.write(original)
    os.chmod(path, 0o644)
    if slowmount.make_cold(os.path.join(mount.mountpoint, name)):
        return "the file was not cold"
    server.start(hot_body, path=hot_path)
    try:
        workers = server.serving_processes()
        curl = subprocess.Popen(["curl", "--silent", "--max-time", "60", "--output", "-",
                                 f"http://127.0.0.1:{server.port}/{name}"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        received = curl.stdout.read(FAULT_AFTER)
        if fault == "truncated":
            os.truncate(path, TRUNCATED_TO)
        else:
            os.unlink(path)
        received += curl.stdout.read()
        curl.wait(timeout=60)
        curl.stdout.close()
        if server.serving_processes() != workers:
            return f"the worker changed ({workers} before, {server.serving_processes()} after)"
        _, answered = servers.fetch_page(server.port, hot_path)
        if answered != hot_body:
            return "the hot file was not answered after the fault"
    finally:
        server.stop()
    if fault == "deleted":
        return None if received == original else f"{len(received)} bytes, not the whole old body"
    kept = received.rstrip(b"\0")
    if original[:len(kept)] != kept:
        return "bytes that are neither the old body nor zeros"
    return None
