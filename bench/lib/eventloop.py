"""A small single-threaded event loop over non-blocking sockets (selectors) with timers:
what the slow-client and idle-connection workloads run on, so one process holds
thousands of connections."""

import heapq
import itertools
import selectors
import time


class Loop:
    def __init__(self):
        self.selector = selectors.DefaultSelector()
        self.timers = []
        self.sequence = itertools.count()

    def watch(self, sock, events, handler):
        """Calls HANDLER(mask) when SOCK is ready for EVENTS (registers or changes)."""
        try:
            self.selector.modify(sock, events, handler)
        except KeyError:
            self.selector.register(sock, events, handler)

    def forget(self, sock):
        try:
            self.selector.unregister(sock)
        except (KeyError, ValueError):
            pass

    def at(self, when, action):
        """Calls ACTION() once time.monotonic() reaches WHEN."""
        heapq.heappush(self.timers, (when, next(self.sequence), action))

    def run(self, deadline, done=lambda: False):
        """Runs until DONE() is true or the monotonic clock passes DEADLINE."""
        while not done():
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                heapq.heappop(self.timers)[2]()
                if done():
                    return
            if now >= deadline:
                return
            wake = min(deadline, self.timers[0][0]) if self.timers else deadline
            for key, mask in self.selector.select(max(0.0, wake - time.monotonic())):
                key.data(mask)

    def close(self):
        self.selector.close()
