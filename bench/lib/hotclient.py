"""The hot client of bench/slow-storage: one kept connection that asks for a small file
every INTERVAL seconds, one request at a time (no pipelining), and records when each
request was sent and how long its whole answer took. A request that waited on a stalled
server delays the next one: a stall shows as one long sample, and the requests per
second drop while it lasts."""

import signal
import threading
import time

from . import verified


class HotClient(threading.Thread):
    """Runs from start() until stop(); samples are (sent at, seconds) for answers that
    were 200 with the expected body, failures (sent at, kind) for the others."""

    def __init__(self, port, path, body, interval, timeout):
        super().__init__(daemon=True)
        self.connection = verified.Connection(port, timeout=timeout)
        self.request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
        self.body = body
        self.interval = interval
        self.stopping = threading.Event()
        self.samples = []
        self.failures = []

    def run(self):
        # Signals go to the main thread, whose blocking reads they then interrupt, so a
        # SIGTERM to the script takes effect at once.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
        next_at = time.monotonic()
        while not self.stopping.wait(max(0.0, next_at - time.monotonic())):
            sent = time.monotonic()
            try:
                response = self.connection.exchange(self.request, keep_body=True)
                if response.status == 200 and response.body == self.body:
                    self.samples.append((sent, time.monotonic() - sent))
                else:
                    self.failures.append((sent, f"status {response.status} or wrong body"))
            except verified.Failure as failure:
                self.failures.append((sent, failure.kind))
            next_at = max(sent + self.interval, time.monotonic())
        self.connection.close()

    def stop(self, timeout):
        """Stops after the request in flight; False if that did not end within TIMEOUT."""
        self.stopping.set()
        self.join(timeout)
        return not self.is_alive()

    def latencies_ms(self, start, end):
        """Sorted latencies in ms of the requests sent between START and END."""
        return sorted(seconds * 1000 for sent, seconds in self.samples if start <= sent < end)

    def failures_between(self, start, end):
        return [kind for sent, kind in self.failures if start <= sent < end]
