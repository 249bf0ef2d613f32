"""Thought signatures, kept by tool-call id between the turns of a conversation.

Gemini returns an opaque thoughtSignature with a function call and newer models refuse the
next turn unless it comes back on the same part. OpenAI clients know nothing of it, so the
gateway remembers it under the tool-call id it handed out: in a bounded in-process LRU, and
in a SQLite file that every gunicorn worker on the machine shares and that survives restarts.
Losing a signature is not fatal (the translation falls back to Google's documented stand-in),
so storage failures are logged, never raised.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from gemini_proxy.stores.sqlite import SharedFile

log = logging.getLogger(__name__)

_SCHEMA = ("CREATE TABLE IF NOT EXISTS signatures"
           " (call_id TEXT PRIMARY KEY, signature TEXT NOT NULL, created REAL NOT NULL)")
_PRUNE_EVERY = 1000


class SignatureStore:
    def __init__(self, db_path: str | None, cache_size: int, max_rows: int):
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._db_path = db_path or None
        self._max_rows = max_rows
        self._puts = 0
        self._file = SharedFile(self._db_path, (_SCHEMA,)) if self._db_path else None

    def _execute(self, work):
        try:
            return self._file.run(work)
        except sqlite3.Error as exc:
            log.warning("thought signature store %s: %s", self._db_path, exc)
            return None

    def _remember(self, signatures: Mapping[str, str]) -> None:
        with self._lock:
            for call_id, signature in signatures.items():
                self._cache[call_id] = signature
                self._cache.move_to_end(call_id)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def put_many(self, signatures: Mapping[str, str]) -> None:
        if not signatures:
            return
        self._remember(signatures)
        if not self._db_path:
            return
        now = time.time()
        rows = [(call_id, signature, now) for call_id, signature in signatures.items()]
        self._execute(lambda db: db.executemany("INSERT OR REPLACE INTO signatures VALUES (?, ?, ?)", rows))
        with self._lock:
            self._puts += 1
            prune = self._puts % _PRUNE_EVERY == 0
        if prune:
            self._execute(lambda db: db.execute(
                "DELETE FROM signatures WHERE rowid IN "
                "(SELECT rowid FROM signatures ORDER BY created DESC, rowid DESC LIMIT -1 OFFSET ?)",
                (self._max_rows,)))

    def get_many(self, call_ids: Iterable[str]) -> dict[str, str]:
        wanted = list(dict.fromkeys(call_ids))
        with self._lock:
            found = {call_id: self._cache[call_id] for call_id in wanted if call_id in self._cache}
            for call_id in found:
                self._cache.move_to_end(call_id)
        missing = [call_id for call_id in wanted if call_id not in found]
        if missing and self._db_path:
            marks = ",".join("?" * len(missing))
            rows = self._execute(lambda db: db.execute(
                f"SELECT call_id, signature FROM signatures WHERE call_id IN ({marks})", missing).fetchall())
            found.update(rows or ())
        return found
