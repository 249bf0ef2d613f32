"""Pure tests of the Gemini emulator's parts: tokens, text, answers, directives, wire helpers,
validation and embeddings. No sockets, no WSGI."""
from __future__ import annotations

import math

import pytest

from gemini_emulator import count_tokens
from gemini_emulator.catalog import MODELS, decode_page_token, find_model, list_page
from gemini_emulator.directives import Directives, extract, parse_text
from gemini_emulator.embeddings import batch_embed, cosine, embed_text
from gemini_emulator.errors import EmulatorError
from gemini_emulator.generation import INLINE_PART_TOKENS, plan_answer, prompt_usage
from gemini_emulator.responses import full_response, stream_events
from gemini_emulator.state import Stats
from gemini_emulator.streaming import DroppedConnection, Pace, StreamFault, paced_stream
from gemini_emulator.text import compose
from gemini_emulator.tokens import chunk_text, truncate_tokens
from gemini_emulator.validation import parse_generate
from gemini_emulator.wire import decode_base64, normalize_keys, sse_event

FLASH = find_model("gemini-2.5-flash")
NO_THINKING = find_model("gemini-2.0-flash")
CHUNK = 4


def user(text: str) -> dict:
    return {"role": "user", "parts": [{"text": text}]}


def answer(text: str = "Tell me a story", model=FLASH, **config):
    """Plan the answer to a one-turn request, as the app does."""
    request = parse_generate({"contents": [user(text)], "generationConfig": config})
    directives, contents = extract(request.contents)
    return plan_answer(model, request, directives, contents, "r" * 22, CHUNK)


# --- tokens --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "tokens"), [
    ("", 0),
    ("   ", 0),
    ("Hello, world!", 4),
    ("don't stop", 4),
    ("one  two\nthree", 3),
    ("x=1.5", 5),
])
def test_count_tokens(text, tokens):
    assert count_tokens(text) == tokens


@pytest.mark.parametrize("size", [1, 3, 4, 7])
def test_chunks_rejoin_to_the_text_and_carry_size_tokens_each(size):
    text = "  Okay, the model sends a message. Then it waits!  "
    pieces = chunk_text(text, size)
    assert "".join(pieces) == text
    assert [count_tokens(p) for p in pieces[:-1]] == [size] * (len(pieces) - 1)
    assert 1 <= count_tokens(pieces[-1]) <= size
    assert sum(count_tokens(p) for p in pieces) == count_tokens(text)


def test_truncate_tokens_keeps_a_prefix_of_exactly_n_tokens():
    text = "One two, three four."
    assert truncate_tokens(text, 3) == "One two,"
    assert truncate_tokens(text, 0) == ""
    assert truncate_tokens(text, 99) == text


# --- text ----------------------------------------------------------------------------------


@pytest.mark.parametrize("tokens", [1, 2, 3, 5, 8, 15, 16, 17, 33, 60, 257])
def test_compose_makes_exactly_n_tokens_of_sentences(tokens):
    text = compose(1234, tokens)
    assert count_tokens(text) == tokens
    assert text[0].isupper()
    if tokens > 1:
        assert text.endswith(".")


def test_compose_is_deterministic_per_seed():
    assert compose(7, 40) == compose(7, 40)
    assert compose(7, 40) != compose(8, 40)


# --- answers -------------------------------------------------------------------------------


def test_same_request_same_answer_and_other_prompt_other_answer():
    assert answer("Tell me a story").candidates == answer("Tell me a story").candidates
    assert answer("Tell me a story").candidates[0].text != answer("Tell me a joke").candidates[0].text


def test_default_length_is_20_to_60_tokens():
    lengths = {count_tokens(answer(f"prompt {i}").candidates[0].text) for i in range(30)}
    assert min(lengths) >= 20
    assert max(lengths) <= 60
    assert len(lengths) > 5


def test_sampling_parameters_change_the_answer_but_limits_do_not():
    base = answer().candidates[0].text
    assert answer(temperature=0.1).candidates[0].text != base
    assert answer(stopSequences=["zzz"], candidateCount=2).candidates[0].text == base


def test_max_output_tokens_minus_thoughts_cuts_a_prefix_and_reports_max_tokens():
    full = answer("[emulator tokens=30 thoughts=3]").candidates[0]
    cut = answer("[emulator tokens=30 thoughts=3]", maxOutputTokens=10).candidates[0]
    assert (full.finish_reason, cut.finish_reason) == ("STOP", "MAX_TOKENS")
    assert count_tokens(cut.text) == 7  # 10 - 3 thinking tokens
    assert full.text.startswith(cut.text)
    without_thinking = answer("[emulator tokens=30]", model=NO_THINKING, maxOutputTokens=10)
    assert count_tokens(without_thinking.candidates[0].text) == 10


def test_stop_sequence_cuts_before_the_first_match_with_stop():
    plan = answer('[emulator say="one two three four three"]', stopSequences=["four", "three"])
    assert plan.candidates[0].text == "one two "
    assert plan.candidates[0].finish_reason == "STOP"


def test_stop_sequence_before_the_token_limit_wins_over_max_tokens():
    plan = answer('[emulator say="a b c d e f" thoughts=0]', stopSequences=["c"], maxOutputTokens=4)
    assert (plan.candidates[0].text, plan.candidates[0].finish_reason) == ("a b ", "STOP")


def test_candidate_count_gives_distinct_indexed_candidates():
    plan = answer(candidateCount=3)
    assert [c.index for c in plan.candidates] == [0, 1, 2]
    assert len({c.text for c in plan.candidates}) == 3
    body = full_response(plan)
    assert [c["index"] for c in body["candidates"]] == [0, 1, 2]


def test_finish_directive_stops_after_k_chunks_with_that_reason():
    plan = answer("[emulator finish=SAFETY after=2 tokens=40]")
    assert plan.candidates[0].finish_reason == "SAFETY"
    assert count_tokens(plan.candidates[0].text) == 2 * CHUNK
    candidate = full_response(plan)["candidates"][0]
    assert any(r.get("blocked") for r in candidate["safetyRatings"])


def test_usage_adds_up_with_thoughts_for_thinking_models():
    plan = answer("Say hello [emulator tokens=9]", candidateCount=2)
    usage = full_response(plan)["usageMetadata"]
    assert usage["promptTokenCount"] == count_tokens("Say hello")
    assert usage["candidatesTokenCount"] == 18
    assert 8 <= usage["thoughtsTokenCount"] <= 40
    assert usage["totalTokenCount"] == (
        usage["promptTokenCount"] + usage["candidatesTokenCount"] + usage["thoughtsTokenCount"]
    )
    assert usage["promptTokensDetails"] == [{"modality": "TEXT", "tokenCount": 2}]


@pytest.mark.parametrize(("model", "config", "thoughts"), [
    (NO_THINKING, {}, None),
    (FLASH, {"thinkingConfig": {"thinking_budget": 0}}, None),
    (FLASH, {"thinkingConfig": {"thinking_budget": 3}}, 3),
])
def test_thinking_budget_controls_thoughts(model, config, thoughts):
    plan = answer(model=model, **normalize_keys(config))
    usage = full_response(plan)["usageMetadata"]
    assert usage.get("thoughtsTokenCount") == thoughts
    assert usage["totalTokenCount"] == (
        usage["promptTokenCount"] + usage["candidatesTokenCount"] + (thoughts or 0)
    )


def test_prompt_usage_counts_system_text_and_inline_data():
    contents = [{"role": "user", "parts": [
        {"text": "What is this?"},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
    ]}]
    total, details = prompt_usage(contents, {"parts": [{"text": "Be terse."}]})
    assert total == count_tokens("What is this?") + count_tokens("Be terse.") + INLINE_PART_TOKENS
    assert details == (("TEXT", 7), ("IMAGE", INLINE_PART_TOKENS))


def test_block_directive_gives_prompt_feedback_and_no_candidates():
    body = full_response(answer("[emulator fault=block]"))
    assert "candidates" not in body
    assert body["promptFeedback"]["blockReason"] == "SAFETY"
    assert body["usageMetadata"]["totalTokenCount"] == body["usageMetadata"]["promptTokenCount"]


def test_stream_events_rejoin_with_running_usage_and_finish_only_last():
    plan = answer("[emulator tokens=14]", candidateCount=2)
    events = list(stream_events(plan, CHUNK))
    by_index: dict[int, list[dict]] = {0: [], 1: []}
    for event in events:
        (candidate,) = event.body["candidates"]
        by_index[candidate["index"]].append(candidate)
    assert [e.body["candidates"][0]["index"] for e in events[:4]] == [0, 1, 0, 1]
    for index, candidates in by_index.items():
        text = "".join(c["content"]["parts"][0]["text"] for c in candidates)
        assert text == plan.candidates[index].text
        assert ["finishReason" in c for c in candidates] == [False] * 3 + [True]
    running = [e.body["usageMetadata"]["candidatesTokenCount"] for e in events]
    assert running == sorted(running)
    assert running[-1] == 28
    assert events[-1].body["usageMetadata"] == full_response(plan)["usageMetadata"]
    assert sum(e.tokens for e in events) == 28


def test_an_empty_answer_streams_one_final_event_without_parts():
    plan = answer('[emulator say=""]')
    (event,) = stream_events(plan, CHUNK)
    assert event.body["candidates"][0] == {"content": {"role": "model"}, "finishReason": "STOP",
                                           "index": 0}


def test_closing_a_stream_stops_generation_and_counts_an_abort():
    stats = Stats()
    events = stream_events(answer("[emulator tokens=40]"), CHUNK)
    stream = paced_stream(events, Pace(), None, stats)
    assert next(stream).startswith(b"data: ")
    stream.close()  # what the server does when a write to the client fails
    assert stats.snapshot() | {"requests": 0} == {
        "requests": 0, "streams_started": 1, "streams_completed": 0, "streams_aborted": 1,
        "streams_faulted": 0, "tokens_generated": CHUNK, "signatures_issued": 0,
        "signatures_verified": 0, "signatures_dummy": 0, "requests_by_key": {}}


def test_stream_faults_interrupt_after_k_events():
    stats = Stats()
    plan = answer("[emulator tokens=40]")
    error = EmulatorError(503, "overloaded")
    chunks = list(paced_stream(stream_events(plan, CHUNK), Pace(), StreamFault(2, error), stats))
    assert len(chunks) == 3
    assert chunks[-1].startswith(b'data: {"error":{"code":503')
    dropping = paced_stream(stream_events(plan, CHUNK), Pace(), StreamFault(1, None), stats)
    assert next(dropping)
    with pytest.raises(DroppedConnection):
        next(dropping)
    assert stats.snapshot()["streams_faulted"] == 2
    assert stats.snapshot()["streams_aborted"] == 0


# --- directives ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "values", "stripped"), [
    ("plain prompt", {}, "plain prompt"),
    ("Hi [emulator tokens=5]", {"tokens": 5}, "Hi"),
    ("[emulator fault=429 retry=3] go", {"fault": "429", "retry": 3}, "go"),
    ('[emulator say="a ] b \\"c\\""]', {"say": 'a ] b "c"'}, ""),
    ("[emulator ttft=0.5 tps=20] x [emulator tokens=2]", {"ttft": 0.5, "tps": 20.0, "tokens": 2},
     "x"),
    ("[emulator finish=SAFETY after=1]", {"finish": "SAFETY", "after": 1}, ""),
    ("[emulator stamp=1] x", {"stamp": True}, "x"),
    ("[emulator fault=hang after=2 times=1] x", {"fault": "hang", "after": 2, "times": 1}, "x"),
    ("[emulator fault=echokey code=403]", {"fault": "echokey", "code": 403}, ""),
])
def test_parse_directives(text, values, stripped):
    assert parse_text(text) == (values, stripped)


@pytest.mark.parametrize("text", [
    "[emulator colour=red]",
    "[emulator fault=418]",
    "[emulator tokens=-1]",
    "[emulator finish=CONTINUATION]",
    "[emulator tokens=5",
    "[emulator tokens]",
    "[emulator stamp=yes]",
    "[emulator fault=empty times=0]",
    "[emulator fault=hung]",
])
def test_bad_directives_are_400(text):
    with pytest.raises(EmulatorError) as caught:
        parse_text(text)
    assert caught.value.code == 400
    assert caught.value.status == "INVALID_ARGUMENT"


def test_directives_come_from_the_last_user_turn_only_and_are_stripped():
    contents = [
        user("[emulator tokens=1] old turn"),
        {"role": "model", "parts": [{"text": "[emulator tokens=2]"}]},
        user("new turn [emulator tokens=3]"),
        {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]},
    ]
    directives, stripped = extract(contents)
    assert directives == Directives(tokens=3)
    assert stripped[2]["parts"][0]["text"] == "new turn"
    assert stripped[0] == contents[0]
    assert contents[2]["parts"][0]["text"].endswith("]")


# --- wire ----------------------------------------------------------------------------------


def test_normalize_keys_camel_cases_protocol_keys_but_not_user_maps():
    body = {
        "generation_config": {"thinkingConfig": {"include_thoughts": True, "thinking_budget": 9},
                              "response_json_schema": {"properties": {"snake_key": {}}}},
        "contents": [{"parts": [
            {"function_call": {"name": "f", "args": {"city_name": "Oslo", "n_days": {"a_b": 1}}}},
            {"function_response": {"name": "f", "response": {"temp_c": 3}}},
            {"inline_data": {"mime_type": "image/png", "data": "AA=="}},
        ]}],
        "tools": [{"function_declarations": [
            {"name": "g", "parameters_json_schema": {"properties": {"max_items": {}}}},
            {"name": "h", "parameters": {"type": "OBJECT", "property_ordering": ["user_id"],
                                         "properties": {"user_id": {"type": "STRING",
                                                                    "max_length": 4}}}},
        ]}],
    }
    out = normalize_keys(body)
    assert out["generationConfig"]["thinkingConfig"] == {"includeThoughts": True, "thinkingBudget": 9}
    assert out["generationConfig"]["responseJsonSchema"] == {"properties": {"snake_key": {}}}
    parts = out["contents"][0]["parts"]
    assert parts[0]["functionCall"]["args"] == {"city_name": "Oslo", "n_days": {"a_b": 1}}
    assert parts[1]["functionResponse"]["response"] == {"temp_c": 3}
    assert parts[2]["inlineData"] == {"mimeType": "image/png", "data": "AA=="}
    declarations = out["tools"][0]["functionDeclarations"]
    assert declarations[0]["parametersJsonSchema"] == {"properties": {"max_items": {}}}
    assert declarations[1]["parameters"] == {
        "type": "OBJECT", "propertyOrdering": ["user_id"],
        "properties": {"user_id": {"type": "STRING", "maxLength": 4}},
    }


@pytest.mark.parametrize("encoded", [
    "__79IGltZw==", "__79IGltZw", "//79IGltZw==", "//79IGltZw", " //79\nIGltZw== ",
])
def test_decode_base64_accepts_both_alphabets_and_missing_padding(encoded):
    assert decode_base64(encoded) == b"\xff\xfe\xfd img"


@pytest.mark.parametrize("encoded", ["not base64!", "abcde", 12])
def test_decode_base64_rejects_garbage(encoded):
    with pytest.raises(ValueError, match="base64"):
        decode_base64(encoded)


def test_sse_event_is_one_data_line_and_a_blank_line():
    event = sse_event({"text": "line one\nline two \u2028 end", "n": 1})
    assert event.startswith(b"data: {")
    assert event.endswith(b"}\r\n\r\n")
    assert event.count(b"\n") == 2
    assert event.count(b"\r") == 2


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    {},
    {"contents": []},
    {"contents": "hi"},
    {"contents": [{"role": "robot", "parts": [{"text": "x"}]}]},
    {"contents": [{"role": "user", "parts": []}]},
    {"contents": [{"role": "user", "parts": [{"unknown": 1}]}]},
    {"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": "@@@"}}]}]},
    {"contents": [user("x")], "generationConfig": {"temperature": 2.5}},
    {"contents": [user("x")], "generationConfig": {"temperature": True}},
    {"contents": [user("x")], "generationConfig": {"topP": 1.5}},
    {"contents": [user("x")], "generationConfig": {"candidateCount": 9}},
    {"contents": [user("x")], "generationConfig": {"maxOutputTokens": -1}},
    {"contents": [user("x")], "generationConfig": {"stopSequences": list("abcdef")}},
])
def test_invalid_generate_requests_are_400(body):
    with pytest.raises(EmulatorError) as caught:
        parse_generate(body)
    assert (caught.value.code, caught.value.status) == (400, "INVALID_ARGUMENT")


def test_lenient_roles_and_history_parts_are_accepted():
    request = parse_generate({"contents": [
        {"parts": [{"text": "no role"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}},
                                     "thoughtSignature": "CikB-_w"}]},
        {"role": "tool", "parts": [{"functionResponse": {"name": "f", "response": {"x": 1}}}]},
        {"role": "function", "parts": [{"text": "ok"}]},
    ], "generationConfig": {"temperature": 2, "topK": 40.0, "maxOutputTokens": 0}})
    assert len(request.contents) == 4
    assert request.max_output_tokens is None


# --- catalog -------------------------------------------------------------------------------


def test_model_pages_cover_the_catalog_in_order_and_the_last_has_no_token():
    names, token, pages = [], None, 0
    while True:
        page = list_page(3, token)
        pages += 1
        names += [m["name"] for m in page["models"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert names == [f"models/{m.id}" for m in MODELS]
    assert pages == math.ceil(len(MODELS) / 3)
    with pytest.raises(ValueError, match="bad page token"):
        decode_page_token("bogus")


# --- embeddings ----------------------------------------------------------------------------


def test_related_texts_are_closer_than_unrelated_ones():
    cat = embed_text("the cat sat on the mat", 3072)
    assert cosine(cat, embed_text("a cat on a mat", 3072)) > cosine(
        cat, embed_text("quarterly tax filing deadline", 3072)) + 0.2


@pytest.mark.parametrize(("dimensions", "output"), [(3072, None), (768, None), (3072, 8), (768, 1)])
def test_embeddings_are_unit_length_with_the_asked_dimensions(dimensions, output):
    vector = embed_text("hello world", dimensions, output)
    assert len(vector) == (output or dimensions)
    assert math.isclose(math.sqrt(sum(v * v for v in vector)), 1.0, abs_tol=1e-6)
    assert vector == embed_text("hello world", dimensions, output)


def test_truncated_embeddings_keep_similarity():
    cat = embed_text("the cat sat on the mat", 3072, 64)
    assert cosine(cat, embed_text("a cat on a mat", 3072, 64)) > cosine(
        cat, embed_text("quarterly tax filing deadline", 3072, 64))


def test_batch_embed_keeps_order_and_enforces_limits():
    model = find_model("text-embedding-004")
    requests = [{"content": user(text), "outputDimensionality": 16} for text in ("a", "b c")]
    body = batch_embed({"requests": requests}, model, max_batch=2)
    assert [len(e["values"]) for e in body["embeddings"]] == [16, 16]
    assert body["embeddings"][0]["values"] == embed_text("a", 768, 16)
    for bad, limit in [
        ({"requests": requests * 2}, 2),
        ({"requests": [{"content": user("  ")}]}, 2),
        ({"requests": [{"content": user("x"), "outputDimensionality": 769}]}, 2),
    ]:
        with pytest.raises(EmulatorError) as caught:
            batch_embed(bad, model, max_batch=limit)
        assert caught.value.code == 400
    with pytest.raises(EmulatorError, match="at most 2 requests can be in one batch"):
        batch_embed({"requests": requests * 2}, model, max_batch=2)


def test_multi_turn_answers_quote_the_first_user_sentence():
    from gemini_emulator.generation import recalled
    history = [{"role": "user", "parts": [{"text": "My colour is blue. Remember it."}]},
               {"role": "model", "parts": [{"text": "Noted."}]},
               {"role": "user", "parts": [{"text": "Which colour?"}]}]
    assert recalled(history) == "You said: My colour is blue."
    assert recalled(history[:1]) is None
    assert recalled([{"role": "user", "parts": [{"text": "one part."}, {"text": "two parts."}]}]) is None
