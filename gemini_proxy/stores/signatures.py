"""Thought signatures, kept by tool-call id between the turns of a conversation.

Gemini returns an opaque thoughtSignature with a function call and newer models refuse the
next turn unless it comes back on the same part. OpenAI clients know nothing of it, so the
gateway remembers it under the tool-call id it handed out: in a bounded in-process LRU, and
behind it in Redis when REDIS_URL is set (every worker of every machine, each signature kept
SIGNATURE_TTL), else in a SQLite file that every gunicorn worker on the machine shares and
that survives restarts.

A signature is bound to the model that made it: Gemini 3 refuses another model's signature as
corrupted, which a model fallback (relay/fallbacks.py) or a client switching models would send.
So each is stored with its model ("<model> <signature>"; neither holds a space) and found only
for that model; the translation then sends Google's documented stand-in instead.

Losing a signature is not fatal (the translation falls back to that stand-in), so storage
failures are logged, never raised. A Redis outage is logged once when it starts and once when
it ends (per worker process), each read or write it touches is counted
(gemini_proxy_state_unavailable_total{store="signatures"}) and served by the LRU alone, Redis
is tried again at most once a second (as the rate limits do, access/limits.py), and the
signatures written meanwhile are sent along with the first write that reaches it again.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from gemini_proxy.config import Settings
from gemini_proxy.observability.outages import Outage
from gemini_proxy.stores.sqlite import SharedFile

log = logging.getLogger(__name__)

NAMESPACE = "gemini-proxy"
_SCHEMA = ("CREATE TABLE IF NOT EXISTS signatures"
           " (call_id TEXT PRIMARY KEY, signature TEXT NOT NULL, created REAL NOT NULL)")
_PRUNE_EVERY = 1000
# A Redis that does not answer must not hold requests: a short timeout and no retries, as for
# the rate limits and the stored responses. A redis:// URL's own ?socket_timeout= wins.
_REDIS_TIMEOUT = 1.0
# During an outage, how often Redis is tried again.
_PROBE_SECONDS = 1.0


def _bound(model: str, signature: str) -> str:
    return f"{model} {signature}"


def _for_model(stored: str, model: str) -> str | None:
    """The signature in a stored value if `model` made it. A value without a model was stored
    before signatures were bound to one: it goes to any model, as it did then."""
    maker, sep, signature = stored.partition(" ")
    if not sep:
        return stored
    return signature if maker == model else None


class SqliteSignatures:
    """Signatures in a SQLite file shared by the workers of one machine, the newest `max_rows`."""

    def __init__(self, path: str, max_rows: int):
        self._path, self._max_rows = path, max_rows
        self._file = SharedFile(path, (_SCHEMA,))
        self._lock = threading.Lock()
        self._puts = 0

    def _execute(self, work, *arguments):
        """work(*arguments): one of the file's calls (SharedFile.run or .one); None when it failed."""
        try:
            return work(*arguments)
        except sqlite3.Error as exc:
            log.warning("thought signature store %s: %s", self._path, exc)
            return None

    def put_many(self, values: Mapping[str, str]) -> None:
        now = time.time()
        rows = [(call_id, value, now) for call_id, value in values.items()]
        self._execute(self._file.run, lambda db: db.executemany("INSERT OR REPLACE INTO signatures VALUES (?, ?, ?)",
                                                                rows))
        with self._lock:
            self._puts += 1
            prune = self._puts % _PRUNE_EVERY == 0
        if prune:
            self._execute(self._file.one, "DELETE FROM signatures WHERE rowid IN "
                          "(SELECT rowid FROM signatures ORDER BY created DESC, rowid DESC LIMIT -1 OFFSET ?)",
                          (self._max_rows,))

    def get_many(self, call_ids: list[str]) -> dict[str, str]:
        marks = ",".join("?" * len(call_ids))
        rows = self._execute(self._file.one, f"SELECT call_id, signature FROM signatures WHERE call_id IN ({marks})",
                             call_ids)
        return dict(rows or ())


class RedisSignatures:
    """Signatures in Redis, `gemini-proxy:signature:<call id>`, each expiring after `ttl` seconds.
    Never raises: while Redis cannot be reached, reads find nothing and writes wait (at most
    `pending_max` of them) for the next write that reaches it."""

    def __init__(self, url: str, ttl: int, pending_max: int, unavailable: Callable[[], None] = lambda: None,
                 clock: Callable[[], float] = time.monotonic):
        self._redis = redis.Redis.from_url(url, socket_timeout=_REDIS_TIMEOUT, socket_connect_timeout=_REDIS_TIMEOUT,
                                           retry=Retry(NoBackoff(), 0))
        self._ttl, self._pending_max = ttl, pending_max
        self._unavailable = unavailable
        self._outage = Outage(log, "thought signature store (Redis)",
                              "signatures are kept in this worker's memory until it is back", _PROBE_SECONDS, clock)
        self._lock = threading.Lock()
        self._pending: OrderedDict[str, str] = OrderedDict()

    @staticmethod
    def key(call_id: str) -> str:
        return f"{NAMESPACE}:signature:{call_id}"

    def _call(self, work):
        """`work(redis)`'s result, or None when Redis cannot be reached (now, or lately and the
        next try is not due yet): counted, and logged when an outage starts or ends."""
        if self._outage.skip():
            self._unavailable()
            return None
        try:
            result = work(self._redis)
        except redis.RedisError as exc:
            self._outage.failed(type(exc).__name__)
            self._unavailable()
            return None
        self._outage.succeeded()
        return result

    def put_many(self, values: Mapping[str, str]) -> None:
        with self._lock:
            pending, self._pending = self._pending, OrderedDict()
        pending.update(values)

        def write(r) -> bool:
            pipe = r.pipeline(transaction=False)
            for call_id, value in pending.items():
                pipe.set(self.key(call_id), value, ex=self._ttl)
            pipe.execute()
            return True
        if self._call(write):
            return
        with self._lock:
            pending.update(self._pending)  # written by other threads meanwhile: newer
            self._pending = pending
            while len(self._pending) > self._pending_max:
                self._pending.popitem(last=False)

    def get_many(self, call_ids: list[str]) -> dict[str, str]:
        values = self._call(lambda r: r.mget([self.key(call_id) for call_id in call_ids])) or ()
        return {call_id: value.decode() for call_id, value in zip(call_ids, values, strict=False) if value is not None}

    def close(self) -> None:
        self._redis.close()


Shared = SqliteSignatures | RedisSignatures


class SignatureStore:
    """The in-process LRU (`cache_size` signatures) in front of the `shared` store, if any."""

    def __init__(self, cache_size: int, shared: Shared | None = None):
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.shared = shared

    def close(self) -> None:
        """Closes the Redis client, if the shared store is Redis (SQLite's connection goes with its process)."""
        if isinstance(self.shared, RedisSignatures):
            self.shared.close()

    def _remember(self, values: Mapping[str, str]) -> None:
        with self._lock:
            for call_id, value in values.items():
                self._cache[call_id] = value
                self._cache.move_to_end(call_id)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def put_many(self, signatures: Mapping[str, str], model: str) -> None:
        """Keeps the signatures `model` gave with the calls (call id -> signature)."""
        if not signatures:
            return
        values = {call_id: _bound(model, signature) for call_id, signature in signatures.items()}
        self._remember(values)
        if self.shared is not None:
            self.shared.put_many(values)

    def get_many(self, call_ids: Iterable[str], model: str) -> dict[str, str]:
        """The signatures `model` made for these calls (call id -> signature), where known."""
        wanted = list(dict.fromkeys(call_ids))
        with self._lock:
            found = {call_id: self._cache[call_id] for call_id in wanted if call_id in self._cache}
            for call_id in found:
                self._cache.move_to_end(call_id)
        missing = [call_id for call_id in wanted if call_id not in found]
        if missing and self.shared is not None:
            # Kept in the LRU too: every later turn of the conversation sends these calls again.
            fetched = self.shared.get_many(missing)
            self._remember(fetched)
            found.update(fetched)
        signatures = {call_id: _for_model(value, model) for call_id, value in found.items()}
        return {call_id: signature for call_id, signature in signatures.items() if signature is not None}


def open_signatures(settings: Settings, unavailable: Callable[[], None] = lambda: None) -> SignatureStore:
    """The store the settings name: the LRU in front of Redis, else of SQLite, else alone."""
    if settings.redis_url:
        shared: Shared | None = RedisSignatures(settings.redis_url, settings.signature_ttl,
                                                settings.signature_cache_size, unavailable)
    elif settings.signature_db:
        shared = SqliteSignatures(settings.signature_db, settings.signature_db_max_rows)
    else:
        shared = None
    return SignatureStore(settings.signature_cache_size, shared)
