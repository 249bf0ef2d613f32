"""One SQLite connection per process for a store file that every gunicorn worker shares.

Opening and closing a connection per call cost 10-20 ms a write (the last close of a WAL
database checkpoints it), against a few tenths of a millisecond on a kept one. The connection
is used under a lock (sqlite3 connections are not for concurrent use) and opened, with the
file's tables created if missing, on first use in each process.

A single statement runs on its own (`one`): SQLite makes it a transaction of its own, with no
BEGIN and COMMIT statements to prepare and run around it (about 10 us of a stored response's
330-400 us write in a gunicorn worker, the two ways alternated). Statements that belong
together run in one transaction (`run`).

Checkpoints (the WAL copied back into the file, with an fsync) are not left to the commit that
happens to fill the WAL: that request waited for them (1 ms at p99 of a stored response's write,
up to 30 ms). Every CHECKPOINT_EVERY commits of a process, a thread of its own, on a connection
of its own, makes a passive checkpoint, which waits for no reader or writer.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


CHECKPOINT_EVERY = 200  # commits of a process between two checkpoints (SQLite's own: 1000 WAL pages)


class SharedFile:
    def __init__(self, path: str, schema: tuple[str, ...]):
        self.path = path
        self._schema = schema
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self._commits = 0
        self._checkpointing = threading.Lock()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # A file that cannot be opened stops the start, not a request. Closed again: a process
        # forked from this one needs a connection of its own.
        try:
            self.one("SELECT 1")
        finally:
            self._close()

    def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work(connection)` in one transaction that writes; sqlite3.Error reaches the caller.
        It takes the write lock as it begins (waiting for another writer as long as the busy
        timeout allows): a transaction that read first and then wrote after another worker's
        commit would fail at once, its snapshot out of date (SQLITE_BUSY_SNAPSHOT)."""
        def transaction(db: sqlite3.Connection) -> T:
            db.execute("BEGIN IMMEDIATE")
            with db:  # commits, or rolls back what `work` raised from
                return work(db)
        return self._locked(transaction)

    def one(self, statement: str, parameters: Sequence = ()) -> list[tuple]:
        """One statement, in a transaction of its own; its rows."""
        return self._locked(lambda db: db.execute(statement, parameters).fetchall())

    def _locked(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            try:
                db = self._connection()
                written = db.total_changes
                result = work(db)
            except sqlite3.Error:
                self._close()  # the next call opens the file afresh
                raise
            wrote = db.total_changes != written  # a read adds nothing to the WAL
            self._commits += wrote
            checkpoint = wrote and self._commits % CHECKPOINT_EVERY == 0
        if checkpoint and self._checkpointing.acquire(blocking=False):
            threading.Thread(target=self._checkpoint, name="sqlite-checkpoint", daemon=True).start()
        return result

    def _checkpoint(self) -> None:
        try:
            db = sqlite3.connect(self.path, timeout=5)
            try:
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                db.close()
        except sqlite3.Error as exc:
            log.warning("checkpoint of %s failed: %s", self.path, exc)
        finally:
            self._checkpointing.release()

    def _connection(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():
            # isolation_level=None: no transaction but those run() begins
            db = sqlite3.connect(self.path, timeout=5, check_same_thread=False, isolation_level=None)
            # WAL (readers never wait for the writer) with synchronous=NORMAL: a commit is safe
            # against a crashed process, not against a lost machine, which these stores can afford.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA wal_autocheckpoint=0")  # _checkpoint() instead, in a thread
            for statement in self._schema:
                db.execute(statement)
            self._db, self._pid = db, os.getpid()
        return self._db

    def _close(self) -> None:
        db, self._db = self._db, None
        if db is not None and self._pid == os.getpid():
            db.close()
