"""Stored responses across real processes: two gunicorn instances (two machines behind one
address) sharing a Redis; the workers of one gunicorn sharing its SQLite file; and a Responses
stream ended by a draining worker with response.failed."""
import json
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
import redis
import requests

from tests.support.processes import start_gunicorn
from tests.support.responses import WEATHER, assert_served_stream

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-flash"


@pytest.fixture(scope="module")
def two_machines(emulator_process, redis_url, tmp_path_factory):
    """Two gunicorns with Redis and nothing else in common (each its own SQLite folder)."""
    servers = []
    try:
        for n in range(2):
            folder = tmp_path_factory.mktemp(f"machine{n}")
            servers.append(start_gunicorn(GEMINI_BASE_URL=emulator_process, UPSTREAM_RETRIES="0", REDIS_URL=redis_url,
                                          RESPONSES_TTL="3600", RESPONSES_DB=str(folder / "responses.sqlite3"),
                                          SIGNATURE_DB=str(folder / "signatures.sqlite3"),
                                          GATEWAY_API_KEYS="sk-e2e-alice alice,sk-e2e-bob bob"))
        yield servers
    finally:
        for server in servers:
            assert server.stop() == 0


def sdk(server, key="sk-e2e-alice") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0, timeout=30)


def test_a_response_made_on_one_machine_is_continued_read_and_deleted_on_the_other(two_machines, redis_url):
    one, two = two_machines
    with sdk(one) as first_machine, sdk(two) as second_machine:
        first = first_machine.responses.create(model=MODEL, input="My favourite colour is blue.")
        second = second_machine.responses.create(model=MODEL, input="What is my favourite colour?",
                                                 previous_response_id=first.id)
        assert second.previous_response_id == first.id
        assert second_machine.responses.retrieve(first.id).output_text == first.output_text
        listed = list(second_machine.responses.input_items.list(second.id))
        assert [item.content[0].text for item in listed] == ["What is my favourite colour?"]
        stored = redis.Redis.from_url(redis_url)
        assert 3500 < stored.ttl(f"gemini-proxy:response:{first.id}") <= 3600
        assert json.loads(stored.get(f"gemini-proxy:response:{second.id}"))["chain"] == [first.id]
        second_machine.responses.delete(first.id)
        with pytest.raises(openai.NotFoundError):
            first_machine.responses.retrieve(first.id)
        with pytest.raises(openai.BadRequestError) as chained:
            first_machine.responses.create(model=MODEL, input="And now?", previous_response_id=second.id)
        assert chained.value.body["code"] == "previous_response_not_found"


def test_another_key_sees_nothing_of_it_on_either_machine(two_machines):
    one, two = two_machines
    with sdk(one) as alice, sdk(two, "sk-e2e-bob") as bob:
        mine = alice.responses.create(model=MODEL, input="Alice's own question")
        with pytest.raises(openai.NotFoundError):
            bob.responses.retrieve(mine.id)
        with pytest.raises(openai.NotFoundError):
            bob.responses.delete(mine.id)
        assert alice.responses.retrieve(mine.id).id == mine.id


def test_a_stateless_turn_moves_between_machines_with_the_shared_secret(two_machines, emulator_stats):
    """The encrypted_content secret was generated once, in Redis, for both: a gemini-3 call made
    on one machine is answered on the other with its signature."""
    one, two = two_machines
    before = emulator_stats()
    question = {"role": "user", "content": "What is the weather in Paris?"}
    with sdk(one) as first_machine, sdk(two) as second_machine:
        first = first_machine.responses.create(model="gemini-3-pro-preview", input=[question], tools=[WEATHER],
                                                tool_choice="required", store=False,
                                                include=["reasoning.encrypted_content"])
        call = next(item for item in first.output if item.type == "function_call")
        sent_back = [item.model_dump(exclude_none=True, exclude={"id", "status"}) for item in first.output]
        answer = second_machine.responses.create(model="gemini-3-pro-preview", tools=[WEATHER], store=False, input=[
            question, *sent_back, {"type": "function_call_output", "call_id": call.call_id, "output": "21 degrees"}])
        assert answer.status == "completed"
    after = emulator_stats()
    assert after["signatures_verified"] - before["signatures_verified"] == 1
    assert after["signatures_dummy"] == before["signatures_dummy"]


def test_the_workers_of_one_machine_share_its_sqlite_file(emulator_process, tmp_path):
    server = start_gunicorn(GEMINI_BASE_URL=emulator_process, UPSTREAM_RETRIES="0", WEB_CONCURRENCY="4",
                            RESPONSES_DB=str(tmp_path / "responses.sqlite3"))
    try:
        with sdk(server) as client:
            made = [client.responses.create(model=MODEL, input=f"Question {n}") for n in range(8)]
            # Each retrieve may land on any of the four workers.
            for response in made:
                for _ in range(3):
                    assert client.responses.retrieve(response.id).output_text == response.output_text
        assert (tmp_path / "responses.sqlite3").exists()
        assert (tmp_path / "responses.secret").stat().st_mode & 0o777 == 0o600
    finally:
        assert server.stop() == 0


def read_named_stream(url: str, body: dict, started: threading.Event) -> list[dict]:
    events = []
    with requests.post(f"{url}/v1/responses", json=body, stream=True, timeout=30) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith(b"data: "):
                events.append(json.loads(line[6:]))
                started.set()
    return events


def test_a_draining_worker_ends_a_responses_stream_with_response_failed(emulator_process, tmp_path):
    graceful = 6
    server = start_gunicorn(GEMINI_BASE_URL=emulator_process, UPSTREAM_RETRIES="0", WEB_CONCURRENCY="1",
                            GUNICORN_GRACEFUL_TIMEOUT=str(graceful), RESPONSES_DB=str(tmp_path / "r.sqlite3"))
    try:
        with ThreadPoolExecutor(1) as pool:
            started = threading.Event()
            body = {"model": MODEL, "input": "[emulator ttft=0 tps=10 tokens=400]", "stream": True}
            stream = pool.submit(read_named_stream, server.url, body, started)
            assert started.wait(20)
            server.process.send_signal(signal.SIGTERM)
            events = stream.result(timeout=graceful + 5)
            assert server.process.wait(graceful + 5) == 0
    finally:
        server.stop(signal.SIGKILL)
    failed = assert_served_stream(events, "response.failed")
    assert any(event["type"] == "response.output_text.delta" for event in events)
    assert failed["error"]["code"] == "server_error"
    assert "shutting down" in failed["error"]["message"]
