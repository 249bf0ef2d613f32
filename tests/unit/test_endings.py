"""Answers Gemini ended without giving one (translate/endings.py)."""
import pytest

from gemini_proxy.translate.endings import EndingWatch, broken_answer, ending_error, finish_reasons


def candidate(*parts, finish="STOP", index=0):
    body = {"content": {"role": "model", "parts": list(parts)} if parts else {"role": "model"}, "index": index}
    if finish:
        body["finish_reason"] = finish
    return body


def answer(*candidates):
    return {"candidates": list(candidates)}


THOUGHT = {"text": "Planning", "thought": True}
CALL = {"function_call": {"name": "f", "args": {}}, "thought_signature": "c2ln"}


@pytest.mark.parametrize(("response", "broken"), [
    (answer(candidate({"text": "Hi"})), None),
    (answer(candidate(CALL)), None),
    (answer(candidate(THOUGHT, CALL)), None),
    (answer(candidate({"text": "Cut"}, finish="MAX_TOKENS")), None),
    (answer(candidate(finish="MAX_TOKENS")), None),  # thinking used the whole budget: "length"
    (answer(candidate(THOUGHT, finish="MAX_TOKENS")), None),
    (answer(candidate(finish="SAFETY")), None),
    (answer(candidate(finish="MALFORMED_FUNCTION_CALL")), "MALFORMED_FUNCTION_CALL"),
    (answer(candidate({"text": "Let me"}, finish="MALFORMED_FUNCTION_CALL")), "MALFORMED_FUNCTION_CALL"),
    (answer(candidate(finish="UNEXPECTED_TOOL_CALL")), "UNEXPECTED_TOOL_CALL"),
    (answer(candidate()), "EMPTY_STOP"),
    (answer(candidate({"text": ""})), "EMPTY_STOP"),
    (answer(candidate(THOUGHT)), "EMPTY_STOP"),
    (answer(candidate(finish="FINISH_REASON_UNSPECIFIED")), "EMPTY_STOP"),
    (answer(candidate({"text": "Hi"}), candidate(index=1)), "EMPTY_STOP"),
    ({"prompt_feedback": {"block_reason": "SAFETY"}}, None),
])
def test_what_is_no_answer(response, broken):
    assert broken_answer(response) == broken


def test_finish_reasons_by_candidate():
    two = answer(candidate(index=1, finish="MAX_TOKENS"), candidate({"text": "a"}))
    assert finish_reasons(two) == "STOP,MAX_TOKENS"
    assert finish_reasons({"prompt_feedback": {"block_reason": "SAFETY"}}) == "PROMPT_BLOCKED_SAFETY"
    assert finish_reasons({}) is None


def test_errors_name_what_gemini_did():
    error = ending_error("MALFORMED_FUNCTION_CALL", 2)
    assert (error.status, error.type, error.code, error.upstream) == (
        502, "upstream_error", "upstream_malformed_function_call", "MALFORMED_FUNCTION_CALL")
    assert "asked 2 times" in error.message
    assert ending_error("EMPTY_STOP", 1).code == "upstream_empty_answer"


def test_a_stream_starts_at_its_first_output_and_ends_by_candidate():
    watch = EndingWatch()
    assert watch.add(answer(candidate({"text": ""}, finish=None))) is None
    assert not watch.started
    assert watch.add(answer(candidate(THOUGHT, finish=None))) is None
    assert watch.started  # a thought summary is output the client sees
    # ...but no answer: STOP after thoughts alone.
    assert watch.add(answer(candidate())) == "EMPTY_STOP"
    assert watch.reasons() == "STOP"
    streamed = EndingWatch()
    assert streamed.add(answer(candidate({"text": "Hi"}, finish=None))) is None
    assert streamed.add(answer(candidate({"text": ""}))) is None  # Gemini 3's closing empty part
    assert streamed.add(answer(candidate(finish="MALFORMED_FUNCTION_CALL", index=1))) == "MALFORMED_FUNCTION_CALL"
    assert streamed.reasons() == "STOP,MALFORMED_FUNCTION_CALL"
