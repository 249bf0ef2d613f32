"""stores/sqlite.py: a single statement is a transaction of its own, several run in one; the
WAL is copied back into the file by a thread of its own, every CHECKPOINT_EVERY commits, not by
whichever request's commit filled it."""
import os
import sqlite3
import time

import pytest

from gemini_proxy.stores import sqlite

SCHEMA = ("CREATE TABLE IF NOT EXISTS rows (body BLOB)",)


def _write(shared: sqlite.SharedFile, count: int) -> None:
    for _ in range(count):
        shared.run(lambda db: db.execute("INSERT INTO rows VALUES (?)", (os.urandom(20000),)))


def _settled(shared: sqlite.SharedFile) -> None:
    assert shared._checkpointing.acquire(timeout=10)  # the checkpoint thread, if any, has ended
    shared._checkpointing.release()


def test_the_file_gets_the_rows_only_from_the_checkpoint_thread(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite, "CHECKPOINT_EVERY", 10)
    shared = sqlite.SharedFile(str(tmp_path / "store.sqlite3"), SCHEMA)
    _write(shared, 9)
    for _ in range(5):  # reads write nothing to the WAL and are not counted
        assert shared.one("SELECT count(*) FROM rows") == [(9,)]
    time.sleep(0.2)
    _settled(shared)
    assert os.path.getsize(tmp_path / "store.sqlite3") < 60_000  # 180 kB of rows, all still in the WAL
    _write(shared, 1)  # the 10th commit
    _settled(shared)
    assert os.path.getsize(tmp_path / "store.sqlite3") > 160_000


def _count(path) -> int:
    other = sqlite3.connect(path)  # another worker's connection
    try:
        return other.execute("SELECT count(*) FROM rows").fetchone()[0]
    finally:
        other.close()


def test_one_statement_is_committed_on_its_own_and_a_transaction_all_or_nothing(tmp_path):
    path = str(tmp_path / "store.sqlite3")
    shared = sqlite.SharedFile(path, SCHEMA)
    shared.one("INSERT INTO rows VALUES (?)", (b"one",))
    assert _count(path) == 1

    def half_then_fail(db):
        db.execute("INSERT INTO rows VALUES (?)", (b"two",))
        db.execute("INSERT INTO no_such_table VALUES (1)")
    with pytest.raises(sqlite3.OperationalError):
        shared.run(half_then_fail)
    assert _count(path) == 1
    shared.run(lambda db: db.executemany("INSERT INTO rows VALUES (?)", [(b"three",), (b"four",)]))
    assert _count(path) == 3
    assert shared.one("SELECT count(*) FROM rows") == [(3,)]


def test_a_transaction_holds_the_write_lock_from_its_start(tmp_path):
    # A transaction that reads, then writes after another worker's commit, would fail at once:
    # so none lets another writer in between.
    path = str(tmp_path / "store.sqlite3")
    shared = sqlite.SharedFile(path, SCHEMA)
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    refused = []

    def read_then_write(db):
        db.execute("SELECT count(*) FROM rows").fetchone()
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            refused.append(str(exc))
        db.execute("INSERT INTO rows VALUES (?)", (b"x",))
    shared.run(read_then_write)
    other.close()
    assert refused == ["database is locked"]
    assert _count(path) == 1
