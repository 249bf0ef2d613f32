"""Requests and tokens per minute, per client key, on the `limits` library.

Counters live in memory (each worker process its own) or, with REDIS_URL, in Redis, where
every worker of every machine shares one budget. Requests are counted when admitted; tokens
when the answer is done (from its usage), so a request is refused once the minute's tokens are
spent. Responses carry OpenAI's x-ratelimit-* headers.

When Redis cannot be reached, RATE_LIMIT_FAILURE_MODE decides: "open" (the default) admits
requests without counting them, "closed" refuses them with a 503. Either way the outage is
logged once when it starts and once when it ends (per worker process), each request it touches
is counted in gemini_proxy_rate_limit_unavailable_total, and while it lasts Redis is tried
again at most once a second, so that requests do not each wait for its timeout.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from limits import RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from redis.backoff import NoBackoff
from redis.retry import Retry

from gemini_proxy.access.keys import Client
from gemini_proxy.config import Settings
from gemini_proxy.errors import ApiError
from gemini_proxy.observability.outages import Outage

log = logging.getLogger(__name__)

NAMESPACE = "gemini-proxy"
# A Redis that does not answer must not hold requests: a short timeout and no retries (the next
# request tries again). A redis:// URL's own ?socket_timeout=/&socket_connect_timeout= win.
_REDIS_TIMEOUT = 1.0
# During an outage, how often Redis is tried again.
_PROBE_SECONDS = 1.0
KINDS = {"requests": "requests per minute (RPM)", "tokens": "tokens per minute (TPM)"}


def reset_text(seconds: float) -> str:
    """OpenAI's way of writing a reset time: 20ms, 12s, 6m0s."""
    if seconds < 1:
        return f"{max(0, int(seconds * 1000))}ms"
    minutes, secs = divmod(math.ceil(seconds), 60)
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def _counted(client: Client) -> str:
    """Whom a limit counts: the key (by digest), never its label, which several keys may share."""
    return client.limit_id or client.name


class _Unavailable(Exception):
    """The counters cannot be reached: the storage just failed, or failed lately and the next
    try is not due yet."""


class RateLimits:
    def __init__(self, settings: Settings, unavailable: Callable[[str], None] = lambda action: None,
                 clock: Callable[[], float] = time.monotonic):
        options = {"socket_connect_timeout": _REDIS_TIMEOUT, "socket_timeout": _REDIS_TIMEOUT,
                   "retry": Retry(NoBackoff(), 0)} if settings.redis_url else {}
        self._storage = storage_from_string(settings.redis_url or "memory://", wrap_exceptions=True, **options)
        self._limiter = FixedWindowRateLimiter(self._storage)
        self._defaults = {"requests": settings.rate_limit_rpm, "tokens": settings.rate_limit_tpm}
        self._fail_closed = settings.rate_limit_failure_mode == "closed"
        self._unavailable = unavailable  # counts what an outage did: admitted, refused, tokens_not_counted
        meanwhile = "refused with 503" if self._fail_closed else "admitted without limits"
        self._outage = Outage(log, "rate limit storage", f"requests are {meanwhile} until it is back "
                              f"(RATE_LIMIT_FAILURE_MODE={settings.rate_limit_failure_mode})", _PROBE_SECONDS, clock)

    def _items(self, client: Client) -> dict[str, RateLimitItemPerMinute]:
        amounts = {"requests": client.rpm, "tokens": client.tpm}
        return {kind: RateLimitItemPerMinute(amount)
                for kind, default in self._defaults.items()
                if (amount := amounts[kind] if amounts[kind] is not None else default) > 0}

    def _call(self, operation, *args, **kwargs):
        """One limiter operation; _Unavailable when the storage cannot be reached (now or lately)."""
        if self._outage.skip():
            raise _Unavailable()
        try:
            result = operation(*args, **kwargs)
        except StorageError as exc:
            self._outage.failed(type(exc.storage_error).__name__)
            raise _Unavailable() from exc
        self._outage.succeeded()
        return result

    def admit(self, client: Client) -> None:
        """Counts the request; a 429 when the minute's requests or tokens are spent."""
        items, key = self._items(client), _counted(client)
        try:
            if "tokens" in items and not self._call(self._limiter.test, items["tokens"], NAMESPACE, "tokens", key):
                raise self._exceeded("tokens", items["tokens"], client)
            if "requests" in items and not self._call(self._limiter.hit, items["requests"], NAMESPACE, "requests", key):
                raise self._exceeded("requests", items["requests"], client)
        except _Unavailable:
            if self._fail_closed:
                self._unavailable("refused")
                raise ApiError(503, "Rate limits cannot be checked right now, so the request was not accepted. "
                                    "Please retry shortly.", "service_unavailable_error", None,
                               "rate_limit_unavailable", {"Retry-After": "1"}) from None
            self._unavailable("admitted")  # a limiter that cannot count must not take the gateway down

    def charge(self, client: Client, tokens: int) -> None:
        item = self._items(client).get("tokens")
        if item and tokens > 0:
            try:
                self._call(self._limiter.hit, item, NAMESPACE, "tokens", _counted(client), cost=tokens)
            except _Unavailable:
                self._unavailable("tokens_not_counted")

    def _exceeded(self, kind: str, item: RateLimitItemPerMinute, client: Client) -> ApiError:
        stats = self._call(self._limiter.get_window_stats, item, NAMESPACE, kind, _counted(client))
        wait = max(0.0, stats.reset_time - time.time())
        return ApiError(
            429, f"Rate limit reached for {KINDS[kind]} on key {client.name}: limit {item.amount}. "
                 f"Please try again in {reset_text(wait)}.",
            kind, None, "rate_limit_exceeded", {"Retry-After": str(max(1, math.ceil(wait)))})

    def headers(self, client: Client) -> dict[str, str]:
        headers = {}
        try:
            for kind, item in self._items(client).items():
                stats = self._call(self._limiter.get_window_stats, item, NAMESPACE, kind, _counted(client))
                headers[f"x-ratelimit-limit-{kind}"] = str(item.amount)
                headers[f"x-ratelimit-remaining-{kind}"] = str(max(0, stats.remaining))
                headers[f"x-ratelimit-reset-{kind}"] = reset_text(stats.reset_time - time.time())
        except _Unavailable:
            return {}  # no figures rather than made-up ones
        return headers
