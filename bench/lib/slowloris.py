"""The slow-client workload: a normal client asks for the page on a new connection every
INTERVAL, first alone (its baseline), then beside ATTACKERS connections that each send a
request line and a Host header and then one more header line every TRICKLE seconds,
never ending the head (slowloris). One process holds them all on non-blocking sockets."""

import selectors
import statistics
import time

from . import rawhttp
from .eventloop import Loop
from .stats import percentile

ATTACK_HEAD = b"GET /index.html HTTP/1.1\r\nHost: x\r\n"
ATTACK_LINE = b"X-a: b\r\n"
NORMAL_REQUEST = b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"

WHEEL_SLOTS = 100        # the attack's header lines go out in 100 slices per TRICKLE
CONNECT_BATCH = 100      # attack connections opened at once, then a 10 ms pause
RAMP_LIMIT = 5.0         # seconds the attack may take to connect before the client starts
STATES = ("open", "answered", "connecting", "closed", "reset", "failed")  # and "not started"


class Trickler:
    """One attack connection. state: connecting, open, answered (the server sent bytes,
    a 408 say, and has not closed yet), closed (the server ended it), reset, or failed
    (the connect did not succeed); answered: the server sent bytes at some time."""

    def __init__(self, loop, port):
        self.loop = loop
        self.state = "connecting"
        self.answered = False
        self.sock = None
        try:
            self.sock = rawhttp.connect(port)
        except OSError:
            self.state = "failed"
            return
        loop.watch(self.sock, selectors.EVENT_WRITE, self._on_ready)

    def send_line(self):
        if self.state not in ("open", "answered"):
            return
        try:
            self.sock.send(ATTACK_LINE)
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self._end("reset")

    def close(self):
        if self.sock is not None:
            self.loop.forget(self.sock)
            rawhttp.abort(self.sock)
            self.sock = None

    def _on_ready(self, mask):
        if self.sock is None:
            return
        try:
            if self.state == "connecting":
                rawhttp.connected(self.sock)
                self.sock.send(ATTACK_HEAD)
                self.state = "open"
                self.loop.watch(self.sock, selectors.EVENT_READ, self._on_ready)
                return
            chunk = self.sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._end("failed" if self.state == "connecting" else "reset")
            return
        if chunk:
            self.answered = True
            self.state = "answered"
        else:
            self._end("closed")

    def _end(self, state):
        self.state = state
        self.close()


class Attack:
    def __init__(self, loop, port, count, trickle):
        self.loop = loop
        self.port = port
        self.count = count
        self.trickle = trickle
        self.tricklers = []
        self.tick = 0

    def start(self):
        now = time.monotonic()
        for batch, first in enumerate(range(0, self.count, CONNECT_BATCH)):
            size = min(CONNECT_BATCH, self.count - first)
            self.loop.at(now + batch * 0.01, lambda size=size: self._open(size))
        self.loop.at(now + self.trickle / WHEEL_SLOTS, self._on_tick)

    def connected(self):
        return (len(self.tricklers) == self.count
                and not any(t.state == "connecting" for t in self.tricklers))

    def counts(self):
        states = [t.state for t in self.tricklers]
        found = {state: states.count(state) for state in STATES}
        found["not started"] = self.count - len(self.tricklers)
        found["closed after an answer"] = sum(1 for t in self.tricklers
                                              if t.answered and t.state == "closed")
        return found

    def close(self):
        for trickler in self.tricklers:
            trickler.close()

    def _open(self, size):
        self.tricklers += [Trickler(self.loop, self.port) for _ in range(size)]

    def _on_tick(self):
        slot = self.tick % WHEEL_SLOTS
        for trickler in self.tricklers[slot::WHEEL_SLOTS]:
            trickler.send_line()
        self.tick += 1
        self.loop.at(time.monotonic() + self.trickle / WHEEL_SLOTS, self._on_tick)


def _normal_client(loop, port, seconds, interval, timeout):
    """Starts a request every INTERVAL for SECONDS (on schedule, whether or not the
    earlier ones were answered) and runs LOOP until each has an outcome."""
    exchanges, finished = [], []
    start = time.monotonic()
    total = max(1, int(seconds / interval))

    def launch():
        exchanges.append(rawhttp.Exchange(loop, port, NORMAL_REQUEST, timeout, finished.append))

    for k in range(total):
        loop.at(start + k * interval, launch)
    loop.run(start + seconds + timeout + 1.0, lambda: len(finished) == total)
    for exchange in exchanges:
        exchange.close()
    return _summary(exchanges, total)


def _summary(exchanges, total):
    latencies = sorted(e.latency * 1000 for e in exchanges if e.outcome == "ok")
    failures = {}
    for exchange in exchanges:
        if exchange.outcome != "ok":
            kind = exchange.outcome or "no outcome"
            failures[kind] = failures.get(kind, 0) + 1
    missing = total - len(exchanges)
    if missing:
        failures["not started"] = missing
    return {
        "requests": total,
        "ok": len(latencies),
        "failures": total - len(latencies),
        "failure_kinds": failures,
        "p50_ms": statistics.median(latencies) if latencies else None,
        "p99_ms": percentile(latencies, 0.99) if latencies else None,
        "max_ms": latencies[-1] if latencies else None,
    }


def measure(port, attackers, seconds, interval=0.05, timeout=2.0, trickle=2.0):
    """The normal client alone, then beside the attack. Latency percentiles are over
    the answered requests; failures (timeouts, refusals, resets, non-200s) are counted
    apart. attack_at_start / attack_at_end: the attack connections' states when the
    client started and when it ended (open: still held, unanswered)."""
    loop = Loop()
    attack = Attack(loop, port, attackers, trickle)
    try:
        baseline = _normal_client(loop, port, seconds, interval, timeout)
        ramp_started = time.monotonic()
        attack.start()
        loop.run(ramp_started + RAMP_LIMIT, attack.connected)
        ramp = time.monotonic() - ramp_started
        at_start = attack.counts()
        under_attack = _normal_client(loop, port, seconds, interval, timeout)
        at_end = attack.counts()
    finally:
        attack.close()
        loop.close()
    p99, base_p99 = under_attack["p99_ms"], baseline["p99_ms"]
    return {
        "attackers": attackers,
        "seconds": seconds,
        "baseline": baseline,
        "attack": under_attack,
        "p99_ratio": p99 / base_p99 if p99 is not None and base_p99 else None,
        "ramp_s": ramp,
        "attack_at_start": at_start,
        "attack_at_end": at_end,
    }
