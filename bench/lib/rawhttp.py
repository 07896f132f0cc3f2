"""One HTTP request and its response on a non-blocking socket of its own, driven by a
Loop: the normal client of the slow-client workload, and the one request each idle
connection makes before it goes quiet."""

import errno
import re
import selectors
import socket
import struct
import time

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)


def connect(port):
    """A non-blocking socket whose connect to 127.0.0.1:PORT is under way."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    code = sock.connect_ex(("127.0.0.1", port))
    if code not in (0, errno.EINPROGRESS):
        sock.close()
        raise OSError(code, errno.errorcode.get(code, str(code)))
    return sock


def connected(sock):
    """After the socket turned writable: raises the connect's error, if it had one."""
    code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if code:
        raise OSError(code, errno.errorcode.get(code, str(code)))


def abort(sock):
    """Closes SOCK with a reset (SO_LINGER 0), so thousands of client sockets leave no
    TIME_WAIT behind."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def failure_kind(error):
    """A short name for why a socket operation failed: refused, reset, timeout, …"""
    names = {errno.ECONNREFUSED: "refused", errno.ECONNRESET: "reset", errno.EPIPE: "reset",
             errno.ETIMEDOUT: "timeout", errno.EMFILE: "client out of descriptors",
             errno.EADDRNOTAVAIL: "client out of ports"}
    return names.get(error.errno, errno.errorcode.get(error.errno, str(error)).lower())


class Exchange:
    """Connects, sends REQUEST, reads one response (framed by Content-Length, or to the
    end of the stream) and calls FINISHED(self) once. outcome is then "ok" (a 200 with
    its whole body) or why not; latency is seconds from the connect to the body's last
    byte. With KEEP, an answered connection stays open and watched: server_closed
    tells whether the server closed it since (an end of stream or a reset)."""

    def __init__(self, loop, port, request, timeout, finished, keep=False):
        self.loop = loop
        self.pending = request
        self.finished = finished
        self.keep = keep
        self.outcome = None
        self.status = None
        self.latency = None
        self.server_closed = False
        self.received = bytearray()
        self.state = "connecting"
        self.sock = None
        self.started = time.monotonic()
        try:
            self.sock = connect(port)
        except OSError as error:
            # The kind now: `error` is unbound once the except block ends.
            kind = failure_kind(error)
            loop.at(self.started, lambda: self._finish(kind))
            return
        loop.watch(self.sock, selectors.EVENT_WRITE, self._on_ready)
        loop.at(self.started + timeout, self._on_timeout)

    def is_open(self):
        """Answered and still open on both sides (KEEP only)."""
        return self.outcome == "ok" and self.sock is not None and not self.server_closed

    def close(self):
        if self.sock is not None:
            self.loop.forget(self.sock)
            abort(self.sock)
            self.sock = None

    def _on_timeout(self):
        if self.outcome is None:
            self._finish("timeout")

    def _on_ready(self, mask):
        if self.sock is None:
            return
        try:
            if self.state == "connecting":
                connected(self.sock)
                self.state = "sending"
            if self.state == "sending":
                sent = self.sock.send(self.pending)
                self.pending = self.pending[sent:]
                if not self.pending:
                    self.state = "reading"
                    self.loop.watch(self.sock, selectors.EVENT_READ, self._on_ready)
                return
            chunk = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as error:
            if self.outcome is None:
                self._finish(failure_kind(error))
            else:
                self.server_closed = True
                self.close()
            return
        if self.outcome is not None:  # an answered, kept connection
            if not chunk:
                self.server_closed = True
                self.close()
            return
        if chunk:
            self.received += chunk
            if self._complete(at_end=False):
                self._finish_answered()
        elif self._complete(at_end=True):
            self.server_closed = True
            self._finish_answered()
        else:
            self._finish("closed before the response ended")

    def _complete(self, at_end):
        head_end = self.received.find(b"\r\n\r\n")
        if head_end < 0:
            return False
        head = bytes(self.received[:head_end])
        try:
            self.status = int(head.split(b" ", 2)[1])
        except (IndexError, ValueError):
            self.status = None
            return True
        length = _CONTENT_LENGTH.search(head)
        if length is None:
            return at_end
        return len(self.received) - head_end - 4 >= int(length.group(1))

    def _finish_answered(self):
        self.latency = time.monotonic() - self.started
        self._finish("ok" if self.status == 200 else f"status {self.status}")

    def _finish(self, outcome):
        self.outcome = outcome
        if not (self.keep and outcome == "ok" and not self.server_closed):
            self.close()
        self.finished(self)
