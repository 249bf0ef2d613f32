"""Is Gemini reachable with the configured keys? Asked at most once per READY_CACHE_SECONDS; and
is any key of the pool usable (upstream/keys.py)?"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from gemini_proxy.config import Settings
from gemini_proxy.errors import ApiError

if TYPE_CHECKING:  # the gunicorn worker imports DRAINING in the arbiter, which needs no SDK
    from gemini_proxy.upstream.client import Upstream

# In a request's WSGI environ: True once the worker serving it has begun to drain (SIGTERM).
DRAINING = "gemini_proxy.draining"


class Readiness:
    def __init__(self, upstream: Upstream, settings: Settings, clock: Callable[[], float] = time.monotonic):
        self._upstream = upstream
        self.upstream_name = settings.upstream_name  # what /readyz names as the upstream it checks
        self._model = settings.resolve_model(None)
        self._ttl = settings.ready_cache_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._answer: tuple[bool, str] = (False, "not checked yet")
        self._expires = float("-inf")

    def keys(self) -> dict[str, int]:
        """{"usable": U, "total": T}: the gateway's Gemini keys, and how many are not disabled now
        (a key cooling down after a 429 is so for one model only, and still serves the others;
        never cached: the pool knows it without asking Gemini)."""
        return self._upstream.keys.state()

    def check(self, keys: dict[str, int]) -> tuple[bool, str]:
        """(ready, reason): some key usable, and the default model retrievable (a key accepted)."""
        if not keys["usable"]:
            return False, f"no usable Gemini key: all {keys['total']} disabled after Gemini refused them"
        with self._lock:
            if self._clock() >= self._expires:
                try:
                    self._upstream.get_model(self._model)
                    self._answer = (True, f"{self._model} reachable")
                except ApiError as error:
                    self._answer = (False, f"Gemini answered {error.status}: {error.message}")
                self._expires = self._clock() + self._ttl
            return self._answer
