"""The files every server serves, made the same way on every run: a 1 KiB HTML page and
two binaries whose bytes come from SHAKE-128 of a fixed seed and a chunk counter, so a
run on any machine serves identical bodies (and the sha256 of each is known up front)."""

import hashlib
import os

SEED = b"ferry-bench-compare-v1"
CHUNK = 4 << 20
SMALL_PAGE = "index.html"
MEDIUM_FILE = "100k.bin"
BIG_FILE = "big.bin"


def _html_page(size):
    """An HTML page of exactly SIZE bytes."""
    head = "<!DOCTYPE html>\n<html><head><title>bench</title></head><body>\n<p>"
    tail = "</p>\n</body></html>\n"
    filler = "Ferry moves files. " * (size // 19 + 1)
    return (head + filler[: size - len(head) - len(tail)] + tail).encode("ascii")


def write_stream(path, size, label):
    """Writes SIZE deterministic bytes to PATH; returns their sha256 hex digest."""
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        written, counter = 0, 0
        while written < size:
            n = min(CHUNK, size - written)
            block = hashlib.shake_128(SEED + label + b":%d" % counter).digest(n)
            f.write(block)
            digest.update(block)
            written += n
            counter += 1
    return digest.hexdigest()


def make_site(root, big_size):
    """Creates ROOT with the three files, readable by every user (nginx and h2o drop to
    'nobody' when started as root). Returns {name: {"size", "sha256", "path"}}."""
    os.makedirs(root, exist_ok=True)
    os.chmod(root, 0o755)
    files = {}
    page = _html_page(1024)
    with open(os.path.join(root, SMALL_PAGE), "wb") as f:
        f.write(page)
    files[SMALL_PAGE] = {"size": len(page), "sha256": hashlib.sha256(page).hexdigest()}
    for name, size, label in [(MEDIUM_FILE, 100 * 1024, b"medium"), (BIG_FILE, big_size, b"big")]:
        files[name] = {"size": size, "sha256": write_stream(os.path.join(root, name), size, label)}
    for name in files:
        files[name]["path"] = os.path.join(root, name)
        os.chmod(files[name]["path"], 0o644)
    return files


def read_into_page_cache(path):
    """Reads PATH whole, so that its pages are cached (a sendfile to /dev/null: the
    kernel reads, nothing is copied out; a read loop where that is refused)."""
    with open(path, "rb") as source, open(os.devnull, "wb") as sink:
        size = os.fstat(source.fileno()).st_size
        offset = 0
        try:
            while offset < size:
                sent = os.sendfile(sink.fileno(), source.fileno(), offset, size - offset)
                if sent == 0:
                    return
                offset += sent
        except OSError:
            while source.read(CHUNK):
                pass
