"""Gemini stream chunks -> OpenAI chat.completion.chunk objects."""
import json

import pytest

from gemini_proxy.translate.chat import AnswerContext
from gemini_proxy.translate.stream import ChatStream
from gemini_proxy.upstream.client import response_from_wire
from tests.support import DATA, assert_openai, recorded_gemini

HEAD = {"completion_id": "chatcmpl-test", "created": 1700000000, "model": "gemini-2.5-flash"}


def translate(responses, n=1, include_usage=False, **answer):
    stream = ChatStream(AnswerContext(**HEAD, n=n, **answer), include_usage=include_usage)
    per_upstream_chunk = [stream.chunks_from(r) for r in responses]
    return per_upstream_chunk, stream.close()


def flat(per_upstream_chunk, tail):
    return [chunk for chunks in per_upstream_chunk for chunk in chunks] + tail


def check_openai_contract(chunks, include_usage):
    for chunk in chunks:
        assert_openai("CreateChatCompletionStreamResponse", chunk)
        assert (chunk["id"], chunk["created"], chunk["model"]) == ("chatcmpl-test", 1700000000, "gemini-2.5-flash")
    choice_chunks = [c for c in chunks if c["choices"]]
    indices = {c["choices"][0]["index"] for c in choice_chunks}
    for index in indices:
        mine = [c["choices"][0] for c in choice_chunks if c["choices"][0]["index"] == index]
        assert mine[0]["delta"] == {"role": "assistant", "content": ""}
        assert [c["finish_reason"] is not None for c in mine].count(True) == 1
        assert mine[-1]["finish_reason"] is not None
    if include_usage:
        assert all(c["usage"] is None for c in chunks[:-1])
        assert chunks[-1]["choices"] == []
        assert chunks[-1]["usage"]["total_tokens"] > 0
    else:
        assert all("usage" not in c for c in chunks)


@pytest.mark.parametrize("include_usage", [False, True])
def test_recorded_long_stream_relays_every_upstream_chunk_at_once(include_usage):
    responses = [response_from_wire(r) for r in recorded_gemini("streaming_long/response.json")]
    per_chunk, tail = translate(responses, include_usage=include_usage)
    # Each upstream chunk yields its text immediately: nothing is held back for later.
    for response, chunks in zip(responses, per_chunk, strict=True):
        upstream_text = "".join(p["text"] for p in response["candidates"][0]["content"]["parts"])
        assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == upstream_text
    chunks = flat(per_chunk, tail)
    check_openai_contract(chunks, include_usage)
    if include_usage:
        assert chunks[-1]["usage"]["completion_tokens"] == 5947 + 2042
        assert chunks[-1]["usage"]["completion_tokens_details"] == {"reasoning_tokens": 2042}


def test_recorded_short_stream_matches_golden():
    responses = [response_from_wire(r) for r in recorded_gemini("streaming/response.txt")]
    chunks = flat(*translate(responses, include_usage=True))
    assert chunks == json.loads((DATA / "golden" / "chat_stream_short.json").read_text())
    check_openai_contract(chunks, include_usage=True)


def test_stream_chunks_have_the_fields_of_the_recorded_openai_stream():
    lines = (DATA / "recordings/openai/streaming/response.txt").read_text().splitlines()
    recorded = [json.loads(line[6:]) for line in lines if line.startswith("data: {")]
    responses = [response_from_wire(r) for r in recorded_gemini("streaming/response.txt")]
    ours = flat(*translate(responses))
    assert ours[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    for theirs, mine in ((recorded[0], ours[0]), (recorded[-1], ours[-1])):
        assert {"id", "object", "created", "model", "choices"} <= set(mine)
        assert set(theirs["choices"][0]) == set(mine["choices"][0])
        assert theirs["choices"][0]["finish_reason"] == mine["choices"][0]["finish_reason"]


def test_blocked_prompt_in_a_stream_gives_a_content_filter_choice():
    blocked = {"prompt_feedback": {"block_reason": "SAFETY"}, "usage_metadata": {"prompt_token_count": 5}}
    chunks = flat(*translate([blocked], n=2, include_usage=True))
    check_openai_contract(chunks, include_usage=True)
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]] == [
        "content_filter", "content_filter"]


def test_upstream_that_ends_without_finish_reason_still_finishes_once():
    chunks = flat(*translate([{"candidates": [{"content": {"parts": [{"text": "partial"}]}, "index": 0}]}]))
    check_openai_contract(chunks, include_usage=False)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_safety_stop_keeps_the_text_produced():
    chunks = flat(*translate([
        {"candidates": [{"content": {"parts": [{"text": "Some "}]}, "index": 0}]},
        {"candidates": [{"content": {"parts": [{"text": "text"}]}, "finish_reason": "SAFETY", "index": 0}]},
    ]))
    check_openai_contract(chunks, include_usage=False)
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "Some text"
    assert chunks[-1]["choices"][0]["finish_reason"] == "content_filter"


def test_several_candidates_are_multiplexed_by_index():
    chunks = flat(*translate([
        {"candidates": [{"content": {"parts": [{"text": "a0"}]}, "index": 0}]},
        {"candidates": [{"content": {"parts": [{"text": "b0"}]}, "index": 1}]},
        {"candidates": [{"content": {"parts": [{"text": "a1"}]}, "finish_reason": "STOP", "index": 0}]},
        {"candidates": [{"content": {"parts": [{"text": "b1"}]}, "finish_reason": "MAX_TOKENS", "index": 1}]},
    ], n=2))
    check_openai_contract(chunks, include_usage=False)
    texts = {0: "", 1: ""}
    for c in chunks:
        texts[c["choices"][0]["index"]] += c["choices"][0]["delta"].get("content", "")
    assert texts == {0: "a0a1", 1: "b0b1"}


def test_chunks_after_a_choice_finished_are_ignored():
    chunks = flat(*translate([
        {"candidates": [{"content": {"parts": [{"text": "done"}]}, "finish_reason": "STOP", "index": 0}]},
        {"candidates": [{"content": {"parts": [{"text": "late"}]}, "index": 0}]},
    ]))
    assert "late" not in json.dumps(chunks)
    check_openai_contract(chunks, include_usage=False)
