"""Streamed Responses through the Flask app and the emulator: OpenAI's framing (`event:` +
`data:`, no [DONE]), every event valid against its ResponseStreamEvent variant, relayed as
Gemini generates, failures before the start as HTTP errors and after it as response.failed,
the stored Response being the stream's final one, and a client that goes away stopping Gemini."""
import json
import time

import pytest

from tests.support import assert_openai
from tests.support.emulator import stats
from tests.support.responses import WEATHER, assert_served_stream, named_events

MODEL = "gemini-2.5-flash"


def ask(text="Count to five", **fields):
    return {"model": MODEL, "input": text, "stream": True, **fields}


def test_a_stream_is_openais_event_stream_and_its_final_response_is_stored(client):
    response = client.post("/v1/responses", json=ask(instructions="Be brief."))
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["X-Accel-Buffering"] == "no"
    raw = response.get_data()
    assert b"[DONE]" not in raw
    events = named_events(raw)
    final = assert_served_stream(events)
    assert final["status"] == "completed"
    deltas = "".join(event["delta"] for event in events if event["type"] == "response.output_text.delta")
    assert deltas
    assert final["output"][0]["content"][0]["text"] == deltas
    assert client.get(f"/v1/responses/{final['id']}").get_json() == final
    [listed] = client.get(f"/v1/responses/{final['id']}/input_items").get_json()["data"]
    assert listed["content"][0]["text"] == "Count to five"


def test_a_streamed_function_call_chains_like_a_plain_one(client, emulator_requests):
    events = named_events(client.post("/v1/responses", json=ask(
        "What is the weather in Paris?", tools=[WEATHER], tool_choice="required")).get_data())
    final = assert_served_stream(events)
    [call] = [item for item in final["output"] if item["type"] == "function_call"]
    assert json.loads(call["arguments"]) == json.loads(
        next(e["arguments"] for e in events if e["type"] == "response.function_call_arguments.done"))
    answer = named_events(client.post("/v1/responses", json=ask(
        [{"type": "function_call_output", "call_id": call["call_id"], "output": "21 degrees"}],
        tools=[WEATHER], previous_response_id=final["id"])).get_data())
    assert assert_served_stream(answer)["status"] == "completed"
    sent = emulator_requests()[0]["body"]
    assert [content["role"] for content in sent["contents"]] == ["user", "model", "user"]
    assert sent["contents"][1]["parts"][0]["functionCall"]["name"] == "get_weather"
    assert sent["contents"][2]["parts"][0]["functionResponse"]["name"] == "get_weather"


def test_events_are_relayed_as_gemini_generates_them(client):
    response = client.post("/v1/responses", json=ask("[emulator ttft=0 tps=20 tokens=30]"))
    started, arrivals = time.monotonic(), []
    for frame in response.response:
        if b"response.output_text.delta" in frame.split(b"\n", 1)[0]:
            arrivals.append(time.monotonic() - started)
    response.close()
    assert len(arrivals) >= 5  # the emulator sends a few tokens per chunk
    assert arrivals[0] < 0.5, f"first delta after {arrivals[0]:.2f}s"
    assert arrivals[-1] - arrivals[0] > 0.8, "the deltas came all at once: the stream was buffered"


@pytest.mark.parametrize("fault, status", [("500", 500), ("429", 429), ("badkey", 401), ("empty", 502)])
def test_a_failure_before_the_first_chunk_is_an_http_error(client, fault, status):
    response = client.post("/v1/responses", json=ask(f"[emulator fault={fault}]"))
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert_openai("ErrorResponse", response.get_json())


@pytest.mark.parametrize("directive, message", [
    ("[emulator fault=midstream after=3 tokens=40]", None),
    ("[emulator fault=unfinished after=3 tokens=40]", "ended before it was finished"),
])
def test_a_failure_after_the_start_is_response_failed_and_the_stream_ends(client, directive, message):
    response = client.post("/v1/responses", json=ask(directive))
    assert response.status_code == 200
    raw = response.get_data()
    assert b"[DONE]" not in raw
    events = named_events(raw)
    failed = assert_served_stream(events, "response.failed")
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "server_error"
    if message:
        assert message in failed["error"]["message"]
    assert any(event["type"] == "response.output_text.delta" for event in events)
    assert client.get(f"/v1/responses/{failed['id']}").get_json() == failed


def test_a_client_that_goes_away_stops_the_upstream_call(client, emulator):
    before = stats(emulator)
    response = client.post("/v1/responses", json=ask("[emulator ttft=0 tps=20 tokens=400]"))
    frames = iter(response.response)
    received = [next(frames) for _ in range(5)]
    assert any(b"response.output_text.delta" in frame for frame in received)
    response.close()  # what WSGI does when the client disconnects
    deadline = time.monotonic() + 10
    while stats(emulator)["streams_aborted"] == before["streams_aborted"] and time.monotonic() < deadline:
        time.sleep(0.05)
    after = stats(emulator)
    assert after["streams_aborted"] == before["streams_aborted"] + 1
    generated = after["tokens_generated"] - before["tokens_generated"]
    time.sleep(0.5)
    assert stats(emulator)["tokens_generated"] - before["tokens_generated"] == generated, "Gemini is still generating"
    assert generated < 200
