"""Thought signatures shared through a real Redis (REDIS_URL) by two apps standing for two
machines, and a Redis stopped and started again under them: answers never fail, the outage is
logged once each way and counted, and it heals by itself. The emulator verifies signatures."""
import json
import logging
import time

import pytest
import redis

from tests.support import sse_events
from tests.support.emulator import stats
from tests.support.processes import free_port, start_redis

MODEL = "gemini-3-pro-preview"  # refuses a tool-call turn without a valid signature (or the stand-in)
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


@pytest.fixture
def machines(client_with):
    """Apps built like separate machines (no SQLite file: memory and, when given, Redis)."""
    return client_with


@pytest.fixture
def counted(emulator):
    """The change in the emulator's signature counters since the test started."""
    before = stats(emulator)
    return lambda: {name: stats(emulator)[name] - before[name] for name in ("signatures_verified", "signatures_dummy")}


def tool_call(client, city: str, stream: bool = False) -> list[dict]:
    """A turn that ends in a call of get_weather: the conversation so far, call included."""
    asked = {"role": "user", "content": f"get_weather in {city}"}
    response = client.post("/v1/chat/completions", json={"model": MODEL, "tools": [WEATHER], "messages": [asked],
                                                         "tool_choice": "required", "stream": stream})
    assert response.status_code == 200, response.get_data(as_text=True)
    if stream:
        deltas = [delta for event in sse_events(response.get_data())[:-1]
                  for delta in json.loads(event)["choices"][0]["delta"].get("tool_calls", ())]
        call = {"id": deltas[0]["id"], "type": "function", "function": deltas[0]["function"]}
    else:
        call = response.get_json()["choices"][0]["message"]["tool_calls"][0]
    return [asked, {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call["id"], "content": "18 degrees"}]


def answer(client, conversation: list[dict]):
    response = client.post("/v1/chat/completions", json={"model": MODEL, "tools": [WEATHER],
                                                         "messages": conversation})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_a_turn_on_another_machine_finds_the_signature_in_redis(machines, counted, redis_url, stream):
    machine_a, machine_b = machines(redis_url=redis_url), machines(redis_url=redis_url)
    answer(machine_b, tool_call(machine_a, "Lima", stream))
    assert counted() == {"signatures_verified": 1, "signatures_dummy": 0}


def test_without_redis_the_other_machine_sends_the_stand_in(machines, counted):
    """What Redis is for: the same two turns on two machines without it."""
    answer(machines(), tool_call(machines(), "Lima"))
    assert counted() == {"signatures_verified": 0, "signatures_dummy": 1}


def _unavailable(metrics: str) -> float:
    prefix = 'gemini_proxy_state_unavailable_total{store="signatures"} '
    return sum(float(line[len(prefix):]) for line in metrics.splitlines() if line.startswith(prefix))


def test_a_redis_outage_loses_no_answer_and_heals_by_itself(machines, counted, tmp_path, caplog):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    server = start_redis(port, tmp_path)
    machine_a, machine_b = machines(redis_url=url), machines(redis_url=url)
    try:
        with caplog.at_level(logging.INFO, "gemini_proxy.stores.signatures"):
            before_outage = tool_call(machine_a, "Lima")
            server.terminate()
            server.wait(10)
            answer(machine_a, before_outage)  # found in the worker's own memory
            during = []
            for city in ("Oslo", "Quito", "Accra"):
                asked = time.monotonic()
                during.append(tool_call(machine_a, city))
                answer(machine_b, during[-1])  # the other machine cannot see it: the stand-in
                assert time.monotonic() - asked < 1.5  # nobody waits on the dead Redis
            assert counted() == {"signatures_verified": 1, "signatures_dummy": 3}
            metrics = machine_a.get("/metrics").get_data(as_text=True)
            server = start_redis(port, tmp_path)
            time.sleep(1.1)  # Redis is tried again once a second
            after = tool_call(machine_a, "Lima")  # this write also sends those the outage kept back
            answer(machine_b, after)
            answer(machine_b, during[0])
    finally:
        server.terminate()
        server.wait(10)
    assert counted() == {"signatures_verified": 3, "signatures_dummy": 3}
    assert _unavailable(metrics) >= 3
    # Once each way per machine (worker process), not once per request.
    messages = [record.getMessage() for record in caplog.records]
    assert len([m for m in messages if m.startswith("thought signature store (Redis) unavailable")]) == 2
    assert len([m for m in messages if m.startswith("thought signature store (Redis) is back after")]) == 2


def test_signatures_in_redis_expire_after_signature_ttl(machines, redis_url):
    call_id = tool_call(machines(redis_url=redis_url, signature_ttl=120), "Lima")[1]["tool_calls"][0]["id"]
    direct = redis.Redis.from_url(redis_url)
    try:
        assert 110 < direct.ttl(f"gemini-proxy:signature:{call_id}") <= 120
        assert direct.get(f"gemini-proxy:signature:{call_id}").decode().startswith(f"{MODEL} ")
    finally:
        direct.close()
