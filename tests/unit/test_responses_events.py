"""Gemini stream chunks -> Responses stream events (translate/responses/events.py).

Every event is checked against its ResponseStreamEvent variant in OpenAI's spec and for fields
the spec or the SDK does not know; every stream against the cross-event rules OpenAI's stream
keeps (the conformance checker's and the SDK helper's); and its final Response against the
Response of the same answer unstreamed.
"""
import json

import httpx
import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gemini_proxy.translate.responses import carrier
from gemini_proxy.translate.responses.events import ResponseStream
from gemini_proxy.translate.responses.output import response_from_gemini
from gemini_proxy.upstream.client import response_from_wire
from tests.support import recorded_gemini
from tests.support.responses import (
    KEY,
    PATCH,
    SIGNATURE,
    WEATHER,
    answer,
    assert_events,
    assert_response,
    assert_stream,
    call,
    context,
    run_stream,
    unstreamed,
)

RECORDED = ("streaming/response.txt", "streaming/response-long.txt", "streaming_long/response.json",
            "streaming_function_calling/response_0.json", "streaming_function_calling/response_1.json")
CONTEXTS = {
    "stateful": {},
    "stateless": {"store": False, "include": ["reasoning.encrypted_content"]},
    "summaries": {"reasoning": {"effort": "low", "summary": "auto"}, "store": False},
    "custom": {"tools": [WEATHER, PATCH]},
    "first call only": {"parallel_tool_calls": False, "store": False},
}


@pytest.mark.parametrize("name", RECORDED)
@pytest.mark.parametrize("body", CONTEXTS.values(), ids=CONTEXTS.keys())
def test_recorded_stream_ends_with_the_response_of_the_same_answer_unstreamed(name, body):
    chunks = [response_from_wire(r) for r in recorded_gemini(name)]
    events, _ = run_stream(chunks, body)
    final = assert_stream(events)
    assert_response(final)
    assert final == response_from_gemini(unstreamed(chunks), context(body))[0]


@pytest.mark.parametrize("name", ["streaming/response-long.txt", "streaming_function_calling/response_0.json"])
def test_recorded_stream_events_match_openais_schemas(name):
    events, _ = run_stream([response_from_wire(r) for r in recorded_gemini(name)], CONTEXTS["stateless"])
    assert_events(events)


def test_each_upstream_chunk_is_relayed_at_once():
    chunks = [response_from_wire(r) for r in recorded_gemini("streaming_long/response.json")]
    stream = ResponseStream(context())
    events = stream.start()
    for chunk in chunks:
        events += stream.events_from(chunk)
        deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
        assert deltas[-1] == "".join(p["text"] for p in chunk["candidates"][0]["content"]["parts"])
    final = assert_stream(events + stream.close())
    assert final["usage"]["output_tokens_details"] == {"reasoning_tokens": 2042}


def test_a_text_stream_is_openais_exact_sequence():
    events, _ = run_stream([answer({"text": "Hello"}, finish=None), answer({"text": " there."})])
    assert_events(events)
    assert [event["type"] for event in events] == [
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
        "response.content_part.done", "response.output_item.done", "response.completed"]
    assert events[2]["item"] == {"id": events[2]["item"]["id"], "type": "message", "role": "assistant",
                                 "status": "in_progress", "content": []}
    assert events[3]["part"] == {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    assert events[4] == {"type": "response.output_text.delta", "item_id": events[2]["item"]["id"], "output_index": 0,
                         "content_index": 0, "delta": "Hello", "logprobs": [], "sequence_number": 4}
    final = assert_stream(events)
    assert (final["status"], final["output"][0]["content"][0]["text"]) == ("completed", "Hello there.")
    assert events[0]["response"]["status"] == "in_progress"
    assert "usage" not in events[0]["response"]  # not null: the spec's usage is not nullable


def test_reasoning_summaries_then_a_call_stream_in_order():
    chunks = [answer({"text": "**Plan**", "thought": True}, finish=None),
              answer({"text": " look it up.", "thought": True}, finish=None),
              answer(call("get_weather", {"city": "Paris"}, SIGNATURE))]
    events, stream = run_stream(chunks, CONTEXTS["summaries"], model="gemini-3-flash-preview")
    assert_events(events)
    final = assert_stream(events)
    assert [event["type"] for event in events[2:-1]] == [
        "response.output_item.added", "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta", "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done", "response.reasoning_summary_part.done", "response.output_item.done",
        "response.output_item.added", "response.function_call_arguments.delta",
        "response.function_call_arguments.done", "response.output_item.done"]
    assert all(e["summary_index"] == 0 for e in events if e["type"].startswith("response.reasoning_summary"))
    reasoning, fc = final["output"]
    assert reasoning["summary"] == [{"type": "summary_text", "text": "**Plan** look it up."}]
    # The signature arrived with the call, while the summary was still open: it is sealed there.
    assert carrier.decode(reasoning["encrypted_content"], KEY).signatures == {fc["call_id"]: SIGNATURE}
    assert events[2]["item"] == {"id": reasoning["id"], "type": "reasoning", "summary": []}
    assert stream.take_signatures() == {fc["call_id"]: SIGNATURE}
    assert stream.take_signatures() == {}


def test_a_custom_tool_call_streams_its_input_not_arguments():
    patch = answer(call("apply_patch", {"input": "*** Begin Patch\n*** End Patch"}))
    events, _ = run_stream([patch], CONTEXTS["custom"])
    assert_events(events)
    assert_stream(events)
    assert [event["type"] for event in events[2:-1]] == [
        "response.output_item.added", "response.custom_tool_call_input.delta", "response.custom_tool_call_input.done",
        "response.output_item.done"]
    assert events[2]["item"]["input"] == ""
    assert events[-2]["item"]["input"] == "*** Begin Patch\n*** End Patch"


def test_a_truncated_stream_ends_incomplete_with_the_message_incomplete():
    events, _ = run_stream([answer({"text": "Once upon"}, finish=None),
                            answer({"text": " a time"}, finish="MAX_TOKENS")])
    assert_events(events)
    final = assert_stream(events, "response.incomplete")
    assert (final["status"], final["incomplete_details"]) == ("incomplete", {"reason": "max_output_tokens"})
    assert final["output"][0]["status"] == "incomplete"


def test_a_failure_after_the_start_is_response_failed_and_nothing_after_it():
    stream = ResponseStream(context())
    events = stream.start() + stream.events_from(answer({"text": "Hi"}, call("a", {}), {"text": "more"}, finish=None))
    events += stream.failed({"message": "Gemini is overloaded.", "type": "server_error", "param": None,
                             "code": "server_is_overloaded"})
    assert_events(events)
    final = assert_stream(events, "response.failed")
    assert final["status"] == "failed"
    assert final["error"] == {"code": "server_error", "message": "Gemini is overloaded."}
    assert [item["type"] for item in final["output"]] == ["message", "function_call"]  # the open message is left out
    assert final["usage"]["input_tokens"] == 10
    assert stream.close() == []
    assert stream.events_from(answer({"text": "late"})) == []
    assert stream.response is final
    rate_limited = ResponseStream(context())
    [event] = rate_limited.failed({"message": "Please try again in 3s.", "code": "rate_limit_exceeded"})
    assert event["sequence_number"] == 0
    assert "usage" not in event["response"]
    assert event["response"]["error"]["code"] == "rate_limit_exceeded"


def test_nothing_to_show_with_an_odd_finish_reason_fails_the_stream():
    events, _ = run_stream([answer(finish="MALFORMED_FUNCTION_CALL")])
    assert_events(events)
    final = assert_stream(events, "response.failed")
    assert final["error"]["code"] == "server_error"
    assert "MALFORMED_FUNCTION_CALL" in final["error"]["message"]


def test_the_response_as_it_stands_and_the_usage_for_the_record():
    stream = ResponseStream(context())
    stream.start()
    assert stream.usage() is None
    stream.events_from(answer({"text": "Hi"}, finish=None))
    assert (stream.response["status"], stream.response["output"], "usage" in stream.response) == (
        "in_progress", [], False)
    stream.events_from(answer(call("a", {"x": 1}), usage={"prompt_token_count": 4, "candidates_token_count": 2,
                                                          "thoughts_token_count": 3}))
    assert [item["type"] for item in stream.response["output"]] == ["message", "function_call"]
    assert stream.usage() == {"prompt_tokens": 4, "completion_tokens": 5, "total_tokens": 9,
                              "prompt_tokens_details": {"cached_tokens": 0},
                              "completion_tokens_details": {"reasoning_tokens": 3}}
    stream.close()
    assert stream.response["status"] == "completed"


# A composite answer cut into chunks every possible way must end the same.
PARTS = [{"text": "Weighing options. ", "thought": True}, {"text": "Then deciding.", "thought": True},
         {"text": "Café ☕ is open; "}, {"text": "東京 too.", "thought_signature": "dGV4dA=="},
         call("get_weather", {"city": "Paris"}, SIGNATURE), call("get_weather", {"city": "Oslo"}),
         call("apply_patch", {"input": "*** Begin Patch"}), {"text": "", "thought_signature": "bGFzdA=="}]


def _cut(parts, cuts, groups):
    pieces = []
    for part, cut in zip(parts, cuts, strict=True):
        text = part.get("text")
        if text and 0 < cut < len(text):
            pieces += [{**part, "text": text[:cut], "thought_signature": None}, {**part, "text": text[cut:]}]
        else:
            pieces.append(part)
    pieces = [{k: v for k, v in piece.items() if v is not None} for piece in pieces]
    chunks, start = [], 0
    for size in groups:
        if start < len(pieces):
            chunks.append(answer(*pieces[start:start + size], finish=None))
            start += size
    chunks.append(answer(*pieces[start:], finish="STOP"))
    return chunks


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(0, 12), min_size=len(PARTS), max_size=len(PARTS)),
       groups=st.lists(st.integers(1, 3), max_size=12), body=st.sampled_from(list(CONTEXTS.values())))
def test_how_the_stream_is_cut_never_changes_the_final_response(cuts, groups, body):
    chunks = _cut(PARTS, cuts, groups)
    events, _ = run_stream(chunks, body, model="gemini-3-flash-preview")
    final = assert_stream(events)
    assert final == response_from_gemini(answer(*PARTS), context(body, "gemini-3-flash-preview"))[0]


def sse(events) -> bytes:
    """The stream as the serve layer frames it."""
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


def sdk_client(body: bytes, content_type="text/event-stream") -> openai.OpenAI:
    def handler(request):
        return httpx.Response(200, content=body, headers={"content-type": content_type})
    return openai.OpenAI(api_key="k", base_url="http://gateway.test/v1",
                         http_client=httpx.Client(transport=httpx.MockTransport(handler)))


def test_the_openai_sdk_stream_helper_gets_the_final_response():
    chunks = [answer({"text": "Thinking.", "thought": True}, finish=None), answer({"text": "It is "}, finish=None),
              answer({"text": "sunny."}, call("get_weather", {"city": "Paris"}, SIGNATURE))]
    events, _ = run_stream(chunks, CONTEXTS["summaries"])
    client = sdk_client(sse(events))
    with client.responses.stream(model="gpt-4o-mini", input="Weather?") as stream:
        seen = [event.type for event in stream]
        final = stream.get_final_response()
    assert seen == [event["type"] for event in events]
    assert final.output_text == "It is sunny."
    assert final.id == events[0]["response"]["id"]
    [fc] = [item for item in final.output if item.type == "function_call"]
    assert (fc.name, json.loads(fc.arguments)) == ("get_weather", {"city": "Paris"})


def test_the_openai_sdk_raises_on_a_failed_stream_as_on_openais():
    stream = ResponseStream(context())
    events = stream.start() + stream.events_from(answer({"text": "Hi"}, finish=None))
    events += stream.failed({"message": "Gemini went away.", "code": "upstream_unreachable"})
    with sdk_client(sse(events)).responses.stream(model="gpt-4o-mini", input="x") as sdk_stream:
        assert [event.type for event in sdk_stream][-1] == "response.failed"
        with pytest.raises(RuntimeError):
            sdk_stream.get_final_response()


def test_the_openai_sdk_reads_a_non_streamed_response():
    response, _ = response_from_gemini(answer({"text": "Hello!"}), context())
    parsed = sdk_client(json.dumps(response).encode(), "application/json").responses.create(
        model="gpt-4o-mini", input="hi")
    assert (parsed.output_text, parsed.status, parsed.usage.input_tokens) == ("Hello!", "completed", 10)


@pytest.mark.parametrize("body", CONTEXTS.values(), ids=CONTEXTS.keys())
def test_every_kind_of_event_matches_openais_schemas(body):
    events, _ = run_stream(_cut(PARTS, [5] * len(PARTS), [1, 2]), body, model="gemini-3-flash-preview")
    assert_events(events)
    kinds = {event["type"] for event in events}
    assert {"response.output_text.delta", "response.output_item.done"} <= kinds
    assert ("response.reasoning_summary_text.delta" in kinds) == ("reasoning" in body)
    assert ("response.custom_tool_call_input.done" in kinds) == ("tools" in body)
    calls = [e for e in events if e["type"] == "response.output_item.done" and e["item"]["type"].endswith("call")]
    assert len(calls) == (1 if body.get("parallel_tool_calls") is False else 3)
