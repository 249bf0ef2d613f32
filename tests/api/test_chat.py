"""POST /v1/chat/completions through the Flask test client, with the emulator behind the real SDK."""
import json

import pytest

from tests.support import assert_openai, sse_events

PATHS = ["/v1/chat/completions", "/chat/completions"]


def ask(text="Say hello", **fields):
    return {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": text}], **fields}


def stream_chunks(response):
    events = sse_events(response.get_data())
    assert events[-1] == "[DONE]"
    assert events.count("[DONE]") == 1
    return [json.loads(e) for e in events[:-1]]


@pytest.mark.parametrize("path", PATHS)
def test_answer_is_an_exact_chat_completion(client, path):
    response = client.post(path, json=ask())
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert_openai("CreateChatCompletionResponse", body)
    assert body["id"].startswith("chatcmpl-")
    assert body["object"] == "chat.completion"
    assert isinstance(body["created"], int)
    assert body["model"] == "gemini-2.5-flash"
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"]
    assert choice["message"]["refusal"] is None
    assert choice["logprobs"] is None
    assert choice["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


def test_same_request_same_answer_and_alias_reported_as_asked(client, emulator_requests):
    first = client.post("/v1/chat/completions", json=ask(model="gpt-4o-mini")).get_json()
    second = client.post("/v1/chat/completions", json=ask(model="gemini-2.5-flash")).get_json()
    assert first["model"] == "gpt-4o-mini"
    assert emulator_requests()[0]["model"].endswith("gemini-2.5-flash")
    assert first["choices"][0]["message"]["content"] == second["choices"][0]["message"]["content"]


def test_the_whole_conversation_reaches_gemini(client, emulator_requests):
    client.post("/v1/chat/completions", json={"model": "gemini-2.5-flash", "temperature": 0, "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "My favourite colour is blue."},
        {"role": "assistant", "content": "Noted."},
        {"role": "developer", "content": [{"type": "text", "text": "One word only."}]},
        {"role": "user", "content": [{"type": "text", "text": "What is my favourite colour?"}]},
    ]})
    sent = emulator_requests()[0]["body"]
    assert [p["text"] for p in sent["systemInstruction"]["parts"]] == ["You are terse.", "One word only."]
    assert [(c["role"], [p["text"] for p in c["parts"]]) for c in sent["contents"]] == [
        ("user", ["My favourite colour is blue."]), ("model", ["Noted."]), ("user", ["What is my favourite colour?"])]
    assert sent["generationConfig"]["temperature"] == 0


def test_parameters_reach_generation_config(client, emulator_requests):
    client.post("/v1/chat/completions", json=ask(temperature=0.5, top_p=0.9, max_tokens=50, stop=["zzz"], seed=3,
                                                 presence_penalty=0.1, frequency_penalty=0.2, n=2))
    config = emulator_requests()[0]["body"]["generationConfig"]
    assert config == {"temperature": 0.5, "topP": 0.9, "maxOutputTokens": 50, "stopSequences": ["zzz"], "seed": 3,
                      "presencePenalty": 0.1, "frequencyPenalty": 0.2, "candidateCount": 2}


def test_n_gives_n_different_choices(client):
    body = client.post("/v1/chat/completions", json=ask(n=3)).get_json()
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert len({c["message"]["content"] for c in body["choices"]}) == 3


def test_max_tokens_gives_length(client):
    asked = ask("[emulator tokens=50 thoughts=0]", max_completion_tokens=5)
    body = client.post("/v1/chat/completions", json=asked).get_json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 5
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0


def test_stop_sequence_cuts_the_answer(client):
    body = client.post("/v1/chat/completions", json=ask('[emulator say="one two three four"]', stop="three")).get_json()
    assert body["choices"][0]["message"]["content"].strip() == "one two"
    assert body["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize("path", PATHS)
def test_stream_wire_format(client, path):
    response = client.post(path, json=ask(stream=True))
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    chunks = stream_chunks(response)
    for chunk in chunks:
        assert_openai("CreateChatCompletionStreamResponse", chunk)
        assert "usage" not in chunk
    assert len({(c["id"], c["created"], c["model"]) for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"][0]["finish_reason"]]
    assert finishes == ["stop"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    plain = client.post(path, json=ask()).get_json()["choices"][0]["message"]["content"]
    assert text == plain


def test_stream_include_usage(client):
    asked = ask(stream=True, stream_options={"include_usage": True})
    chunks = stream_chunks(client.post("/v1/chat/completions", json=asked))
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == []
    plain = client.post("/v1/chat/completions", json=ask()).get_json()
    assert chunks[-1]["usage"] == plain["usage"]


def test_stream_with_n_multiplexes_choices(client):
    chunks = stream_chunks(client.post("/v1/chat/completions", json=ask(stream=True, n=2)))
    finished = sorted(c["choices"][0]["index"] for c in chunks if c["choices"][0]["finish_reason"])
    assert finished == [0, 1]


def test_blocked_prompt_is_a_content_filter_choice(client):
    body = client.post("/v1/chat/completions", json=ask("[emulator fault=block]")).get_json()
    assert body["choices"][0]["finish_reason"] == "content_filter"
    chunks = stream_chunks(client.post("/v1/chat/completions", json=ask("[emulator fault=block]", stream=True)))
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None, "content_filter"]


def test_safety_stop_keeps_partial_text(client):
    body = client.post("/v1/chat/completions", json=ask("[emulator finish=SAFETY after=1 tokens=40]")).get_json()
    assert body["choices"][0]["finish_reason"] == "content_filter"
    assert body["choices"][0]["message"]["content"]


def test_multi_turn_answer_shows_the_history_arrived(client):
    body = client.post("/v1/chat/completions", json={"model": "gemini-2.5-flash", "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "My favourite colour is blue. Remember it."},
        {"role": "assistant", "content": "Noted."},
        {"role": "user", "content": "What is my favourite colour?"},
    ]}).get_json()
    assert body["choices"][0]["message"]["content"].startswith("You said: My favourite colour is blue.")


def test_request_id_is_echoed_or_generated(client):
    echoed = client.post("/v1/chat/completions", json=ask(), headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    generated = client.post("/v1/chat/completions", json={}).headers["X-Request-ID"]
    assert generated.startswith("req_")
    assert len(generated) > 10
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert replaced.headers["X-Request-ID"].startswith("req_")
