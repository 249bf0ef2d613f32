"""Stored responses (`store: true`) and their items, for GET /v1/responses/{id}, its input_items,
previous_response_id and item_reference.

A record is {"response": <Response>, "input_items": [...], "owner": <who may see it, or None>,
"created": <unix time>, "chain": [ids of the responses before it, oldest first]}. Its items (input
and output, by item id) are indexed too, since the AI SDK sends prior output back as
item_reference ids. Three backends behind one interface: Redis when REDIS_URL is set (every
worker of every machine sees the same responses, each kept RESPONSES_TTL), else a SQLite file
shared by the workers of one machine (RESPONSES_DB), else memory (one worker process). A store
that cannot be reached is a 503: a response the client asked to keep must not silently vanish.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from gemini_proxy.config import Settings
from gemini_proxy.errors import store_unavailable

log = logging.getLogger(__name__)

NAMESPACE = "gemini-proxy"
_PRUNE_EVERY = 500
# A Redis that does not answer must not hold requests: a short timeout and no retries, as for
# the rate limits (access/limits.py). A redis:// URL's own ?socket_timeout= wins.
_REDIS_TIMEOUT = 1.0

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def items_of(record: dict) -> list[dict]:
    """A record's items with ids: what item_reference can name."""
    items = [*record.get("input_items", ()), *record["response"].get("output", ())]
    return [item for item in items if isinstance(item.get("id"), str)]


class ResponseStore:
    """The interface every backend has. `owner` never filters here: the caller decides who may see."""

    def put(self, record: dict) -> None:
        raise NotImplementedError

    def get_many(self, response_ids: Iterable[str]) -> dict[str, dict]:
        raise NotImplementedError

    def get(self, response_id: str) -> dict | None:
        return self.get_many([response_id]).get(response_id)

    def delete(self, response_id: str) -> bool:
        """Removes the response and its items; False when there was none."""
        raise NotImplementedError

    def items(self, item_ids: Iterable[str]) -> dict[str, tuple[str | None, dict]]:
        """Stored items by id, each with its response's owner."""
        raise NotImplementedError


class MemoryStore(ResponseStore):
    """One worker's responses, the newest `max_stored`, each for `ttl` seconds."""

    def __init__(self, ttl: float, max_stored: int, clock: Callable[[], float] = time.time):
        self._records: OrderedDict[str, dict] = OrderedDict()
        self._items: dict[str, tuple[str, dict]] = {}  # item id -> (response id, item)
        self._ttl, self._max, self._clock = ttl, max_stored, clock
        self._lock = threading.Lock()

    def _fresh(self, record: dict | None) -> dict | None:
        return record if record is not None and record["created"] > self._clock() - self._ttl else None

    def put(self, record: dict) -> None:
        response_id = record["response"]["id"]
        with self._lock:
            self._records[response_id] = record
            self._records.move_to_end(response_id)
            for item in items_of(record):
                self._items[item["id"]] = (response_id, item)
            while len(self._records) > self._max:
                self._forget(next(iter(self._records)))

    def _forget(self, response_id: str) -> dict | None:
        record = self._records.pop(response_id, None)
        for item in items_of(record) if record else ():
            if self._items.get(item["id"], ("",))[0] == response_id:
                del self._items[item["id"]]
        return record

    def get_many(self, response_ids: Iterable[str]) -> dict[str, dict]:
        with self._lock:
            found = {rid: self._fresh(self._records.get(rid)) for rid in response_ids}
        return {rid: record for rid, record in found.items() if record is not None}

    def delete(self, response_id: str) -> bool:
        with self._lock:
            return self._fresh(self._forget(response_id)) is not None

    def items(self, item_ids: Iterable[str]) -> dict[str, tuple[str | None, dict]]:
        found = {}
        with self._lock:
            for item_id in item_ids:
                response_id, item = self._items.get(item_id, (None, None))
                record = self._fresh(self._records.get(response_id)) if response_id else None
                if record is not None:
                    found[item_id] = (record["owner"], item)
        return found


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS responses (id TEXT PRIMARY KEY, created REAL NOT NULL, record TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS response_items (id TEXT PRIMARY KEY, response_id TEXT NOT NULL, "
    "owner TEXT, created REAL NOT NULL, item TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS response_items_by_response ON response_items (response_id)",
    "CREATE INDEX IF NOT EXISTS responses_by_created ON responses (created)",
)


class SqliteStore(ResponseStore):
    """Responses in one SQLite file that every worker of the machine opens (WAL: readers never
    wait for the writer). Each process keeps one connection, used under a lock: opening and
    closing one per call cost 10-20 ms a write (the last close of a WAL database checkpoints it),
    against well under a millisecond on a kept one."""

    def __init__(self, path: str, ttl: float, max_stored: int, clock: Callable[[], float] = time.time):
        self._path, self._ttl, self._max, self._clock = path, ttl, max_stored, clock
        self._puts = 0
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._execute(lambda db: [db.execute("PRAGMA journal_mode=WAL"), *map(db.execute, _SCHEMA)])
        self._close()  # opened again where it is used: a process forked from this one needs its own

    def _connection(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():
            self._db = sqlite3.connect(self._path, timeout=5, check_same_thread=False)
            self._pid = os.getpid()
            # WAL with synchronous=NORMAL: a commit is safe against a crashed process, not
            # against a lost machine, which stored answers can afford.
            self._db.execute("PRAGMA synchronous=NORMAL")
        return self._db

    def _close(self) -> None:
        db, self._db = self._db, None
        if db is not None and self._pid == os.getpid():
            db.close()

    def _execute(self, work):
        with self._lock:
            try:
                db = self._connection()
                with db:
                    return work(db)
            except sqlite3.Error as exc:
                self._close()  # the next call opens the file afresh
                log.error("stored responses %s: %s", self._path, exc)
                raise store_unavailable() from exc

    def put(self, record: dict) -> None:
        response_id, created, owner = record["response"]["id"], record["created"], record["owner"]
        items = [(item["id"], response_id, owner, created, _encode(item)) for item in items_of(record)]

        def write(db):
            db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?)", (response_id, created, _encode(record)))
            db.executemany("INSERT OR REPLACE INTO response_items VALUES (?, ?, ?, ?, ?)", items)
        self._execute(write)
        with self._lock:
            self._puts += 1
            prune = self._puts % _PRUNE_EVERY == 1
        if prune:
            self._execute(self._prune)

    def _prune(self, db) -> None:
        cutoff = self._clock() - self._ttl
        kept = db.execute("SELECT created FROM responses ORDER BY created DESC LIMIT 1 OFFSET ?",
                          (self._max,)).fetchone()
        if kept is not None:
            cutoff = max(cutoff, kept[0] + 1e-6)
        db.execute("DELETE FROM responses WHERE created < ?", (cutoff,))
        db.execute("DELETE FROM response_items WHERE created < ?", (cutoff,))

    def get_many(self, response_ids: Iterable[str]) -> dict[str, dict]:
        wanted = list(dict.fromkeys(response_ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self._execute(lambda db: db.execute(
            f"SELECT id, record FROM responses WHERE id IN ({marks}) AND created > ?",
            (*wanted, self._clock() - self._ttl)).fetchall())
        return {response_id: json.loads(record) for response_id, record in rows}

    def delete(self, response_id: str) -> bool:
        def remove(db) -> bool:
            gone = db.execute("DELETE FROM responses WHERE id = ? AND created > ?",
                              (response_id, self._clock() - self._ttl)).rowcount
            db.execute("DELETE FROM response_items WHERE response_id = ?", (response_id,))
            return gone > 0
        return self._execute(remove)

    def items(self, item_ids: Iterable[str]) -> dict[str, tuple[str | None, dict]]:
        wanted = list(dict.fromkeys(item_ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self._execute(lambda db: db.execute(
            f"SELECT id, owner, item FROM response_items WHERE id IN ({marks}) AND created > ?",
            (*wanted, self._clock() - self._ttl)).fetchall())
        return {item_id: (owner, json.loads(item)) for item_id, owner, item in rows}


class RedisStore(ResponseStore):
    """Responses in Redis, each key expiring after `ttl` seconds: shared by every machine."""

    def __init__(self, url: str, ttl: int):
        self._redis = redis.Redis.from_url(url, socket_timeout=_REDIS_TIMEOUT, socket_connect_timeout=_REDIS_TIMEOUT,
                                           retry=Retry(NoBackoff(), 0))
        self._ttl = ttl

    @staticmethod
    def _key(response_id: str) -> str:
        return f"{NAMESPACE}:response:{response_id}"

    @staticmethod
    def _item_key(item_id: str) -> str:
        return f"{NAMESPACE}:response-item:{item_id}"

    def _call(self, work):
        try:
            return work(self._redis)
        except redis.RedisError as exc:
            log.error("stored responses (Redis): %s", type(exc).__name__)
            raise store_unavailable() from exc

    def put(self, record: dict) -> None:
        response_id = record["response"]["id"]

        def write(r):
            pipe = r.pipeline(transaction=False)
            pipe.set(self._key(response_id), _encode(record), ex=self._ttl)
            for item in items_of(record):
                pipe.set(self._item_key(item["id"]),
                         _encode({"response": response_id, "owner": record["owner"], "item": item}), ex=self._ttl)
            pipe.execute()
        self._call(write)

    def get_many(self, response_ids: Iterable[str]) -> dict[str, dict]:
        wanted = list(dict.fromkeys(response_ids))
        if not wanted:
            return {}
        values = self._call(lambda r: r.mget([self._key(rid) for rid in wanted]))
        return {rid: json.loads(value) for rid, value in zip(wanted, values, strict=True) if value is not None}

    def delete(self, response_id: str) -> bool:
        record = self.get(response_id)
        if record is None:
            return False
        keys = [self._key(response_id), *(self._item_key(item["id"]) for item in items_of(record))]
        return self._call(lambda r: r.delete(*keys)) > 0

    def items(self, item_ids: Iterable[str]) -> dict[str, tuple[str | None, dict]]:
        wanted = list(dict.fromkeys(item_ids))
        if not wanted:
            return {}
        values = self._call(lambda r: r.mget([self._item_key(item_id) for item_id in wanted]))
        found = {item_id: json.loads(value) for item_id, value in zip(wanted, values, strict=True) if value is not None}
        return {item_id: (stored["owner"], stored["item"]) for item_id, stored in found.items()}

    def close(self) -> None:
        self._redis.close()


def open_store(settings: Settings) -> ResponseStore:
    """The backend the settings name: Redis, else SQLite, else memory."""
    if settings.redis_url:
        return RedisStore(settings.redis_url, settings.responses_ttl)
    if settings.responses_db:
        return SqliteStore(settings.responses_db, settings.responses_ttl, settings.responses_max_stored)
    return MemoryStore(settings.responses_ttl, settings.responses_max_stored)
