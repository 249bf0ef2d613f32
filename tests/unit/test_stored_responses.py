"""The stored-response backends (memory, SQLite, Redis) behind one interface, and the secret
that tags reasoning.encrypted_content. Redis is a real redis-server on loopback."""
from __future__ import annotations

import os
import sqlite3
import stat
import time

import pytest
import redis

from gemini_proxy.config import Settings
from gemini_proxy.errors import ApiError
from gemini_proxy.stores.responses import MemoryStore, RedisStore, ResponseIds, SqliteStore, holder_of, open_store
from gemini_proxy.stores.secret import FILE_NAME, REDIS_KEY, carrier_key, derived_key
from tests.support.processes import free_port

TTL = 1000.0


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def record(response_id: str, created: float, owner: str | None = "owner-a", chain=()) -> dict:
    return {
        "response": {"id": response_id, "object": "response", "status": "completed", "output": [
            {"id": f"msg_out_{response_id}", "type": "message", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "text": "hi", "annotations": [], "logprobs": []}]}]},
        "input_items": [{"id": f"msg_in_{response_id}", "type": "message", "role": "user", "status": "completed",
                         "content": [{"type": "input_text", "text": "hello ünïcode"}]}],
        "owner": owner, "created": created, "chain": list(chain),
    }


def local_store(kind: str, folder, max_stored: int, clock: Clock):
    """The memory or the SQLite store, both keeping time by `clock`."""
    if kind == "memory":
        return MemoryStore(TTL, max_stored, clock)
    return SqliteStore(str(folder / "r.sqlite3"), TTL, max_stored, clock)


@pytest.fixture(params=["memory", "sqlite", "redis"])
def backend(request, tmp_path):
    """(store, clock or None): Redis keeps time itself."""
    clock = Clock()
    if request.param == "memory":
        yield MemoryStore(TTL, max_stored=100, clock=clock), clock
    elif request.param == "sqlite":
        yield SqliteStore(str(tmp_path / "data" / "responses.sqlite3"), TTL, max_stored=100, clock=clock), clock
    else:
        url = request.getfixturevalue("redis_url")
        redis.Redis.from_url(url).flushdb()
        store = RedisStore(url, ttl=int(TTL))
        yield store, None
        store.close()


def test_a_stored_response_comes_back_whole_with_its_items(backend):
    store, clock = backend
    now = clock() if clock else 1.0
    store.put(record("resp_1", now))
    store.put(record("resp_2", now, chain=["resp_1"]))
    assert store.get("resp_1") == record("resp_1", now)
    assert store.get_many(["resp_2", "resp_1", "resp_nope"]) == {"resp_1": record("resp_1", now),
                                                                  "resp_2": record("resp_2", now, chain=["resp_1"])}
    assert store.get("resp_nope") is None
    found = store.items(["msg_in_resp_1", "msg_out_resp_2", "msg_unknown"])
    assert found == {"msg_in_resp_1": ("owner-a", record("resp_1", now)["input_items"][0]),
                     "msg_out_resp_2": ("owner-a", record("resp_2", now)["response"]["output"][0])}
    assert store.get_many([]) == {}
    assert store.items([]) == {}


def test_what_orjson_refuses_is_stored_all_the_same(backend):
    """A tool's JSON schema may hold an integer beyond 64 bits (orjson's limit)."""
    store, clock = backend
    kept = record("resp_big", clock() if clock else 1.0)
    kept["response"]["tools"] = [{"type": "function", "name": "f", "parameters": {"maximum": 2**70, "minimum": -1.5}}]
    store.put(kept)
    assert store.get("resp_big") == kept


def made_here(created: float, owner: str | None = "owner-a") -> dict:
    """A record whose ids ResponseIds made, as the gateway's own are."""
    ids = ResponseIds()
    stored = record(ids("resp"), created, owner)
    stored["input_items"][0]["id"], stored["response"]["output"][0]["id"] = ids("msg"), ids("msg")
    return stored


def test_ids_made_here_name_their_response():
    ids = ResponseIds()
    made = [ids(prefix) for prefix in ("resp", "msg", "fc", "call", "rs", "msg")]
    assert made[0] == f"resp_{ids.key}"
    assert len(set(made)) == 6
    assert all(holder_of(item_id) == made[0] for item_id in made[1:])
    assert [holder_of(item_id) for item_id in ("msg_1", "resp_" + ids.key, "msg_" + ids.key, "fc_abc")] == [None] * 4
    assert ResponseIds().key != ids.key


def test_items_are_found_from_their_ids_alone(backend, tmp_path):
    store, clock = backend
    stored = made_here(clock() if clock else 1.0)
    store.put(stored)
    given, answer = stored["input_items"][0], stored["response"]["output"][0]
    assert store.items([given["id"], answer["id"], "msg_unknown"]) == {
        given["id"]: ("owner-a", given), answer["id"]: ("owner-a", answer)}
    # Nothing but the response was written: no index of its items.
    if isinstance(store, SqliteStore):
        assert store._file.one("SELECT count(*) FROM stored_response_items") == [(0,)]
    if isinstance(store, RedisStore):
        assert store._call(lambda r: r.keys("*")) == [f"gemini-proxy:response:{stored['response']['id']}".encode()]
    assert store.delete(stored["response"]["id"]) is True
    assert store.items([given["id"], answer["id"]]) == {}


def test_delete_removes_the_response_and_its_items_once(backend):
    store, clock = backend
    store.put(record("resp_1", clock() if clock else 1.0))
    store.put(record("resp_2", clock() if clock else 1.0))
    assert store.delete("resp_1") is True
    assert store.get("resp_1") is None
    assert store.items(["msg_in_resp_1", "msg_out_resp_1"]) == {}
    assert store.delete("resp_1") is False
    assert store.get("resp_2") is not None
    assert set(store.items(["msg_in_resp_2"])) == {"msg_in_resp_2"}


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_responses_expire_after_the_ttl(kind, tmp_path):
    clock = Clock()
    store = local_store(kind, tmp_path, 100, clock)
    store.put(record("resp_old", clock()))
    clock.now += TTL - 1
    assert store.get("resp_old") is not None
    clock.now += 2
    assert store.get("resp_old") is None
    assert store.items(["msg_in_resp_old"]) == {}
    assert store.delete("resp_old") is False


def test_redis_keys_carry_the_ttl(redis_url):
    redis.Redis.from_url(redis_url).flushdb()
    store = RedisStore(redis_url, ttl=1234)
    store.put(record("resp_ttl", 1.0))
    raw = redis.Redis.from_url(redis_url)
    keys = sorted(key.decode() for key in raw.keys("*"))
    assert keys == ["gemini-proxy:response-item:msg_in_resp_ttl", "gemini-proxy:response-item:msg_out_resp_ttl",
                    "gemini-proxy:response:resp_ttl"]
    assert all(1200 < raw.ttl(key) <= 1234 for key in keys)
    store.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_the_oldest_responses_go_first_beyond_the_limit(kind, tmp_path):
    clock = Clock()
    store = local_store(kind, tmp_path, 3, clock)
    for n in range(5):
        clock.now += 1
        store.put(record(f"resp_{n}", clock()))
    if kind == "sqlite":
        # SQLite prunes every few hundred writes; the next one after a prune point does it.
        store._puts = 0
        clock.now += 1
        store.put(record("resp_5", clock()))
        assert set(store.get_many([f"resp_{n}" for n in range(6)])) == {"resp_3", "resp_4", "resp_5"}
        assert store.items(["msg_in_resp_0"]) == {}
    else:
        assert set(store.get_many([f"resp_{n}" for n in range(5)])) == {"resp_2", "resp_3", "resp_4"}
        assert store.items(["msg_in_resp_0", "msg_in_resp_4"]).keys() == {"msg_in_resp_4"}


def test_two_workers_share_one_sqlite_file(tmp_path):
    path = str(tmp_path / "shared.sqlite3")
    first, second = SqliteStore(path, TTL, 100), SqliteStore(path, TTL, 100)
    first.put(record("resp_shared", time.time()))
    assert second.get("resp_shared")["response"]["id"] == "resp_shared"
    assert second.delete("resp_shared") is True
    assert first.get("resp_shared") is None


def test_a_prune_that_fails_does_not_fail_the_write_it_follows(tmp_path, monkeypatch):
    store = SqliteStore(str(tmp_path / "r.sqlite3"), TTL, 100)

    def busy(db):
        raise sqlite3.OperationalError("database is locked")
    monkeypatch.setattr(store, "_prune", busy)
    store.put(record("resp_kept", time.time()))  # the first write prunes
    assert store.get("resp_kept")["response"]["id"] == "resp_kept"


def test_an_unreachable_store_is_a_503_not_a_silent_loss(tmp_path):
    down = RedisStore(f"redis://127.0.0.1:{free_port()}/0", ttl=10)
    for call in (lambda: down.put(record("resp_x", 1.0)), lambda: down.get("resp_x"),
                 lambda: down.items(["msg_x"]), lambda: down.delete("resp_x")):
        with pytest.raises(ApiError) as caught:
            call()
        assert (caught.value.status, caught.value.code, caught.value.type) == \
            (503, "store_unavailable", "service_unavailable_error")
    path = tmp_path / "r.sqlite3"
    store = SqliteStore(str(path), TTL, 100)
    path.unlink()
    path.mkdir()  # the file is now a folder: SQLite cannot open it
    with pytest.raises(ApiError) as caught:
        store.get("resp_x")
    assert caught.value.status == 503


def test_the_settings_choose_the_backend(tmp_path, redis_url):
    assert isinstance(open_store(Settings(responses_db="")), MemoryStore)
    assert isinstance(open_store(Settings(responses_db=str(tmp_path / "r.sqlite3"))), SqliteStore)
    store = open_store(Settings(responses_db=str(tmp_path / "r.sqlite3"), redis_url=redis_url))
    assert isinstance(store, RedisStore)
    store.close()


def test_the_carrier_key_is_the_same_for_every_worker(tmp_path, redis_url):
    assert carrier_key(Settings(responses_secret="s3cret")) == derived_key("s3cret") != derived_key("other")
    # A file beside RESPONSES_DB, made once, readable by its owner only.
    db = str(tmp_path / "data" / "responses.sqlite3")
    first, second = carrier_key(Settings(responses_db=db)), carrier_key(Settings(responses_db=db))
    secret_file = tmp_path / "data" / FILE_NAME
    assert first == second
    assert len(first) == 32
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    assert first == derived_key(secret_file.read_text().strip())
    # Redis: the first to start writes it, the others (on any machine) read it.
    redis.Redis.from_url(redis_url).flushdb()
    one, two = (carrier_key(Settings(responses_db="", redis_url=redis_url)) for _ in range(2))
    assert one == two == derived_key(redis.Redis.from_url(redis_url).get(REDIS_KEY).decode())
    # Memory only: a key of its own.
    assert carrier_key(Settings(responses_db="")) != carrier_key(Settings(responses_db=""))
