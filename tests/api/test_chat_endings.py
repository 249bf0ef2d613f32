"""Honest endings (translate/endings.py, relay/endings.py): answers Gemini ends without giving
one are asked for again (EMPTY_ANSWER_RETRIES), then a 502 naming what Gemini did; the raw
finish reason is in x-gemini-finish-reason. The emulator's `finish=... after=0` ends an answer
before any text, `times=1` only the first time."""
import json
import uuid

import pytest

from tests.support import assert_openai, sse_events

BROKEN = [("MALFORMED_FUNCTION_CALL", "upstream_malformed_function_call"),
          ("UNEXPECTED_TOOL_CALL", "upstream_unexpected_tool_call"),
          ("STOP", "upstream_empty_answer")]


def ask(directive, stream=False, **fields):
    # A fresh nonce: the emulator counts times=N per request body, across tests.
    text = f"Tell me about rivers {uuid.uuid4().hex[:8]} [emulator {directive}]"
    return {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": text}], "stream": stream,
            **fields}


def chunks_of(response):
    return [json.loads(e) for e in sse_events(response.get_data())[:-1]]


@pytest.mark.parametrize(("reason", "code"), BROKEN)
def test_a_broken_answer_retried_once_becomes_the_answer(client, emulator_requests, reason, code):
    response = client.post("/v1/chat/completions", json=ask(f"finish={reason} after=0 times=1"))
    assert response.status_code == 200
    body = response.get_json()
    assert_openai("CreateChatCompletionResponse", body)
    assert body["choices"][0]["message"]["content"]
    assert body["choices"][0]["finish_reason"] == "stop"
    assert response.headers["x-gemini-finish-reason"] == "STOP"
    assert len(emulator_requests(2)) == 2


@pytest.mark.parametrize(("reason", "code"), BROKEN)
def test_a_broken_answer_twice_is_a_502_naming_it(client, reason, code):
    response = client.post("/v1/chat/completions", json=ask(f"finish={reason} after=0"))
    assert response.status_code == 502
    error = response.get_json()["error"]
    assert (error["type"], error["code"]) == ("upstream_error", code)
    assert "asked 2 times" in error["message"]
    assert response.headers["x-gemini-finish-reason"] == reason


@pytest.mark.parametrize(("reason", "code"), BROKEN)
def test_a_stream_is_retried_before_its_first_byte(client, reason, code):
    retried = client.post("/v1/chat/completions", json=ask(f"finish={reason} after=0 times=1", stream=True))
    assert retried.status_code == 200
    chunks = chunks_of(retried)
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    failed = client.post("/v1/chat/completions", json=ask(f"finish={reason} after=0", stream=True))
    assert failed.status_code == 502
    assert failed.get_json()["error"]["code"] == code
    assert failed.headers["x-gemini-finish-reason"] == reason


def test_no_retries_when_set_to_zero(client_with, emulator_requests):
    client = client_with(empty_answer_retries=0)
    response = client.post("/v1/chat/completions", json=ask("finish=MALFORMED_FUNCTION_CALL after=0 times=1"))
    assert response.status_code == 502
    assert "asked" not in response.get_json()["error"]["message"]


def test_a_broken_ending_after_output_is_an_error_event(client):
    # after=3: three chunks of text, the last one ending with the finish reason.
    response = client.post("/v1/chat/completions", json=ask("finish=MALFORMED_FUNCTION_CALL after=3", stream=True))
    assert response.status_code == 200
    events = sse_events(response.get_data())
    assert events[-1] == "[DONE]"
    assert json.loads(events[0])["choices"][0]["delta"]["role"] == "assistant"
    assert json.loads(events[-2])["error"]["code"] == "upstream_malformed_function_call"


@pytest.mark.parametrize("stream", [False, True])
def test_thinking_that_used_the_whole_budget_is_length(client, stream):
    response = client.post("/v1/chat/completions", json=ask("thoughts=64", stream=stream, max_tokens=16,
                                                             reasoning_effort="low"))
    assert response.status_code == 200
    if stream:
        choices = [c["choices"][0] for c in chunks_of(response) if c["choices"]]
        assert "".join(c["delta"].get("content") or "" for c in choices) == ""
        assert choices[-1]["finish_reason"] == "length"
    else:
        assert response.get_json()["choices"][0]["finish_reason"] == "length"
        assert response.headers["x-gemini-finish-reason"] == "MAX_TOKENS"


def test_the_raw_finish_reason_is_in_the_header_and_the_log(client, caplog):
    with caplog.at_level("INFO"):
        response = client.post("/v1/chat/completions", json=ask("tokens=5", n=2))
        response.close()
    assert response.headers["x-gemini-finish-reason"] == "STOP,STOP"
    logged = [r.fields for r in caplog.records if r.name == "gemini_proxy.access"]
    assert logged[-1]["gemini_finish_reason"] == "STOP,STOP"


def test_the_header_is_documented_and_exposed_to_browsers(client_with):
    client = client_with(cors_origins="https://app.example")
    document = client.get("/openapi.json").get_json()
    for path in ("/v1/chat/completions", "/v1/responses"):
        assert "x-gemini-finish-reason" in document["paths"][path]["post"]["responses"]["200"]["headers"]
    response = client.post("/v1/chat/completions", json=ask("tokens=3"), headers={"Origin": "https://app.example"})
    assert response.headers["x-gemini-finish-reason"] == "STOP"
    assert "x-gemini-finish-reason" in response.headers["Access-Control-Expose-Headers"].lower()


@pytest.mark.parametrize("stream", [False, True])
def test_legacy_completions_too(client, stream):
    prompt = f"Rivers {uuid.uuid4().hex[:8]} [emulator finish=STOP after=0]"
    response = client.post("/v1/completions", json={"model": "gemini-2.5-flash", "prompt": prompt, "stream": stream})
    assert response.status_code == 502
    assert response.get_json()["error"]["code"] == "upstream_empty_answer"
