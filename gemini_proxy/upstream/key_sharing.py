"""Cooldowns and disabled keys of the key pool (keys.py) in Redis, shared by every worker and
machine with the same REDIS_URL.

Each state is one Redis key that expires when the state ends (SET with PX):
`gemini-proxy:upstream-key:<SHA-256 of the Gemini key>:cooldown` and `...:disabled`. So a
gateway that learns a key is rate-limited tells the others at once, and nothing has to clear it
afterwards; the digest (never the key, nor its name, which two gateways may spell differently)
makes the same key the same entry everywhere.

The pool reads the states at most once per PULL_SECONDS (one pipelined round trip) and writes one
when Gemini refuses a key, so a call adds no Redis round trip of its own. A Redis that cannot be
reached never fails a call: the pool keeps its own view meanwhile (what it learns during the
outage stays local), the outage is logged once when it starts and once when it ends (per worker
process), and Redis is tried again at most once per PULL_SECONDS.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

NAMESPACE = "gemini-proxy"
KINDS = ("cooldown", "disabled")
PULL_SECONDS = 1.0
# A Redis that does not answer must not hold calls: a short timeout and no retries, as for the
# rate limits (access/limits.py). A redis:// URL's own ?socket_timeout= wins.
_REDIS_TIMEOUT = 1.0


def shared_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class SharedKeyStates:
    def __init__(self, url: str, clock: Callable[[], float] = time.monotonic):
        self._redis = redis.Redis.from_url(url, socket_timeout=_REDIS_TIMEOUT, socket_connect_timeout=_REDIS_TIMEOUT,
                                           retry=Retry(NoBackoff(), 0))
        self._clock = clock
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0

    @staticmethod
    def _name(key_id: str, kind: str) -> str:
        return f"{NAMESPACE}:upstream-key:{key_id}:{kind}"

    def pull(self, key_ids: Sequence[str]) -> list[tuple[float, float]] | None:
        """Seconds each key has left (cooldown, disabled), 0 for none; None when Redis cannot be reached."""
        def read():
            pipe = self._redis.pipeline(transaction=False)
            for key_id in key_ids:
                for kind in KINDS:
                    pipe.pttl(self._name(key_id, kind))
            return pipe.execute()
        left = self._call(read)
        if left is None:
            return None
        # PTTL: -2 when the key does not exist, -1 when it has no expiry (never written so here).
        seconds = [max(0, ms) / 1000 for ms in left]
        return list(zip(seconds[0::2], seconds[1::2], strict=True))

    def push(self, key_id: str, kind: str, seconds: float) -> None:
        """Tells every gateway that the key is in this state for `seconds` (at least a millisecond)."""
        self._call(lambda: self._redis.set(self._name(key_id, kind), "1", px=max(1, round(seconds * 1000))))

    def _call(self, work):
        if self._down_since is not None and self._clock() < self._retry_at:
            return None
        try:
            result = work()
        except redis.RedisError as exc:
            with self._lock:
                self._retry_at = self._clock() + PULL_SECONDS
                if self._down_since is None:
                    self._down_since = self._clock()
                    log.error("key pool: Redis unavailable (%s): each gateway process keeps its own key cooldowns "
                              "until it is back", type(exc).__name__)
            return None
        if self._down_since is not None:
            with self._lock:
                if self._down_since is not None:
                    log.warning("key pool: Redis is back after %.1f s", self._clock() - self._down_since)
                    self._down_since = None
        return result

    def close(self) -> None:
        self._redis.close()
