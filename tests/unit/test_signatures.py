"""The thought-signature store: shared by workers, kept across restarts, bounded."""
from gemini_proxy.stores import signatures as module
from gemini_proxy.stores.signatures import SignatureStore


def test_a_signature_stored_by_one_worker_is_found_by_another_and_after_a_restart(tmp_path):
    db = str(tmp_path / "sig.sqlite3")
    worker_a = SignatureStore(db, cache_size=10, max_rows=100)
    worker_a.put_many({"call_1": "c2lnMQ==", "call_2": "c2lnMg=="})
    worker_b = SignatureStore(db, cache_size=10, max_rows=100)
    assert worker_b.get_many(["call_2", "call_1", "call_3"]) == {"call_2": "c2lnMg==", "call_1": "c2lnMQ=="}
    del worker_a, worker_b
    assert SignatureStore(db, cache_size=10, max_rows=100).get_many(["call_1"]) == {"call_1": "c2lnMQ=="}


def test_memory_only_store_is_a_bounded_lru():
    store = SignatureStore(None, cache_size=2, max_rows=100)
    store.put_many({"a": "1"})
    store.put_many({"b": "2"})
    assert store.get_many(["a"]) == {"a": "1"}
    store.put_many({"c": "3"})
    assert store.get_many(["a", "b", "c"]) == {"a": "1", "c": "3"}


def test_the_file_is_pruned_to_its_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(module, "_PRUNE_EVERY", 1)
    store = SignatureStore(str(tmp_path / "sig.sqlite3"), cache_size=1, max_rows=3)
    for i in range(6):
        store.put_many({f"call_{i}": f"s{i}"})
    fresh = SignatureStore(str(tmp_path / "sig.sqlite3"), cache_size=1, max_rows=3)
    assert fresh.get_many([f"call_{i}" for i in range(6)]) == {"call_3": "s3", "call_4": "s4", "call_5": "s5"}


def test_an_unusable_file_does_not_fail_requests(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    store = SignatureStore(str(tmp_path / "sig.sqlite3"), cache_size=5, max_rows=10)
    (tmp_path / "sig.sqlite3").unlink()
    (tmp_path / "sig.sqlite3").mkdir()  # the database path is now a directory
    store.put_many({"a": "1"})
    assert store.get_many(["a"]) == {"a": "1"}
