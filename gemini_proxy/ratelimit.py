"""Requests and tokens per minute, per client key, on the `limits` library.

Counters live in memory (each worker process its own) or, with REDIS_URL, in Redis, where
every worker of every machine shares one budget. Requests are counted when admitted; tokens
when the answer is done (from its usage), so a request is refused once the minute's tokens are
spent. Responses carry OpenAI's x-ratelimit-* headers.
"""
from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from .auth import Client
from .config import Settings
from .errors import ApiError

log = logging.getLogger(__name__)

NAMESPACE = "gemini-proxy"
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


class RateLimits:
    def __init__(self, settings: Settings):
        self._storage = storage_from_string(settings.redis_url or "memory://", wrap_exceptions=True)
        self._limiter = FixedWindowRateLimiter(self._storage)
        self._defaults = {"requests": settings.rate_limit_rpm, "tokens": settings.rate_limit_tpm}

    def _items(self, client: Client) -> dict[str, RateLimitItemPerMinute]:
        amounts = {"requests": client.rpm, "tokens": client.tpm}
        return {kind: RateLimitItemPerMinute(amount)
                for kind, default in self._defaults.items()
                if (amount := amounts[kind] if amounts[kind] is not None else default) > 0}

    def admit(self, client: Client) -> None:
        """Counts the request; a 429 when the minute's requests or tokens are spent."""
        items = self._items(client)
        try:
            if "tokens" in items and not self._limiter.test(items["tokens"], NAMESPACE, "tokens", _counted(client)):
                raise self._exceeded("tokens", items["tokens"], client)
            if "requests" in items and not self._limiter.hit(items["requests"], NAMESPACE, "requests", _counted(client)):
                raise self._exceeded("requests", items["requests"], client)
        except StorageError as exc:
            # A limiter that cannot count must not take the gateway down with it.
            log.warning("rate limit storage unavailable, request admitted: %s", exc)

    def charge(self, client: Client, tokens: int) -> None:
        item = self._items(client).get("tokens")
        if item and tokens > 0:
            try:
                self._limiter.hit(item, NAMESPACE, "tokens", _counted(client), cost=tokens)
            except StorageError as exc:
                log.warning("rate limit storage unavailable, %d tokens not counted: %s", tokens, exc)

    def _exceeded(self, kind: str, item: RateLimitItemPerMinute, client: Client) -> ApiError:
        wait = max(0.0, self._limiter.get_window_stats(item, NAMESPACE, kind, _counted(client)).reset_time - time.time())
        return ApiError(
            429, f"Rate limit reached for {KINDS[kind]} on key {client.name}: limit {item.amount}. "
                 f"Please try again in {reset_text(wait)}.",
            kind, None, "rate_limit_exceeded", {"Retry-After": str(max(1, math.ceil(wait)))})

    def headers(self, client: Client) -> dict[str, str]:
        headers = {}
        try:
            for kind, item in self._items(client).items():
                stats = self._limiter.get_window_stats(item, NAMESPACE, kind, _counted(client))
                headers[f"x-ratelimit-limit-{kind}"] = str(item.amount)
                headers[f"x-ratelimit-remaining-{kind}"] = str(max(0, stats.remaining))
                headers[f"x-ratelimit-reset-{kind}"] = reset_text(stats.reset_time - time.time())
        except StorageError as exc:
            log.warning("rate limit storage unavailable, no x-ratelimit headers: %s", exc)
        return headers
