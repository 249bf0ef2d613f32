"""The pool of Gemini keys (GEMINI_API_KEYS): which key each attempt of a call goes out with.

Each attempt (client.py) takes a usable key and holds it until its call is over (a stream: until
it is closed). KEY_POOL_STRATEGY=least-in-flight (the default) takes the key with the fewest calls
in flight per unit of weight, and among equals the next in turn; round-robin takes keys in turn.
"In turn" is nginx's smooth weighted round robin: each key `weight` times per round, spread
through the round rather than in a burst.

A key leaves the pool for a while when Gemini answers about the key rather than the request:
- a 429: it cools down for the RetryInfo delay Gemini gave (else KEY_COOLDOWN_SECONDS);
- 401, 403, or 400 API_KEY_INVALID (which upstream/errors.py makes a 401): it is disabled for
  DISABLED_COOLDOWNS cooldowns, then tried again (a key restored in Google's console comes
  back by itself; a revoked one is refused again, on one call that moves to another key), and
  logged once by name each time it is disabled.
client.py tries such a call once more, at once, on another usable key. When no key is usable,
the pool answers: 429 `rate_limit_exceeded` while some key is cooling down (Retry-After: the
soonest back), 503 `upstream_keys_unavailable` when every key is disabled.

A pool of one key (GEMINI_API_KEY alone, or GEMINI_API_KEYS with one entry) leaves nothing out:
with nowhere else to go, Gemini's own answer is the best one (a 429 with its Retry-After), and
the next call asks Gemini again (a cooldown would refuse calls Gemini may accept: its quotas are
per model). It counts calls and 429s, and costs a call nothing else.

With REDIS_URL, cooldowns and disabled keys are shared by every worker and machine
(key_sharing.py). Keys never leave this module but towards Gemini: logs, metrics and errors
name them by their names.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from gemini_proxy.config_parsing import STAND_IN_KEY, UpstreamKey
from gemini_proxy.errors import ApiError
from gemini_proxy.upstream.key_sharing import PULL_SECONDS, SharedKeyStates, shared_id

log = logging.getLogger(__name__)

# How long a refused key stays out, in cooldowns (with the default 60 s: ten minutes).
DISABLED_COOLDOWNS = 10
_KEY_FAILURES = frozenset({401, 403})


def _ignore(*_args) -> None:
    return None


@dataclass(frozen=True)
class KeyEvents:
    """What the pool reports, by key name (app.py points them at the metrics)."""
    sent: Callable[[str], None] = _ignore
    rate_limited: Callable[[str], None] = _ignore
    usable: Callable[[str, bool], None] = _ignore


NO_EVENTS = KeyEvents()


class _Key:
    __slots__ = ("cooling_until", "current", "disabled_until", "in_flight", "name", "reported", "secret", "shared_id",
                 "weight")

    def __init__(self, key: UpstreamKey):
        self.secret, self.name, self.weight = key.key, key.name, key.weight
        self.shared_id = shared_id(key.key)
        self.in_flight = 0
        self.current = 0  # smooth weighted round robin's running score
        self.cooling_until = self.disabled_until = float("-inf")
        self.reported = True  # what the usable gauge was last told

    def usable(self, now: float) -> bool:
        return self.cooling_until <= now and self.disabled_until <= now


class Lease:
    """One attempt's key: `header` goes in x-goog-api-key (None: the SDK client's own key);
    release() (once or more) when the call is over."""
    __slots__ = ("_entry", "_pool", "header", "key", "name")

    def __init__(self, key: str, name: str | None, header: str | None, pool: KeyPool | None = None,
                 entry: _Key | None = None):
        self.key, self.name, self.header = key, name, header
        self._pool, self._entry = pool, entry

    @classmethod
    def passed_through(cls, api_key: str) -> Lease:
        """A client's own Gemini key (GATEWAY_PASS_THROUGH_KEYS): no pool involved."""
        return cls(api_key, None, api_key)

    def release(self) -> None:
        entry, self._entry = self._entry, None
        if entry is not None and self._pool is not None:
            self._pool._release(entry)


class KeyPool:
    def __init__(self, keys: tuple[UpstreamKey, ...], strategy: str = "least-in-flight", cooldown: float = 60.0,
                 redis_url: str | None = None, events: KeyEvents = NO_EVENTS,
                 clock: Callable[[], float] = time.monotonic):
        self._keys = [_Key(key) for key in keys]
        # Never to be echoed (client.py redacts them); the stand-in is no secret, and the word is
        # better left in the emulator's messages.
        self.secrets = tuple(key.key for key in keys if key.key != STAND_IN_KEY)
        self.failover = len(keys) > 1
        self._least_in_flight = strategy == "least-in-flight"
        self._cooldown = cooldown
        self._events = events
        self._clock = clock
        self._lock = threading.Lock()
        # One key: always the SDK client's own (no header), never held, never left out.
        self._single = None if self.failover else Lease(keys[0].key, keys[0].name, None, self)
        self._shared = SharedKeyStates(redis_url, clock) if redis_url and self.failover else None
        self._pull_lock = threading.Lock()
        self._pull_at = float("-inf")
        for key in self._keys:
            events.usable(key.name, True)

    def acquire(self, avoid: str | None = None) -> Lease:
        """A usable key other than `avoid` (the one that just failed), held until released; the
        pool's own 429 or 503 when there is none."""
        if self._single is not None:
            self._events.sent(self._single.name)
            return self._single
        now = self._clock()
        self._pull(now)
        with self._lock:
            changed = self._reconcile(now)
            candidates = [key for key in self._keys if key.name != avoid and key.usable(now)]
            if candidates:
                if self._least_in_flight:
                    fewest = min(key.in_flight / key.weight for key in candidates)
                    candidates = [key for key in candidates if key.in_flight / key.weight == fewest]
                chosen = _in_turn(candidates)
                chosen.in_flight += 1
        self._report(changed)
        if not candidates:
            raise self._exhausted(now)
        self._events.sent(chosen.name)
        return Lease(chosen.secret, chosen.name, chosen.secret, self, chosen)

    def _release(self, key: _Key) -> None:
        with self._lock:
            key.in_flight -= 1

    def failed(self, lease: Lease, error: ApiError) -> bool:
        """Takes note of an attempt Gemini refused; True when that was about its key (now cooling
        down or disabled), so that the call may go to another key."""
        if lease._pool is not self:  # a client's own key
            return False
        if error.status == 429:
            self._events.rate_limited(lease.name)
        entry = next((key for key in self._keys if key.name == lease.name), None) if self.failover else None
        if entry is None or (error.status != 429 and error.status not in _KEY_FAILURES):
            return False
        now = self._clock()
        if error.status == 429:
            kind, seconds = "cooldown", float(error.headers.get("Retry-After") or self._cooldown)
        else:
            kind, seconds = "disabled", self._cooldown * DISABLED_COOLDOWNS
        with self._lock:
            was_usable, was_disabled = entry.usable(now), entry.disabled_until > now
            if kind == "cooldown":
                entry.cooling_until = max(entry.cooling_until, now + seconds)
            else:
                entry.disabled_until = max(entry.disabled_until, now + seconds)
            changed = self._reconcile(now)
        self._report(changed)
        if kind == "disabled" and not was_disabled:
            log.error("Gemini refused upstream key %s (%s %s): left out for %d s, calls go to the other keys",
                      lease.name, error.status, error.upstream or error.code, seconds)
        elif kind == "cooldown" and was_usable:
            log.warning("upstream key %s rate-limited by Gemini: cooling down for %d s", lease.name, seconds)
        if self._shared is not None:
            self._shared.push(entry.shared_id, kind, seconds)
        return True

    def state(self) -> dict[str, int]:
        """{"usable": U, "total": T}, as /readyz reports it."""
        now = self._clock()
        self._pull(now)
        with self._lock:
            changed = self._reconcile(now)
            usable = sum(key.usable(now) for key in self._keys)
        self._report(changed)
        return {"usable": usable, "total": len(self._keys)}

    def exhausted(self) -> ApiError | None:
        """The pool's own answer when no key is usable now (after a call's last key failed), else None."""
        now = self._clock()
        return None if any(key.usable(now) for key in self._keys) else self._exhausted(now)

    def _exhausted(self, now: float) -> ApiError:
        cooling = [key.cooling_until - now for key in self._keys if key.disabled_until <= now < key.cooling_until]
        disabled = [key.disabled_until - now for key in self._keys if key.disabled_until > now]
        if cooling or not disabled:
            wait = max(1, math.ceil(min(cooling, default=1)))
            return ApiError(429, f"Every Gemini key of this gateway is rate-limited by Gemini; one is usable again "
                                 f"in {wait} s.", "rate_limit_error", None, "rate_limit_exceeded",
                            {"Retry-After": str(wait)}, upstream="RESOURCE_EXHAUSTED")
        wait = max(1, math.ceil(min(disabled)))
        return ApiError(503, "Gemini refused every key of this gateway (its log names them); they are tried again "
                             f"in {wait} s.", "service_unavailable_error", None, "upstream_keys_unavailable",
                        {"Retry-After": str(wait)}, upstream="KEYS_DISABLED")

    def _reconcile(self, now: float) -> list[_Key]:
        """The keys whose usability changed since the gauge was last told (under the lock)."""
        changed = [key for key in self._keys if key.usable(now) != key.reported]
        for key in changed:
            key.reported = not key.reported
        return changed

    def _report(self, changed: list[_Key]) -> None:
        for key in changed:
            self._events.usable(key.name, key.reported)

    def _pull(self, now: float) -> None:
        """What the other gateways learnt, at most once per PULL_SECONDS (by one thread; the
        others go on with what they know)."""
        if self._shared is None or now < self._pull_at or not self._pull_lock.acquire(blocking=False):
            return
        try:
            self._pull_at = now + PULL_SECONDS
            states = self._shared.pull([key.shared_id for key in self._keys])
            if states is None:
                return
            with self._lock:
                for key, (cooling, disabled) in zip(self._keys, states, strict=True):
                    if cooling:
                        key.cooling_until = max(key.cooling_until, now + cooling)
                    if disabled:
                        key.disabled_until = max(key.disabled_until, now + disabled)
        finally:
            self._pull_lock.release()

    def close(self) -> None:
        if self._shared is not None:
            self._shared.close()


def _in_turn(candidates: list[_Key]) -> _Key:
    """nginx's smooth weighted round robin: each key `weight` times per round, interleaved."""
    total, best = 0, candidates[0]
    for key in candidates:
        key.current += key.weight
        total += key.weight
        if key.current > best.current:
            best = key
    best.current -= total
    return best
