"""Honest endings through the official openai SDK against gunicorn and the emulator: an answer
Gemini ended without giving one is retried into an answer, or is an error the SDK raises with
its code; Gemini's raw finish reason in x-gemini-finish-reason."""
import uuid

import openai
import pytest

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-flash"


def user(directive):
    return [{"role": "user", "content": f"Rivers {uuid.uuid4().hex[:8]} [emulator {directive}]"}]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_a_malformed_call_once_is_retried_into_an_answer(sdk, stream):
    messages = user("finish=MALFORMED_FUNCTION_CALL after=0 times=1")
    if stream:
        with sdk.chat.completions.stream(model=MODEL, messages=messages) as events:
            completion = events.get_final_completion()
    else:
        raw = sdk.chat.completions.with_raw_response.create(model=MODEL, messages=messages)
        assert raw.headers["x-gemini-finish-reason"] == "STOP"
        completion = raw.parse()
    assert completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_an_empty_answer_twice_is_an_error_the_sdk_raises(sdk, stream):
    with pytest.raises(openai.InternalServerError) as raised:
        sdk.chat.completions.create(model=MODEL, messages=user("finish=STOP after=0"), stream=stream)
    assert raised.value.status_code == 502
    assert raised.value.code == "upstream_empty_answer"
    assert raised.value.response.headers["x-gemini-finish-reason"] == "STOP"


def test_thinking_that_used_the_whole_budget_is_length(sdk):
    completion = sdk.chat.completions.create(model=MODEL, messages=user("thoughts=64"), max_tokens=16,
                                             reasoning_effort="low")
    assert completion.choices[0].finish_reason == "length"
    assert not completion.choices[0].message.content
