"""The idle-connection workload: COUNT connections that each make one keep-alive request
for the page, read the answer and then stay open, quiet, all held by one process."""

import time

from . import rawhttp
from .eventloop import Loop

REQUEST = b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"
IN_FLIGHT = 256          # connections between connect and answer at once
EXCHANGE_TIMEOUT = 10.0  # seconds for one connection's request and answer
OPEN_LIMIT = 120.0       # seconds for all of them


def hold(port, count, settle, while_held):
    """Opens COUNT kept connections, waits SETTLE seconds (a server that closes idle or
    answered connections shows it by then), calls WHILE_HELD() and returns its value
    with the counts: answered, failed (by kind), held (still open), closed (by the
    server). Every socket is closed before it returns."""
    loop = Loop()
    exchanges, finished = [], []
    started = time.monotonic()

    def launch():
        while len(exchanges) < count and len(exchanges) - len(finished) < IN_FLIGHT:
            exchanges.append(rawhttp.Exchange(loop, port, REQUEST, EXCHANGE_TIMEOUT, on_finished,
                                              keep=True))

    def on_finished(exchange):
        finished.append(exchange)
        loop.at(time.monotonic(), launch)  # not from inside an Exchange's own call

    try:
        launch()
        loop.run(started + OPEN_LIMIT, lambda: len(finished) == count)
        opened = time.monotonic() - started
        loop.run(time.monotonic() + settle)
        held = sum(1 for e in exchanges if e.is_open())
        measured = while_held()
        failures = {}
        for exchange in exchanges:
            if exchange.outcome != "ok":
                kind = exchange.outcome or "no answer in time"
                failures[kind] = failures.get(kind, 0) + 1
        if len(exchanges) < count:
            failures["not started in time"] = count - len(exchanges)
        answered = sum(1 for e in exchanges if e.outcome == "ok")
    finally:
        for exchange in exchanges:
            exchange.close()
        loop.close()
    return {
        "connections": count,
        "answered": answered,
        "failed": count - answered,
        "failure_kinds": failures,
        "held": held,
        "closed": answered - held,
        "open_seconds": opened,
        "while_held": measured,
    }
