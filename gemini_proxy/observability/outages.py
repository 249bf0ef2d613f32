"""The outage of a shared store (Redis) as the calls that use it see it: logged once when it
starts and once when it ends (per worker process), and tried again at most once per `probe`
seconds while it lasts, so that requests do not each wait for its timeout."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable


class Outage:
    def __init__(self, log: logging.Logger, what: str, meanwhile: str, probe: float,
                 clock: Callable[[], float] = time.monotonic):
        self._log, self._what, self._meanwhile = log, what, meanwhile
        self._probe, self._clock = probe, clock
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0

    def skip(self) -> bool:
        """Whether the store is down and the next try is not due yet: do not call it now."""
        return self._down_since is not None and self._clock() < self._retry_at

    def failed(self, cause: str) -> None:
        """A call failed (`cause`: the exception's name); the first failure of an outage is logged."""
        with self._lock:
            self._retry_at = self._clock() + self._probe
            if self._down_since is None:
                self._down_since = self._clock()
                self._log.error("%s unavailable (%s): %s", self._what, cause, self._meanwhile)

    def succeeded(self) -> None:
        """A call reached the store: the end of an outage is logged."""
        if self._down_since is not None:
            with self._lock:
                if self._down_since is not None:
                    self._log.warning("%s is back after %.1f s", self._what, self._clock() - self._down_since)
                    self._down_since = None
