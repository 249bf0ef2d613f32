"""Model fallbacks (MODEL_FALLBACKS) through the Flask app, with the emulator behind the real SDK:
its `model=` directive makes one model overloaded while the others answer."""
import json
import logging

import pytest

from gemini_proxy.config_parsing import parse_fallbacks
from gemini_proxy.web.hooks import ANSWERED_BY_HEADER
from tests.support import assert_openai, sse_events
from tests.support.emulator import stats
from tests.support.responses import assert_response, assert_served_stream, named_events

CHAIN = "gemini-2.5-pro>gemini-2.5-flash"
PRO_DOWN = "[emulator fault=503 model=gemini-2.5-pro] Say hello"
ROUTES = {"chat": "/v1/chat/completions", "completions": "/v1/completions", "responses": "/v1/responses"}


def body_for(api: str, text: str, model: str = "gemini-2.5-pro", **fields) -> dict:
    if api == "chat":
        return {"model": model, "messages": [{"role": "user", "content": text}], **fields}
    if api == "completions":
        return {"model": model, "prompt": text, **fields}
    return {"model": model, "input": text, **fields}


def fallbacks(metrics_text: str) -> dict[tuple[str, str], float]:
    counted = {}
    for line in metrics_text.splitlines():
        if line.startswith("gemini_proxy_model_fallbacks_total{"):
            labels, value = line[len("gemini_proxy_model_fallbacks_total{"):].split("} ")
            found = dict(part.split("=") for part in labels.split(","))
            counted[(found["requested"].strip('"'), found["answered"].strip('"'))] = float(value)
    return counted


@pytest.fixture
def calls(emulator):
    """The calls that reached the emulator since the test started."""
    before = stats(emulator)["requests"]
    return lambda: stats(emulator)["requests"] - before


@pytest.fixture
def falling_back(client_with):
    return client_with(model_fallbacks=parse_fallbacks(CHAIN))


def assert_answer(api: str, response, stream: bool) -> dict | list:
    """The answer is complete and valid, and its `model` is the name the client asked for."""
    assert response.status_code == 200, response.get_data(as_text=True)
    if api == "responses":
        if stream:
            final = assert_served_stream(named_events(response.get_data()))
            assert final["model"] == "gemini-2.5-pro"
            return final
        assert_response(response.get_json())
        assert response.get_json()["model"] == "gemini-2.5-pro"
        return response.get_json()
    if stream:
        events = sse_events(response.get_data())
        assert events[-1] == "[DONE]"
        chunks = [json.loads(event) for event in events[:-1]]
        assert chunks
        assert all("error" not in chunk and chunk["model"] == "gemini-2.5-pro" for chunk in chunks)
        return chunks
    body = response.get_json()
    assert_openai("CreateChatCompletionResponse" if api == "chat" else "CreateCompletionResponse", body)
    assert body["model"] == "gemini-2.5-pro"
    return body


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("api", sorted(ROUTES))
def test_an_overloaded_model_falls_back_and_the_answer_keeps_the_name_asked_for(falling_back, calls, caplog, api,
                                                                                stream):
    with caplog.at_level(logging.INFO):
        response = falling_back.post(ROUTES[api], json=body_for(api, PRO_DOWN, stream=stream))
        assert_answer(api, response, stream)
        response.close()
    assert response.headers[ANSWERED_BY_HEADER] == "gemini-2.5-flash"
    assert calls() == 2  # gemini-2.5-pro (503, no retries in these tests), then gemini-2.5-flash
    assert fallbacks(falling_back.get("/metrics").get_data(as_text=True)) == {
        ("gemini-2.5-pro", "gemini-2.5-flash"): 1.0}
    messages = [record.getMessage() for record in caplog.records]
    assert "model gemini-2.5-pro failed (503 UNAVAILABLE): falling back to gemini-2.5-flash" in messages
    logged = [record.fields for record in caplog.records if record.name == "gemini_proxy.access"]
    assert logged[-1]["answered_by"] == "gemini-2.5-flash"
    assert logged[-1]["model"] == "gemini-2.5-pro"


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_every_answer_names_the_model_that_answered(client, calls, stream):
    """No fallback configured: the header names the Gemini model behind the alias."""
    response = client.post("/v1/chat/completions", json=body_for("chat", "hi", model="gpt-4o-mini", stream=stream))
    response.get_data()
    assert response.status_code == 200
    assert response.headers[ANSWERED_BY_HEADER] == "gemini-2.5-flash"
    assert calls() == 1


def test_the_fallback_is_asked_with_its_own_thinking_config(falling_back, emulator_requests):
    """reasoning_effort none is a budget of 128 on 2.5 Pro (it cannot stop thinking), 0 on Flash."""
    response = falling_back.post(ROUTES["chat"], json=body_for("chat", PRO_DOWN, reasoning_effort="none"))
    assert response.status_code == 200, response.get_data(as_text=True)
    pro, flash = emulator_requests(2)
    assert (pro["model"], flash["model"]) == ("gemini-2.5-pro", "gemini-2.5-flash")
    assert pro["body"]["generationConfig"]["thinkingConfig"]["thinkingBudget"] == 128
    assert flash["body"]["generationConfig"]["thinkingConfig"]["thinkingBudget"] == 0


@pytest.mark.parametrize("fault", ["429", "500"])
def test_quota_and_server_errors_fall_back_too(falling_back, calls, fault):
    text = f"[emulator fault={fault} model=gemini-2.5-pro] hi"
    response = falling_back.post(ROUTES["chat"], json=body_for("chat", text))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers[ANSWERED_BY_HEADER] == "gemini-2.5-flash"
    assert calls() == 2


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_a_request_the_model_refuses_is_not_asked_again_elsewhere(falling_back, calls, stream):
    response = falling_back.post(ROUTES["chat"], json=body_for(
        "chat", "[emulator fault=400 model=gemini-2.5-pro] hi", stream=stream))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_request"
    assert ANSWERED_BY_HEADER not in response.headers
    assert calls() == 1
    assert fallbacks(falling_back.get("/metrics").get_data(as_text=True)) == {}


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_when_every_model_is_overloaded_the_client_gets_the_last_ones_error(falling_back, calls, stream):
    response = falling_back.post(ROUTES["chat"], json=body_for("chat", "[emulator fault=503] hi", stream=stream))
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "overloaded"
    assert ANSWERED_BY_HEADER not in response.headers
    assert calls() == 2


def test_the_last_models_error_is_the_one_returned_even_when_it_differs(client_with, calls):
    """The fallback model does not exist (a 404, not worth a third model): that is the answer."""
    client = client_with(model_fallbacks=parse_fallbacks("gemini-2.5-pro>gemini-0-missing>gemini-2.5-flash"))
    response = client.post(ROUTES["chat"], json=body_for("chat", PRO_DOWN))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "model_not_found"
    assert calls() == 2


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_a_stream_never_changes_model_after_its_first_byte(falling_back, calls, api):
    text = "[emulator fault=midstream after=2 model=gemini-2.5-pro] Count to twenty"
    response = falling_back.post(ROUTES[api], json=body_for(api, text, stream=True))
    raw = response.get_data()
    assert response.status_code == 200
    assert response.headers[ANSWERED_BY_HEADER] == "gemini-2.5-pro"
    if api == "chat":
        assert "error" in json.loads(sse_events(raw)[-2])
    else:
        assert named_events(raw)[-1]["type"] == "response.failed"
    assert calls() == 1


def test_an_alias_follows_the_chain_of_its_model_and_chains_may_name_aliases(client_with, calls):
    for chain, asked in (("gemini-2.5-pro>gemini-2.5-flash", "gpt-4o"), ("gpt-4o>gpt-4o-mini", "gemini-2.5-pro")):
        client = client_with(model_fallbacks=parse_fallbacks(chain))
        response = client.post(ROUTES["chat"], json=body_for("chat", PRO_DOWN, model=asked))
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["model"] == asked
        assert response.headers[ANSWERED_BY_HEADER] == "gemini-2.5-flash"
    assert calls() == 4


def test_a_fallback_that_cannot_take_the_request_is_skipped(client_with, calls):
    """gemini-2.0-flash does not think: a reasoning_effort request skips it for the next model."""
    client = client_with(model_fallbacks=parse_fallbacks("gemini-2.5-pro>gemini-2.0-flash>gemini-2.5-flash"))
    response = client.post(ROUTES["chat"], json=body_for("chat", PRO_DOWN, reasoning_effort="low"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers[ANSWERED_BY_HEADER] == "gemini-2.5-flash"
    assert calls() == 2


def test_the_later_prompts_of_a_legacy_completion_start_at_the_model_that_answered(falling_back, calls):
    prompts = [PRO_DOWN, "[emulator model=gemini-2.5-pro fault=503] And goodbye"]
    response = falling_back.post(ROUTES["completions"], json=body_for("completions", prompts))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [choice["index"] for choice in response.get_json()["choices"]] == [0, 1]
    assert calls() == 3  # pro, flash for the first prompt; flash alone for the second


def test_the_header_is_documented_and_exposed_to_browsers(client_with):
    client = client_with(cors_origins="https://app.example")
    document = client.get("/openapi.json").get_json()
    for path in ROUTES.values():
        assert ANSWERED_BY_HEADER in document["paths"][path]["post"]["responses"]["200"]["headers"]
    response = client.post(ROUTES["chat"], json=body_for("chat", "hi"), headers={"Origin": "https://app.example"})
    assert ANSWERED_BY_HEADER in response.headers["Access-Control-Expose-Headers"]


WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def test_a_fallbacks_thought_signature_is_not_sent_to_the_model_asked_for(client_with, emulator):
    """Gemini 3 refuses another model's signature as corrupted (a 400 that ended the
    conversation): the next turn to it carries Google's stand-in; a turn that falls back again
    gets the fallback's own signature, verified."""
    client = client_with(model_fallbacks=parse_fallbacks("gemini-3-pro-preview>gemini-2.5-pro"))
    ask = {"model": "gemini-3-pro-preview", "tools": [WEATHER]}
    down = "[emulator fault=503 model=gemini-3-pro-preview] get_weather in Lima"
    first = client.post(ROUTES["chat"], json={**ask, "messages": [{"role": "user", "content": down}]})
    assert first.headers[ANSWERED_BY_HEADER] == "gemini-2.5-pro"
    call = first.get_json()["choices"][0]["message"]["tool_calls"][0]
    turn = [{"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call["id"], "content": "18 degrees"}]
    before = stats(emulator)
    back = client.post(ROUTES["chat"], json={**ask, "messages": [{"role": "user", "content": "get_weather in Lima"},
                                                                  *turn]})
    assert back.status_code == 200, back.get_data(as_text=True)
    assert back.headers[ANSWERED_BY_HEADER] == "gemini-3-pro-preview"
    again = client.post(ROUTES["chat"], json={**ask, "messages": [{"role": "user", "content": down}, *turn]})
    assert again.headers[ANSWERED_BY_HEADER] == "gemini-2.5-pro"
    after = stats(emulator)
    # The stand-in went to gemini-3 twice: the second turn, and the third's call before its 503.
    assert after["signatures_dummy"] - before["signatures_dummy"] == 2
    assert after["signatures_verified"] - before["signatures_verified"] == 1
