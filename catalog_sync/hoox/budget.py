"""A request budget: no window of `window` seconds ever holds more than `limit`
request attempts (api.max_requests_per_minute), across every thread of a run.

The server counts arrivals on its own clock, and a request arrives some time
after it is sent: a slot is free again only `margin` seconds after the window
has passed, so that arrivals delayed by up to `margin` keep to the limit too."""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class RequestBudget:
    """A sliding window of the attempts made; `acquire()` waits for a free slot."""

    def __init__(
        self,
        limit: int,
        *,
        window: float = 60.0,
        margin: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = limit
        self.window = window
        self.margin = margin
        self.used = 0  # attempts made in all
        self._clock = clock
        self._sleep = sleep
        self._times: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one slot, waiting until the window has one; the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                span = self.window + self.margin
                while self._times and self._times[0] + span <= now:
                    self._times.popleft()
                if len(self._times) < self.limit:
                    self._times.append(now)
                    self.used += 1
                    return waited
                # at least a millisecond: a float sum may land a hair short of the edge
                pause = max(self._times[0] + span - now, 0.001)
            if not waited:
                log.info(
                    "request budget: %d in %.0f s used; waiting %.1f s",
                    self.limit,
                    self.window,
                    pause,
                )
            self._sleep(pause)
            waited += pause
