"""The thought-signature store: shared by workers (SQLite) or machines (Redis), kept across
restarts, bounded, bound to the model that made each signature, and never failing a request."""
import logging

import redis

from gemini_proxy.config import Settings
from gemini_proxy.stores import signatures as module
from gemini_proxy.stores.signatures import (
    RedisSignatures,
    SignatureStore,
    SqliteSignatures,
    open_signatures,
)
from tests.support.processes import free_port, start_redis

MODEL = "gemini-3-pro-preview"


def sqlite_store(path, cache_size=10, max_rows=100) -> SignatureStore:
    return SignatureStore(cache_size, SqliteSignatures(str(path), max_rows))


def test_a_signature_stored_by_one_worker_is_found_by_another_and_after_a_restart(tmp_path):
    db = tmp_path / "sig.sqlite3"
    worker_a = sqlite_store(db)
    worker_a.put_many({"call_1": "c2lnMQ==", "call_2": "c2lnMg=="}, MODEL)
    worker_b = sqlite_store(db)
    assert worker_b.get_many(["call_2", "call_1", "call_3"], MODEL) == {"call_2": "c2lnMg==", "call_1": "c2lnMQ=="}
    del worker_a, worker_b
    assert sqlite_store(db).get_many(["call_1"], MODEL) == {"call_1": "c2lnMQ=="}


def test_memory_only_store_is_a_bounded_lru():
    store = SignatureStore(cache_size=2)
    store.put_many({"a": "1"}, MODEL)
    store.put_many({"b": "2"}, MODEL)
    assert store.get_many(["a"], MODEL) == {"a": "1"}
    store.put_many({"c": "3"}, MODEL)
    assert store.get_many(["a", "b", "c"], MODEL) == {"a": "1", "c": "3"}


def test_a_signature_goes_only_to_the_model_that_made_it(tmp_path):
    """Gemini 3 refuses another model's signature as corrupted: a fallback model's signature
    must not reach the model the client asked for on the next turn (it gets the stand-in)."""
    db = tmp_path / "sig.sqlite3"
    store = sqlite_store(db)
    store.put_many({"call_1": "c2lnMQ=="}, "gemini-2.5-flash")
    assert store.get_many(["call_1"], MODEL) == {}
    assert store.get_many(["call_1"], "gemini-2.5-flash") == {"call_1": "c2lnMQ=="}
    assert sqlite_store(db).get_many(["call_1"], MODEL) == {}
    # Rows written before signatures named their model still go to any model.
    SqliteSignatures(str(db), 100).put_many({"call_old": "b2xk"})
    assert sqlite_store(db).get_many(["call_old"], MODEL) == {"call_old": "b2xk"}


def test_the_file_is_pruned_to_its_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(module, "_PRUNE_EVERY", 1)
    store = sqlite_store(tmp_path / "sig.sqlite3", cache_size=1, max_rows=3)
    for i in range(6):
        store.put_many({f"call_{i}": f"s{i}"}, MODEL)
    fresh = sqlite_store(tmp_path / "sig.sqlite3", cache_size=1, max_rows=3)
    assert fresh.get_many([f"call_{i}" for i in range(6)], MODEL) == {"call_3": "s3", "call_4": "s4", "call_5": "s5"}


def test_an_unusable_file_does_not_fail_requests(tmp_path):
    store = sqlite_store(tmp_path / "sig.sqlite3", cache_size=5)
    (tmp_path / "sig.sqlite3").unlink()
    (tmp_path / "sig.sqlite3").mkdir()  # the database path is now a directory
    store.put_many({"a": "1"}, MODEL)
    assert store.get_many(["a"], MODEL) == {"a": "1"}


def test_the_settings_choose_the_backend(tmp_path, redis_url):
    assert open_signatures(Settings(signature_db="")).shared is None
    assert isinstance(open_signatures(Settings(signature_db=str(tmp_path / "s.sqlite3"))).shared, SqliteSignatures)
    store = open_signatures(Settings(signature_db=str(tmp_path / "s.sqlite3"), redis_url=redis_url))
    assert isinstance(store.shared, RedisSignatures)
    store.shared.close()


def test_redis_keeps_each_signature_under_the_namespace_for_the_ttl(redis_url):
    machine_a = SignatureStore(10, RedisSignatures(redis_url, ttl=600, pending_max=10))
    machine_b = SignatureStore(10, RedisSignatures(redis_url, ttl=600, pending_max=10))
    machine_a.put_many({"call_r1": "c2ln"}, MODEL)
    assert machine_b.get_many(["call_r1", "call_none"], MODEL) == {"call_r1": "c2ln"}
    direct = redis.Redis.from_url(redis_url)
    assert direct.get("gemini-proxy:signature:call_r1") == f"{MODEL} c2ln".encode()
    assert 590 < direct.ttl("gemini-proxy:signature:call_r1") <= 600
    direct.close()
    for store in (machine_a, machine_b):
        store.shared.close()


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_redis_outage_degrades_to_the_lru_is_logged_once_and_recovers(tmp_path, caplog):
    port, clock, counted = free_port(), Clock(), []
    shared = RedisSignatures(f"redis://127.0.0.1:{port}/0", ttl=600, pending_max=10,
                             unavailable=lambda: counted.append(1), clock=clock)
    machine_a, machine_b = SignatureStore(10, shared), SignatureStore(10, RedisSignatures(
        f"redis://127.0.0.1:{port}/0", ttl=600, pending_max=10))
    with caplog.at_level(logging.INFO, "gemini_proxy.stores.signatures"):
        machine_a.put_many({"call_1": "c2lnMQ=="}, MODEL)  # nobody listens on the port
        assert machine_a.get_many(["call_1", "call_2"], MODEL) == {"call_1": "c2lnMQ=="}  # the LRU still has it
        clock.now += 0.5
        machine_a.put_many({"call_2": "c2lnMg=="}, MODEL)  # not tried again before a second passed
        assert len(counted) == 3
        server = start_redis(port, tmp_path)
        try:
            assert machine_a.get_many(["call_3"], MODEL) == {}  # still within the second: Redis not asked
            clock.now += 1.0
            machine_a.put_many({"call_3": "c2lnMw=="}, MODEL)  # reaches Redis, with what waited for it
            assert len(counted) == 4
            assert machine_b.get_many(["call_1", "call_2", "call_3"], MODEL) == {
                "call_1": "c2lnMQ==", "call_2": "c2lnMg==", "call_3": "c2lnMw=="}
        finally:
            server.terminate()
            server.wait(10)
            machine_b.shared.close()
            shared.close()
    messages = [record.getMessage() for record in caplog.records]
    assert len([m for m in messages if m.startswith("thought signature store (Redis) unavailable")]) == 1
    assert len([m for m in messages if m.startswith("thought signature store (Redis) is back after")]) == 1


def test_writes_waiting_for_redis_are_bounded(tmp_path):
    port, clock = free_port(), Clock()
    shared = RedisSignatures(f"redis://127.0.0.1:{port}/0", ttl=600, pending_max=2, clock=clock)
    for i in range(4):
        shared.put_many({f"call_{i}": f"s{i}"})
        clock.now += 2
    server = start_redis(port, tmp_path)
    try:
        shared.put_many({"call_4": "s4"})
        assert shared.get_many([f"call_{i}" for i in range(5)]) == {"call_2": "s2", "call_3": "s3", "call_4": "s4"}
    finally:
        server.terminate()
        server.wait(10)
        shared.close()
