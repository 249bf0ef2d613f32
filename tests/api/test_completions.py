"""POST /v1/completions (legacy) through the Flask test client, with the emulator behind the real SDK."""
import json

import pytest

from tests.support import assert_openai, sse_events

PATHS = ["/v1/completions", "/completions"]
MODEL = "gemini-2.5-flash"


def complete(client, prompt="Say hello", **fields):
    response = client.post("/v1/completions", json={"model": MODEL, "prompt": prompt, **fields})
    assert response.status_code == 200, response.get_json()
    return response


def stream_chunks(response):
    assert response.mimetype == "text/event-stream"
    events = sse_events(response.get_data())
    assert events[-1] == "[DONE]"
    assert events.count("[DONE]") == 1
    return [json.loads(e) for e in events[:-1]]


def assert_text_chunk(chunk):
    """The spec shares one schema between answers and chunks; like OpenAI's own streams, a chunk
    that does not finish a choice says finish_reason null, which that schema does not allow."""
    assert_openai("CreateCompletionResponse", {
        **chunk, "choices": [{**c, "finish_reason": c["finish_reason"] or "stop"} for c in chunk["choices"]]})


def texts_by_index(chunks):
    texts = {}
    for chunk in chunks:
        for choice in chunk["choices"]:
            texts[choice["index"]] = texts.get(choice["index"], "") + choice["text"]
    return texts


@pytest.mark.parametrize("path", PATHS)
def test_answer_is_a_text_completion(client, path):
    response = client.post(path, json={"model": MODEL, "prompt": "Say this is a test"})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert_openai("CreateCompletionResponse", body)
    assert body["id"].startswith("cmpl-")
    assert body["object"] == "text_completion"
    assert body["model"] == MODEL
    [choice] = body["choices"]
    assert choice["index"] == 0
    assert choice["text"]
    assert choice["logprobs"] is None
    assert choice["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


def test_same_answer_as_chat_for_the_same_prompt(client):
    legacy = complete(client, "Tell me about gardens", temperature=0).get_json()
    chat = client.post("/v1/chat/completions", json={"model": MODEL, "temperature": 0, "messages": [
        {"role": "user", "content": "Tell me about gardens"}]}).get_json()
    assert legacy["choices"][0]["text"] == chat["choices"][0]["message"]["content"]


def test_alias_is_resolved_and_reported_as_asked(client, emulator_requests):
    body = complete(client, model="gpt-3.5-turbo").get_json()
    assert body["model"] == "gpt-3.5-turbo"
    assert emulator_requests()[0]["model"] == "gemini-2.5-flash-lite"


def test_parameters_reach_generation_config(client, emulator_requests):
    complete(client, "Hi", temperature=0.5, top_p=0.9, max_tokens=50, stop=["zzz"], seed=3, presence_penalty=0.1,
             frequency_penalty=0.2, n=2, logprobs=2)
    sent = emulator_requests()[0]["body"]
    assert sent["contents"] == [{"role": "user", "parts": [{"text": "Hi"}]}]
    assert sent["generationConfig"] == {
        "temperature": 0.5, "topP": 0.9, "maxOutputTokens": 50, "stopSequences": ["zzz"], "seed": 3,
        "presencePenalty": 0.1, "frequencyPenalty": 0.2, "candidateCount": 2, "responseLogprobs": True, "logprobs": 2}


def test_a_list_of_prompts_gives_n_choices_per_prompt_numbered_like_openai(client, emulator_requests):
    body = complete(client, ['[emulator say="first answer"] A', '[emulator say="second answer"] B'], n=2).get_json()
    assert_openai("CreateCompletionResponse", body)
    assert [(c["index"], c["text"]) for c in body["choices"]] == [
        (0, "first answer"), (1, "first answer"), (2, "second answer"), (3, "second answer")]
    assert [r["body"]["contents"][0]["parts"][0]["text"] for r in emulator_requests(2)] == [
        '[emulator say="first answer"] A', '[emulator say="second answer"] B']
    single = complete(client, '[emulator say="first answer"] A', n=2).get_json()["usage"]
    assert body["usage"]["prompt_tokens"] == 2 * single["prompt_tokens"]


def test_echo_puts_the_prompt_before_the_answer(client):
    body = complete(client, '[emulator say="the answer"] Q: ', echo=True).get_json()
    assert body["choices"][0]["text"] == '[emulator say="the answer"] Q: the answer'


def test_max_tokens_gives_length(client):
    body = complete(client, "[emulator tokens=50 thoughts=0]", max_tokens=5).get_json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 5


def test_logprobs_come_back_in_the_legacy_shape(client):
    body = complete(client, "Say hello", logprobs=3).get_json()
    assert_openai("CreateCompletionResponse", body)
    choice = body["choices"][0]
    logprobs = choice["logprobs"]
    assert "".join(logprobs["tokens"]) == choice["text"]
    assert len(logprobs["tokens"]) == len(logprobs["token_logprobs"]) == len(logprobs["top_logprobs"]) > 0
    assert all(isinstance(tops, dict) and 0 < len(tops) <= 3 for tops in logprobs["top_logprobs"])
    offsets = [0]
    for token in logprobs["tokens"][:-1]:
        offsets.append(offsets[-1] + len(token))
    assert logprobs["text_offset"] == offsets


@pytest.mark.parametrize("path", PATHS)
def test_stream_is_text_completion_chunks_ending_with_done(client, path):
    plain = complete(client, "Count to five").get_json()["choices"][0]["text"]
    response = client.post(path, json={"model": MODEL, "prompt": "Count to five", "stream": True})
    assert response.status_code == 200
    chunks = stream_chunks(response)
    assert len(chunks) > 2
    for chunk in chunks:
        assert_text_chunk(chunk)
        assert chunk["object"] == "text_completion"
        assert chunk["id"] == chunks[0]["id"]
        assert "usage" not in chunk
    assert texts_by_index(chunks) == {0: plain}
    finishes = [c["choices"][0]["finish_reason"] for c in chunks]
    assert finishes[-1] == "stop"
    assert finishes.count("stop") == 1


def test_stream_of_several_prompts_is_multiplexed_by_index_with_total_usage(client):
    prompts = ['[emulator say="one one"] A', '[emulator say="two two"] B']
    plain = complete(client, prompts, n=2).get_json()
    chunks = stream_chunks(complete(client, prompts, n=2, stream=True, echo=True,
                                    stream_options={"include_usage": True}))
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == plain["usage"]
    assert_openai("CreateCompletionResponse", chunks[-1])
    assert texts_by_index(chunks[:-1]) == {i: prompts[i // 2] + c["text"] for i, c in enumerate(plain["choices"])}
    finished = [c["choices"][0]["index"] for c in chunks[:-1] if c["choices"][0]["finish_reason"]]
    assert sorted(finished) == [0, 1, 2, 3]


def test_stream_failing_to_start_is_a_real_http_error(client):
    response = client.post("/v1/completions", json={
        "model": MODEL, "prompt": "[emulator fault=429 retry=7]", "stream": True})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.get_json()["error"]["code"] == "rate_limit_exceeded"


def test_a_later_prompt_failing_mid_stream_is_an_error_event(client):
    chunks = stream_chunks(complete(client, ['[emulator say="fine"] A', "[emulator fault=500] B"], stream=True))
    assert texts_by_index(chunks[:-1]) == {0: "fine"}
    assert chunks[-1]["error"]["type"] == "server_error"


@pytest.mark.parametrize("stream", [False, True])
def test_unknown_model_is_404_model_not_found(client, stream):
    response = client.post("/v1/completions", json={"model": "no-such-model", "prompt": "x", "stream": stream})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "model_not_found"


@pytest.mark.parametrize("fields, param, fragment", [
    ({}, "prompt", "Missing required parameter"),
    ({"prompt": ""}, "prompt", "empty"),
    ({"prompt": []}, "prompt", "non-empty"),
    ({"prompt": ["ok", ""]}, "prompt", "item 1"),
    ({"prompt": [1, 2, 3]}, "prompt", "token arrays"),
    ({"prompt": [[1, 2]]}, "prompt", "token arrays"),
    ({"prompt": ["x"] * 17}, "prompt", "at most 16"),
    ({"prompt": "x", "suffix": "after"}, "suffix", "not supported"),
    ({"prompt": "x", "best_of": 3}, "best_of", "not supported"),
    ({"prompt": "x", "logit_bias": {"50256": -100}}, "logit_bias", "not supported"),
    ({"prompt": "x", "echo": True, "logprobs": 1}, "echo", "log probabilities"),
    ({"prompt": "x", "logprobs": 21}, "logprobs", "less than or equal to 20"),
    ({"prompt": "x", "logprobs": True}, "logprobs", "integer"),
    ({"prompt": "x", "n": 9}, "n", "less than or equal to 8"),
    ({"prompt": "x", "max_tokens": 0}, "max_tokens", "greater than or equal to 1"),
    ({"prompt": "x", "temperature": "1"}, "temperature", "number"),
    ({"prompt": "x", "stop": ["a"] * 6}, "stop", "at most 5"),
    ({"prompt": "x", "echo": "yes"}, "echo", "boolean"),
    ({"prompt": "x", "stream": 1}, "stream", "boolean"),
])
def test_invalid_requests_are_400_naming_the_param(client, fields, param, fragment):
    response = client.post("/v1/completions", json={"model": MODEL, **fields})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert fragment in error["message"]


@pytest.mark.parametrize("fields", [{"suffix": None}, {"suffix": ""}, {"best_of": 1}, {"best_of": 2, "n": 2},
                                    {"logit_bias": {}}, {"user": "u-1", "metadata": {"a": "b"}}])
def test_harmless_values_of_unsupported_parameters_are_accepted(client, fields):
    assert complete(client, "Hi", **fields).get_json()["object"] == "text_completion"
