"""The pool of Gemini keys (GEMINI_API_KEYS): which key each attempt of a call goes out with.

Each attempt (client.py) takes a usable key and holds it until its call is over (a stream: until
it is closed). KEY_POOL_STRATEGY=least-in-flight (the default) takes the key with the fewest calls
in flight per unit of weight, and among equals the next in turn; round-robin takes keys in turn.
"In turn" is nginx's smooth weighted round robin: each key `weight` times per round, spread
through the round rather than in a burst.

A key is left out for a while when Gemini answers about the key rather than the request:
- a 429, for the model of the call only (Gemini's quotas are per project and per model: its
  RESOURCE_EXHAUSTED names quotaDimensions.model): the (key, model) pair cools down for the
  RetryInfo delay Gemini gave (else KEY_COOLDOWN_SECONDS), while the key's calls to other
  models go on;
- 401, 403, or 400 API_KEY_INVALID (which upstream/errors.py makes a 401): the whole key is
  disabled for DISABLED_COOLDOWNS cooldowns, then tried again (a key restored in Google's
  console comes back by itself; a revoked one is refused again, on one call that moves to
  another key), and logged once by name each time it is disabled. So is a Vertex AI account
  (VERTEX_ACCOUNTS_FILE: one entry per project or service account, never sent as a key) whose
  access token could not be had.
client.py tries such a call once more, at once, on another key usable for its model. A call
names its model to acquire(); one without (listing or looking up models, which generate nothing)
needs a key that is not disabled, whatever its cooldowns. When no key is usable for the model,
the pool answers: 429 `rate_limit_exceeded` while some key is cooling down for it (Retry-After:
the soonest back), 503 `upstream_keys_unavailable` when every key is disabled.

"Usable", in state() (so /readyz) and in the usable gauge, means not disabled: a key cooling
down for one model still serves the others, and a per-model count would not fit one number per
key. The cooldowns show as the 429s counted per key.

A pool of one key (GEMINI_API_KEY alone, or GEMINI_API_KEYS with one entry) leaves nothing out:
with nowhere else to go, Gemini's own answer is the best one (a 429 with its Retry-After), and
the next call asks Gemini again (a cooldown would refuse calls Gemini may accept by then). It
counts calls and 429s, and costs a call nothing else.

With REDIS_URL, the cooldowns of (key, model) and the disabled keys are shared by every worker
and machine (key_sharing.py). Keys never leave this module but towards Gemini: logs, metrics and
errors name them by their names.
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
# A Vertex AI account whose token google-auth could not get: the account is at fault, not the call.
CREDENTIALS_REFUSED = "upstream_credentials_refused"


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
    __slots__ = ("cooling", "current", "disabled_until", "header", "in_flight", "name", "reported", "secret",
                 "shared_id", "weight")

    def __init__(self, key: UpstreamKey):
        self.secret, self.name, self.weight = key.key, key.name, key.weight
        self.header = key.key if key.sent else None  # a Vertex AI account's is no key
        self.shared_id = shared_id(key.key)
        self.in_flight = 0
        self.current = 0  # smooth weighted round robin's running score
        self.cooling: dict[str, float] = {}  # model -> until when (the pool's clock)
        self.disabled_until = float("-inf")
        self.reported = True  # what the usable gauge was last told

    def enabled(self, now: float) -> bool:
        return self.disabled_until <= now

    def usable(self, now: float, model: str | None) -> bool:
        return self.enabled(now) and (model is None or self.cooling.get(model, now) <= now)

    def cool(self, model: str, now: float, seconds: float) -> None:
        # The ended cooldowns go when a new one comes: a key holds only models Gemini rate-limited lately.
        self.cooling = {name: until for name, until in self.cooling.items() if until > now}
        self.cooling[model] = max(self.cooling.get(model, now), now + seconds)


class Lease:
    """One attempt's key: `header` goes in x-goog-api-key (None: the SDK client's own key);
    `model` is the model the call is for (None: a call without one); release() (once or more)
    when the call is over."""
    __slots__ = ("_entry", "_pool", "header", "key", "model", "name")

    def __init__(self, key: str, name: str | None, header: str | None, pool: KeyPool | None = None,
                 entry: _Key | None = None, model: str | None = None):
        self.key, self.name, self.header, self.model = key, name, header, model
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
        self.secrets = tuple(key.key for key in keys if key.sent and key.key != STAND_IN_KEY)
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

    def acquire(self, model: str | None = None, avoid: str | None = None) -> Lease:
        """A key usable for `model` (a call without one: any key not disabled) other than `avoid`
        (the one that just failed), held until released; the pool's own 429 or 503 when there is none."""
        if self._single is not None:
            self._events.sent(self._single.name)
            return self._single
        now = self._clock()
        self._pull(now)
        with self._lock:
            changed = self._reconcile(now)
            candidates = [key for key in self._keys if key.name != avoid and key.usable(now, model)]
            if candidates:
                if self._least_in_flight:
                    fewest = min(key.in_flight / key.weight for key in candidates)
                    candidates = [key for key in candidates if key.in_flight / key.weight == fewest]
                chosen = _in_turn(candidates)
                chosen.in_flight += 1
        self._report(changed)
        if not candidates:
            raise self._exhausted(now, model)
        self._events.sent(chosen.name)
        return Lease(chosen.secret, chosen.name, chosen.header, self, chosen, model)

    def _release(self, key: _Key) -> None:
        with self._lock:
            key.in_flight -= 1

    def failed(self, lease: Lease, error: ApiError) -> bool:
        """Takes note of an attempt Gemini refused; True when that was about its key (now cooling
        down for the lease's model, or disabled), so that the call may go to another key."""
        if lease._pool is not self:  # a client's own key
            return False
        if error.status == 429:
            self._events.rate_limited(lease.name)
        entry = next((key for key in self._keys if key.name == lease.name), None) if self.failover else None
        if entry is None or (error.status != 429 and error.status not in _KEY_FAILURES
                             and error.code != CREDENTIALS_REFUSED):
            return False
        if error.status != 429:
            self._disable(entry, error)
        elif lease.model is not None:
            self._cool(entry, lease.model, float(error.headers.get("Retry-After") or self._cooldown))
        # A 429 on a call without a model names no model's quota: nothing rests, the call moves on.
        return True

    def _cool(self, entry: _Key, model: str, seconds: float) -> None:
        now = self._clock()
        with self._lock:
            was_usable = entry.usable(now, model)
            entry.cool(model, now, seconds)
        if was_usable:
            log.warning("upstream key %s rate-limited by Gemini for %s: cooling down for %d s on that model",
                        entry.name, model, seconds)
        if self._shared is not None:
            self._shared.push_cooldown(entry.shared_id, model, seconds)

    def _disable(self, entry: _Key, error: ApiError) -> None:
        now, seconds = self._clock(), self._cooldown * DISABLED_COOLDOWNS
        with self._lock:
            was_disabled = not entry.enabled(now)
            entry.disabled_until = max(entry.disabled_until, now + seconds)
            changed = self._reconcile(now)
        self._report(changed)
        if not was_disabled:
            log.error("Gemini refused upstream key %s (%s %s): left out for %d s, calls go to the other keys",
                      entry.name, error.status, error.upstream or error.code, seconds)
        if self._shared is not None:
            self._shared.push_disabled(entry.shared_id, seconds)

    def state(self) -> dict[str, int]:
        """{"usable": U, "total": T}, as /readyz reports it: U counts the keys not disabled (a key
        cooling down for one model still serves the others)."""
        now = self._clock()
        self._pull(now)
        with self._lock:
            changed = self._reconcile(now)
            usable = sum(key.enabled(now) for key in self._keys)
        self._report(changed)
        return {"usable": usable, "total": len(self._keys)}

    def exhausted(self, model: str | None = None) -> ApiError | None:
        """The pool's own answer when no key is usable for `model` now (after a call's last key
        failed), else None."""
        now = self._clock()
        return None if any(key.usable(now, model) for key in self._keys) else self._exhausted(now, model)

    def _exhausted(self, now: float, model: str | None) -> ApiError:
        enabled = [key for key in self._keys if key.enabled(now)]
        if enabled:  # each cooling down for the model (or the one just refused, for a call without one)
            left = [key.cooling.get(model, now) - now for key in enabled] if model is not None else []
            wait = max(1, math.ceil(min((seconds for seconds in left if seconds > 0), default=1)))
            what = f" for {model}" if model is not None else ""
            return ApiError(429, f"Every Gemini key of this gateway is rate-limited by Gemini{what}; one is usable "
                                 f"again in {wait} s.", "rate_limit_error", None, "rate_limit_exceeded",
                            {"Retry-After": str(wait)}, upstream="RESOURCE_EXHAUSTED")
        wait = max(1, math.ceil(min(key.disabled_until - now for key in self._keys)))
        return ApiError(503, "Gemini refused every key of this gateway (its log names them); they are tried again "
                             f"in {wait} s.", "service_unavailable_error", None, "upstream_keys_unavailable",
                        {"Retry-After": str(wait)}, upstream="KEYS_DISABLED")

    def _reconcile(self, now: float) -> list[_Key]:
        """The keys whose usability (not disabled) changed since the gauge was last told (under the lock)."""
        changed = [key for key in self._keys if key.enabled(now) != key.reported]
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
                    for model, seconds in cooling.items():
                        key.cool(model, now, seconds)
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
