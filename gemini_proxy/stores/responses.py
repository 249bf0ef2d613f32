"""Stored responses (`store: true`) and their items, for GET /v1/responses/{id}, its input_items,
previous_response_id and item_reference.

A record is {"response": <Response>, "input_items": [...], "owner": <who may see it, or None>,
"created": <unix time>, "chain": [ids of the responses before it, oldest first]}. The AI SDK
sends earlier output back as item_reference ids, so an item must be found by its id alone: the
ids this gateway makes (ResponseIds) carry their response's, so the record is found from the
item id, and only ids a client made up are written to an index of their own. One write per
response, then: a second table (or key) per item doubled the cost of storing one.

Three backends behind one interface: Redis when REDIS_URL is set (every worker of every machine
sees the same responses, each kept RESPONSES_TTL), else a SQLite file shared by the workers of
one machine (RESPONSES_DB), else memory (one worker process). A store that cannot be reached is
a 503: a response the client asked to keep must not silently vanish.
"""
from __future__ import annotations

import itertools
import json
import logging
import re
import sqlite3
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from gemini_proxy.config import Settings
from gemini_proxy.encoding import json_bytes
from gemini_proxy.errors import store_unavailable
from gemini_proxy.stores.sqlite import SharedFile

log = logging.getLogger(__name__)

NAMESPACE = "gemini-proxy"
_PRUNE_EVERY = 500
# A Redis that does not answer must not hold requests: a short timeout and no retries, as for
# the rate limits (access/limits.py). A redis:// URL's own ?socket_timeout= wins.
_REDIS_TIMEOUT = 1.0
# An item id made by ResponseIds: prefix, its response's key (32 hex), its number (8 hex).
_MADE_HERE = re.compile(r"[a-z]+_([0-9a-f]{32})[0-9a-f]{8}")



class ResponseIds:
    """The ids of one response (`resp_<key>`) and of everything it names (`msg_<key><n>`,
    `fc_...`, `call_...`): each unique, each naming the response that stores it."""

    def __init__(self, key: str | None = None):
        self.key = key or uuid.uuid4().hex
        self._numbers = itertools.count()

    def __call__(self, prefix: str) -> str:
        if prefix == "resp":
            return f"resp_{self.key}"
        return f"{prefix}_{self.key}{next(self._numbers) % 16 ** 8:08x}"


def holder_of(item_id: str) -> str | None:
    """The id of the response an item id made by ResponseIds belongs to (None for others)."""
    made = _MADE_HERE.fullmatch(item_id)
    return f"resp_{made.group(1)}" if made else None


def items_of(record: dict) -> list[dict]:
    """A record's items with ids: what item_reference can name."""
    items = [*record.get("input_items", ()), *record["response"].get("output", ())]
    return [item for item in items if isinstance(item.get("id"), str)]


def foreign_items(record: dict) -> list[str]:
    """The ids of a record's items that do not name their response (a client made them)."""
    return [item["id"] for item in items_of(record) if holder_of(item["id"]) is None]


def _found(item_ids: Iterable[str], holders: Mapping[str, str | None], records: Mapping[str, dict]
           ) -> dict[str, tuple[str | None, dict]]:
    found = {}
    for item_id in item_ids:
        record = records.get(holders.get(item_id) or "")
        item = next((item for item in items_of(record) if item["id"] == item_id), None) if record else None
        if item is not None:
            found[item_id] = (record["owner"], item)
    return found


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

    def _holders(self, item_ids: list[str]) -> dict[str, str]:
        """The responses holding items whose ids a client made (item id -> response id)."""
        raise NotImplementedError

    def items(self, item_ids: Iterable[str]) -> dict[str, tuple[str | None, dict]]:
        """Stored items by id, each with its response's owner."""
        wanted = list(dict.fromkeys(item_ids))
        holders = {item_id: holder_of(item_id) for item_id in wanted}
        found = _found(wanted, holders, self.get_many({h for h in holders.values() if h}))
        missing = [item_id for item_id in wanted if item_id not in found]
        if missing:
            indexed = self._holders(missing)
            found.update(_found(missing, indexed, self.get_many(set(indexed.values()))))
        return found


class MemoryStore(ResponseStore):
    """One worker's responses, the newest `max_stored`, each for `ttl` seconds."""

    def __init__(self, ttl: float, max_stored: int, clock: Callable[[], float] = time.time):
        self._records: OrderedDict[str, dict] = OrderedDict()
        self._foreign: dict[str, str] = {}  # client-made item id -> response id
        self._ttl, self._max, self._clock = ttl, max_stored, clock
        self._lock = threading.Lock()

    def _fresh(self, record: dict | None) -> dict | None:
        return record if record is not None and record["created"] > self._clock() - self._ttl else None

    def put(self, record: dict) -> None:
        response_id = record["response"]["id"]
        with self._lock:
            self._records[response_id] = record
            self._records.move_to_end(response_id)
            self._foreign.update(dict.fromkeys(foreign_items(record), response_id))
            while len(self._records) > self._max:
                self._forget(next(iter(self._records)))

    def _forget(self, response_id: str) -> dict | None:
        record = self._records.pop(response_id, None)
        for item_id in foreign_items(record) if record else ():
            if self._foreign.get(item_id) == response_id:
                del self._foreign[item_id]
        return record

    def get_many(self, response_ids: Iterable[str]) -> dict[str, dict]:
        with self._lock:
            found = {rid: self._fresh(self._records.get(rid)) for rid in response_ids}
        return {rid: record for rid, record in found.items() if record is not None}

    def delete(self, response_id: str) -> bool:
        with self._lock:
            return self._fresh(self._forget(response_id)) is not None

    def _holders(self, item_ids: list[str]) -> dict[str, str]:
        with self._lock:
            return {item_id: self._foreign[item_id] for item_id in item_ids if item_id in self._foreign}


_INSERT = "INSERT OR REPLACE INTO stored_responses VALUES (?, ?, ?)"
# Rows are added in time order, so rowid order is age order: pruning walks from the oldest row
# instead of keeping an index on `created`, one more B-tree to write per response.
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS stored_responses (id TEXT NOT NULL UNIQUE, created REAL NOT NULL, "
    "record TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS stored_response_items (id TEXT PRIMARY KEY, response_id TEXT NOT NULL) "
    "WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS stored_response_items_by_response ON stored_response_items (response_id)",
)


class SqliteStore(ResponseStore):
    """Responses in one SQLite file that every worker of the machine opens (WAL: readers never
    wait for the writer; one connection per process: stores/sqlite.py)."""

    def __init__(self, path: str, ttl: float, max_stored: int, clock: Callable[[], float] = time.time):
        self._ttl, self._max, self._clock = ttl, max_stored, clock
        self._puts = 0
        self._lock = threading.Lock()
        self._file = SharedFile(path, _SCHEMA)

    def _execute(self, work, *arguments):
        """work(*arguments): one of the file's calls (SharedFile.run or .one)."""
        try:
            return work(*arguments)
        except sqlite3.Error as exc:
            log.error("stored responses %s: %s", self._file.path, exc)
            raise store_unavailable() from exc

    def put(self, record: dict) -> None:
        response_id = record["response"]["id"]
        row = (response_id, record["created"], json_bytes(record))
        foreign = [(item_id, response_id) for item_id in foreign_items(record)]
        if not foreign:  # nearly always: every item id was made here
            self._execute(self._file.one, _INSERT, row)
        else:
            def write(db):
                db.execute(_INSERT, row)
                db.executemany("INSERT OR REPLACE INTO stored_response_items VALUES (?, ?)", foreign)
            self._execute(self._file.run, write)
        with self._lock:
            self._puts += 1
            prune = self._puts % _PRUNE_EVERY == 1
        if prune:  # the response is stored: a prune that fails waits for the next one
            try:
                self._file.run(self._prune)
            except sqlite3.Error as exc:
                log.warning("stored responses %s: pruning failed: %s", self._file.path, exc)

    def _prune(self, db) -> None:
        """Drops the responses past the TTL and the oldest beyond the limit, and their items."""
        cutoff = self._clock() - self._ttl
        while True:
            rows = db.execute("SELECT rowid, created FROM stored_responses ORDER BY rowid LIMIT 500").fetchall()
            expired = [rowid for rowid, created in rows if created <= cutoff]
            if expired:
                db.execute("DELETE FROM stored_responses WHERE rowid <= ?", (expired[-1],))
            if len(expired) < len(rows) or not rows:
                break
        db.execute("DELETE FROM stored_responses WHERE rowid <= (SELECT max(rowid) FROM stored_responses) - ?",
                   (self._max,))
        db.execute("DELETE FROM stored_response_items WHERE response_id NOT IN (SELECT id FROM stored_responses)")

    def get_many(self, response_ids: Iterable[str]) -> dict[str, dict]:
        wanted = list(dict.fromkeys(response_ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self._execute(self._file.one, f"SELECT id, record FROM stored_responses WHERE id IN ({marks}) "
                             "AND created > ?", (*wanted, self._clock() - self._ttl))
        return {response_id: json.loads(record) for response_id, record in rows}

    def delete(self, response_id: str) -> bool:
        def remove(db) -> bool:
            gone = db.execute("DELETE FROM stored_responses WHERE id = ? AND created > ?",
                              (response_id, self._clock() - self._ttl)).rowcount
            db.execute("DELETE FROM stored_response_items WHERE response_id = ?", (response_id,))
            return gone > 0
        return self._execute(self._file.run, remove)

    def _holders(self, item_ids: list[str]) -> dict[str, str]:
        marks = ",".join("?" * len(item_ids))
        return dict(self._execute(self._file.one, f"SELECT id, response_id FROM stored_response_items "
                                  f"WHERE id IN ({marks})", item_ids))


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
            pipe.set(self._key(response_id), json_bytes(record), ex=self._ttl)
            for item_id in foreign_items(record):
                pipe.set(self._item_key(item_id), response_id, ex=self._ttl)
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
        keys = [self._key(response_id), *(self._item_key(item_id) for item_id in foreign_items(record))]
        return self._call(lambda r: r.delete(*keys)) > 0

    def _holders(self, item_ids: list[str]) -> dict[str, str]:
        values = self._call(lambda r: r.mget([self._item_key(item_id) for item_id in item_ids]))
        return {item_id: value.decode() for item_id, value in zip(item_ids, values, strict=True) if value is not None}

    def close(self) -> None:
        self._redis.close()


def open_store(settings: Settings) -> ResponseStore:
    """The backend the settings name: Redis, else SQLite, else memory."""
    if settings.redis_url:
        return RedisStore(settings.redis_url, settings.responses_ttl)
    if settings.responses_db:
        return SqliteStore(settings.responses_db, settings.responses_ttl, settings.responses_max_stored)
    return MemoryStore(settings.responses_ttl, settings.responses_max_stored)
