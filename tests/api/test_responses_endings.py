"""Honest endings and service_tier on POST /v1/responses (relay/endings.py, shared with chat
completions): an answer Gemini ended without giving one is asked for again, then a 502."""
import uuid

import pytest

from tests.support.responses import assert_served_stream, named_events

MODEL = "gemini-2.5-flash"


def ask(directive="", stream=False, **fields):
    text = f"Tell me about rivers {uuid.uuid4().hex[:8]} [emulator {directive}]" if directive else "Hi"
    return {"model": MODEL, "input": text, "stream": stream, **fields}


@pytest.mark.parametrize("stream", [False, True])
def test_a_malformed_call_once_is_retried_into_an_answer(client, emulator_requests, stream):
    response = client.post("/v1/responses", json=ask("finish=MALFORMED_FUNCTION_CALL after=0 times=1", stream))
    assert response.status_code == 200
    final = assert_served_stream(named_events(response.get_data())) if stream else response.get_json()
    assert final["status"] == "completed"
    assert final["output"][0]["content"][0]["text"]
    assert len(emulator_requests(2)) == 2


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("reason", "code"), [("MALFORMED_FUNCTION_CALL", "upstream_malformed_function_call"),
                                              ("STOP", "upstream_empty_answer")])
def test_twice_is_a_502(client, stream, reason, code):
    response = client.post("/v1/responses", json=ask(f"finish={reason} after=0", stream))
    assert response.status_code == 502
    assert response.get_json()["error"]["code"] == code
    assert response.headers["x-gemini-finish-reason"] == reason


@pytest.mark.parametrize(("asked", "sent", "echoed"), [(None, None, "default"), ("auto", None, "default"),
                                                       ("flex", "flex", "flex"), ("priority", "priority", "priority")])
def test_service_tier(client, emulator_requests, asked, sent, echoed):
    body = client.post("/v1/responses", json=ask(service_tier=asked)).get_json()
    assert emulator_requests()[0]["body"].get("serviceTier") == sent
    assert body["service_tier"] == echoed


def test_scale_is_refused(client):
    response = client.post("/v1/responses", json=ask(service_tier="scale"))
    assert response.status_code == 400
    assert response.get_json()["error"]["param"] == "service_tier"
