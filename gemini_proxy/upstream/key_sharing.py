"""Cooldowns and disabled keys of the key pool (keys.py) in Redis, shared by every worker and
machine with the same REDIS_URL.

Per Gemini key (named by the SHA-256 of the key: never the key, nor its name, which two gateways
may spell differently, so the same key is the same entry everywhere):
- `gemini-proxy:upstream-key:<digest>:cooldowns`, a hash of model -> until when the key is
  rate-limited for that model (milliseconds since the epoch, on Redis's own clock: TIME, so the
  gateways' clocks need not agree). The hash expires with its latest cooldown; an ended one left
  beside a later one is read as ended.
- `gemini-proxy:upstream-key:<digest>:disabled`, a string that expires when the key's disabled
  time ends (SET with PX).
So a gateway that learns a key is rate-limited for a model, or refused, tells the others at once,
and nothing has to clear it afterwards.

The pool reads every key's states at most once per PULL_SECONDS (one pipelined round trip: TIME,
then an HGETALL and a PTTL per key) and writes one state when Gemini refuses a key (a cooldown:
one script, that keeps the later of two cooldowns and the hash's expiry at its latest), so a call
adds no Redis round trip of its own. A Redis that cannot be reached never fails a call: the pool
keeps its own view meanwhile (what it learns during the outage stays local), the outage is logged
once when it starts and once when it ends (per worker process), and Redis is tried again at most
once per PULL_SECONDS.
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from gemini_proxy.observability.outages import Outage

log = logging.getLogger(__name__)

NAMESPACE = "gemini-proxy"
PULL_SECONDS = 1.0
# A Redis that does not answer must not hold calls: a short timeout and no retries, as for the
# rate limits (access/limits.py). A redis:// URL's own ?socket_timeout= wins.
_REDIS_TIMEOUT = 1.0
# KEYS[1]: a key's cooldowns hash; ARGV: the model, the cooldown in milliseconds. In one script so
# that two gateways cooling the same key at once keep the later end and the latest expiry.
_COOL = """
local now = redis.call('TIME')
local ms = tonumber(ARGV[2])
local ends = now[1] * 1000 + math.floor(now[2] / 1000) + ms
local known = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
if known == nil or known < ends then
  redis.call('HSET', KEYS[1], ARGV[1], string.format('%.0f', ends))
end
if redis.call('PTTL', KEYS[1]) < ms then
  redis.call('PEXPIRE', KEYS[1], ms)
end
return 1
"""


def shared_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _name(key_id: str, kind: str) -> str:
    return f"{NAMESPACE}:upstream-key:{key_id}:{kind}"


class SharedKeyStates:
    def __init__(self, url: str, clock: Callable[[], float] = time.monotonic):
        self._redis = redis.Redis.from_url(url, socket_timeout=_REDIS_TIMEOUT, socket_connect_timeout=_REDIS_TIMEOUT,
                                           retry=Retry(NoBackoff(), 0))
        self._cool = self._redis.register_script(_COOL)
        self._outage = Outage(log, "key pool: Redis", "each gateway process keeps its own key cooldowns until it "
                              "is back", PULL_SECONDS, clock)

    def pull(self, key_ids: Sequence[str]) -> list[tuple[dict[str, float], float]] | None:
        """Per key, the seconds each model's cooldown has left (only those not ended) and the seconds
        its disabled time has left (0 for none); None when Redis cannot be reached."""
        def read():
            pipe = self._redis.pipeline(transaction=False)
            pipe.time()
            for key_id in key_ids:
                pipe.hgetall(_name(key_id, "cooldowns"))
                pipe.pttl(_name(key_id, "disabled"))
            return pipe.execute()
        answers = self._call(read)
        if answers is None:
            return None
        (seconds, microseconds), states = answers[0], answers[1:]
        now_ms = seconds * 1000 + microseconds // 1000
        pulled = []
        for cooldowns, disabled_ms in zip(states[0::2], states[1::2], strict=True):
            cooling = {}
            for model, ends in cooldowns.items():
                try:
                    left = int(ends) - now_ms
                except ValueError:
                    continue  # not written by this module: not a cooldown
                if left > 0:
                    cooling[model.decode() if isinstance(model, bytes) else model] = left / 1000
            # PTTL: -2 when the key does not exist, -1 when it has no expiry (never written so here).
            pulled.append((cooling, max(0, disabled_ms) / 1000))
        return pulled

    def push_cooldown(self, key_id: str, model: str, seconds: float) -> None:
        """Tells every gateway that the key is rate-limited for `model` for `seconds` (at least a millisecond)."""
        self._call(lambda: self._cool(keys=[_name(key_id, "cooldowns")], args=[model, _milliseconds(seconds)]))

    def push_disabled(self, key_id: str, seconds: float) -> None:
        """Tells every gateway that the key is disabled for `seconds` (at least a millisecond)."""
        self._call(lambda: self._redis.set(_name(key_id, "disabled"), "1", px=_milliseconds(seconds)))

    def _call(self, work):
        if self._outage.skip():
            return None
        try:
            result = work()
        except redis.RedisError as exc:
            self._outage.failed(type(exc).__name__)
            return None
        self._outage.succeeded()
        return result

    def close(self) -> None:
        self._redis.close()


def _milliseconds(seconds: float) -> int:
    return max(1, round(seconds * 1000))
