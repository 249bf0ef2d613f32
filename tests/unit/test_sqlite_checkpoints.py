"""stores/sqlite.py: the WAL is copied back into the file by a thread of its own, every
CHECKPOINT_EVERY commits, not by whichever request's commit filled it."""
import os
import time

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
        shared.run(lambda db: db.execute("SELECT count(*) FROM rows").fetchone())
    time.sleep(0.2)
    _settled(shared)
    assert os.path.getsize(tmp_path / "store.sqlite3") < 60_000  # 180 kB of rows, all still in the WAL
    _write(shared, 1)  # the 10th commit
    _settled(shared)
    assert os.path.getsize(tmp_path / "store.sqlite3") > 160_000
