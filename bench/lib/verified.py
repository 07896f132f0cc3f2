"""HTTP/1.1 over persistent connections with every body checked: a blocking client
connection that sends a request, reads the response framed by Content-Length and
either hashes the body (sha256, for large downloads) or keeps it (ranges, small files),
and names why an exchange failed. What bench/faultload and bench/soak drive their load
with; each failure carries when its connection opened and when it failed, so a run can
tell which failures a killed worker explains."""

import errno
import hashlib
import os
import socket
import time

# Why an exchange did not complete. "wrong bytes" is the one a server must never cause:
# a complete response (every Content-Length byte arrived) whose body is not the file's.
RESET = "connection reset"
CLOSED_EARLY = "closed early"          # end of stream before Content-Length was reached
CLOSED_IDLE = "closed between requests"  # a kept connection closed before any byte of the answer
REFUSED = "refused"
TIMEOUT = "timeout"
WRONG = "wrong bytes"
BAD_STATUS = "unexpected status"
KINDS = [RESET, CLOSED_EARLY, CLOSED_IDLE, REFUSED, TIMEOUT, BAD_STATUS, WRONG]

READ_SIZE = 256 * 1024


class Failure(Exception):
    """An exchange that did not complete: KIND is one of KINDS."""

    def __init__(self, kind, detail=""):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


def failure_kind(error):
    if isinstance(error, socket.timeout):
        return TIMEOUT
    if error.errno in (errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED):
        return RESET
    if error.errno == errno.ECONNREFUSED:
        return REFUSED
    if error.errno == errno.ETIMEDOUT:
        return TIMEOUT
    return errno.errorcode.get(error.errno, str(error)).lower()


class FileSet:
    """The files under ROOT a load asks for: their size and sha256, and their bytes on
    demand (for checking ranges)."""

    def __init__(self, root, names):
        self.root = root
        self.files = {}
        for name in names:
            digest = hashlib.sha256()
            size = 0
            with open(os.path.join(root, name), "rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
            self.files[name] = {"size": size, "sha256": digest.hexdigest()}

    def size(self, name):
        return self.files[name]["size"]

    def sha256(self, name):
        return self.files[name]["sha256"]

    def read(self, name, offset, length):
        with open(os.path.join(self.root, name), "rb") as f:
            f.seek(offset)
            return f.read(length)


class Response:
    def __init__(self, status, headers, length, body, digest):
        self.status = status
        self.headers = headers      # lower-case name -> value (the last of a repeated field)
        self.length = length        # Content-Length
        self.body = body            # bytes, when kept
        self.sha256 = digest        # hex digest of the body
        self.closes = headers.get("connection", "").lower() == "close"


class Connection:
    """One persistent connection to 127.0.0.1:PORT, opened on first use and again after
    a failure or a "Connection: close". opened_at is when the current one was opened
    (time.monotonic())."""

    def __init__(self, port, timeout=10.0, host="127.0.0.1"):
        self.port = port
        self.host = host
        self.timeout = timeout
        self.sock = None
        self.opened_at = None
        self.requests = 0          # on the current socket
        self.buffer = b""

    def open(self):
        self.close()
        self.opened_at = time.monotonic()
        try:
            self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as error:
            self.sock = None
            raise Failure(failure_kind(error), str(error)) from None
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.requests = 0
        self.buffer = b""

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None

    def exchange(self, request, keep_body=False, reader=None):
        """Sends REQUEST (bytes) and reads one response. With KEEP_BODY the body is kept
        in memory, else only hashed. READER(n) may slow the reading: it is called before
        each recv with the bytes read so far. Raises Failure; on any failure the
        connection is closed (the next exchange opens a new one)."""
        if self.sock is None:
            self.open()
        reused = self.requests > 0
        try:
            self.sock.sendall(request)
            head = self._read_head(reused)
            status, headers = _parse_head(head)
            if "content-length" not in headers:
                raise Failure(WRONG, f"no Content-Length in {head[:80]!r}")
            length = int(headers["content-length"])
            digest = hashlib.sha256()
            kept = bytearray() if keep_body else None
            received = 0
            if self.buffer:
                part = self.buffer[:length]
                self.buffer = self.buffer[len(part):]
                digest.update(part)
                if kept is not None:
                    kept += part
                received = len(part)
            while received < length:
                if reader is not None:
                    reader(received)
                chunk = self.sock.recv(min(READ_SIZE, length - received))
                if not chunk:
                    raise Failure(CLOSED_EARLY, f"after {received} of {length} body bytes")
                digest.update(chunk)
                if kept is not None:
                    kept += chunk
                received += len(chunk)
        except Failure:
            self.close()
            raise
        except OSError as error:
            self.close()
            raise Failure(failure_kind(error), str(error)) from None
        self.requests += 1
        response = Response(status, headers, length, bytes(kept) if kept is not None else None,
                            digest.hexdigest())
        if response.closes:
            self.close()
        return response

    def _read_head(self, reused):
        data = self.buffer
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(65536)
            if not chunk:
                if not data and reused:
                    raise Failure(CLOSED_IDLE, "end of stream instead of a response")
                raise Failure(CLOSED_EARLY, f"in the head, after {len(data)} bytes")
            data += chunk
            if len(data) > 65536:
                raise Failure(WRONG, "a head over 64 KiB")
        end = data.index(b"\r\n\r\n")
        self.buffer = data[end + 4:]
        return data[:end]


def _parse_head(head):
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    try:
        status = int(parts[1])
    except (IndexError, ValueError):
        raise Failure(WRONG, f"status line {lines[0][:80]!r}") from None
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return status, headers


def get(path, close=False):
    """The bytes of GET PATH over HTTP/1.1."""
    extra = "Connection: close\r\n" if close else ""
    return f"GET /{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()


def download(connection, files, name):
    """GET NAME on CONNECTION, checked: status 200, Content-Length the file's size and
    the body's sha256 the file's. Returns the body's length; raises Failure."""
    response = connection.exchange(get(name))
    if response.status != 200:
        raise Failure(BAD_STATUS, f"{response.status} for /{name}")
    if response.length != files.size(name) or response.sha256 != files.sha256(name):
        raise Failure(WRONG, f"/{name}: {response.length} bytes, sha256 {response.sha256[:12]}, "
                             f"expected {files.size(name)} bytes, {files.sha256(name)[:12]}")
    return response.length
