"""What a Gemini answer must be before translation reads it (gemini_proxy.upstream.answers):
recorded real answers pass; anything else is a 502 that says what was wrong, never a 500."""
import pytest

from gemini_proxy.errors import ApiError
from gemini_proxy.upstream.answers import Progress, check_answer, check_shape
from gemini_proxy.upstream.client import response_from_wire
from tests.support import recorded_gemini


@pytest.mark.parametrize("recording", ["text/response.json", "function_calling/response.json", "vision/response.json",
                                       "audio/response.json", "streaming/response.txt", "streaming_long/response.json"])
def test_recorded_answers_pass(recording):
    answers = [response_from_wire(answer) for answer in recorded_gemini(recording)]
    progress = Progress()
    for answer in answers:
        progress.add(check_shape(answer))
    progress.check_finished()


def caught(call, *args) -> ApiError:
    with pytest.raises(ApiError) as error:
        call(*args)
    assert error.value.status == 502
    assert error.value.type == "upstream_error"
    return error.value


@pytest.mark.parametrize("answer, where", [
    ([{"candidates": []}], "the answer"),
    ("text", "the answer"),
    (42, "the answer"),
    ({"candidates": {"0": {}}}, "candidates"),
    ({"candidates": ["x"]}, "candidates[0]"),
    ({"candidates": [{"content": "not a Content object", "finish_reason": "STOP"}]}, "candidates[0].content"),
    ({"candidates": [{"content": {"parts": {"text": "x"}}}]}, "candidates[0].content.parts"),
    ({"candidates": [{"content": {"parts": [{"text": 5}]}}]}, "candidates[0].content.parts[0].text"),
    ({"candidates": [{"content": {"parts": [{"function_call": {"name": "f", "args": "{}"}}]}}]},
     "candidates[0].content.parts[0].function_call.args"),
    ({"candidates": [{"index": "0"}]}, "candidates[0].index"),
    ({"candidates": [{"finish_reason": 1}]}, "candidates[0].finish_reason"),
    ({"usage_metadata": {"prompt_token_count": "12"}}, "usage_metadata.prompt_token_count"),
    ({"prompt_feedback": "blocked"}, "prompt_feedback"),
])
def test_a_wrong_shape_is_a_bad_upstream_response_naming_the_field(answer, where):
    error = caught(check_shape, answer)
    assert error.code == "bad_upstream_response"
    assert f"({where} is not what Gemini sends)" in error.message


def test_missing_and_null_containers_are_fine():
    assert check_shape({"candidates": [{"content": None, "finish_reason": "STOP"}], "usage_metadata": None})


@pytest.mark.parametrize("answer, code", [
    ({}, "empty_upstream_response"),
    ({"usage_metadata": {"prompt_token_count": 3}}, "empty_upstream_response"),
    ({"candidates": [{"content": {"parts": [{"text": "half an ans"}]}}]}, "incomplete_upstream_response"),
    ({"candidates": [{"index": 0, "finish_reason": "STOP"}, {"index": 1}]}, "incomplete_upstream_response"),
])
def test_an_empty_or_unfinished_answer_is_an_error(answer, code):
    assert caught(check_answer, answer).code == code


def test_a_blocked_prompt_and_candidates_finished_in_later_chunks_are_complete():
    check_answer({"prompt_feedback": {"block_reason": "SAFETY"}})
    progress = Progress()
    for chunk in ({"candidates": [{"content": {"parts": [{"text": "a"}]}}]},  # index 0 left out, as proto3 does
                  {"candidates": [{"index": 1, "content": {"parts": [{"text": "b"}]}}]},
                  {"candidates": [{"finish_reason": "STOP"}]},
                  {"candidates": [{"index": 1, "finish_reason": "MAX_TOKENS"}]}):
        progress.add(chunk)
    progress.check_finished()
