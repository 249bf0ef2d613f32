"""OpenAI chat request -> Gemini request, and Gemini answers -> chat.completion."""
import json

import pytest

from gemini_proxy.config import Settings
from gemini_proxy.errors import ApiError
from gemini_proxy.relay import chat_model
from gemini_proxy.translate.chat import (
    FINISH_REASONS,
    AnswerContext,
    RequestDefaults,
    completion_from_response,
    finish_reason_from,
    gemini_request,
    generation_config,
    usage_from,
)
from gemini_proxy.translate.messages import contents_from_messages
from gemini_proxy.upstream.client import response_from_wire
from tests.support import DATA, assert_openai, recorded_gemini

ANSWER = AnswerContext(completion_id="chatcmpl-test", created=1700000000, model="gpt-4o-mini")
ANSWER_2 = ANSWER._replace(n=2)


def text(role, content):
    parts = [{"type": "text", "text": c} for c in ([content] if isinstance(content, str) else content)]
    return {"role": role, "content": parts}


def test_the_whole_conversation_is_sent_with_roles_mapped():
    system, contents = contents_from_messages([
        text("system", "Be terse."),
        text("user", "My colour is blue."),
        text("assistant", "Noted."),
        text("developer", "Answer in one word."),
        text("user", ["What is", "my colour?"]),
    ])
    assert system == {"parts": [{"text": "Be terse."}, {"text": "Answer in one word."}]}
    assert contents == [
        {"role": "user", "parts": [{"text": "My colour is blue."}]},
        {"role": "model", "parts": [{"text": "Noted."}]},
        {"role": "user", "parts": [{"text": "What is"}, {"text": "my colour?"}]},
    ]


def test_consecutive_turns_of_one_role_are_merged_and_empty_text_dropped():
    _, contents = contents_from_messages([text("user", "a"), text("user", ""), text("user", "b"),
                                          text("assistant", "c")])
    assert contents == [{"role": "user", "parts": [{"text": "a"}, {"text": "b"}]},
                        {"role": "model", "parts": [{"text": "c"}]}]


def test_a_conversation_without_user_or_assistant_content_is_refused():
    with pytest.raises(ApiError) as caught:
        contents_from_messages([text("system", "only rules"), text("user", "")])
    assert caught.value.param == "messages"
    assert caught.value.status == 400


@pytest.mark.parametrize("request_fields, expected", [
    ({}, {}),
    ({"temperature": 0}, {"temperature": 0}),
    ({"temperature": 0.7, "top_p": 0.9, "top_k": 40}, {"temperature": 0.7, "top_p": 0.9, "top_k": 40}),
    ({"max_tokens": 10}, {"max_output_tokens": 10}),
    ({"max_tokens": 10, "max_completion_tokens": 20}, {"max_output_tokens": 20}),
    ({"stop": ["END", "STOP"]}, {"stop_sequences": ["END", "STOP"]}),
    ({"n": 1}, {}),
    ({"n": 3}, {"candidate_count": 3}),
    ({"seed": 7, "presence_penalty": 0.5, "frequency_penalty": -0.5},
     {"seed": 7, "presence_penalty": 0.5, "frequency_penalty": -0.5}),
    ({"user": "someone", "stream": True}, {}),
])
def test_parameters_map_onto_generation_config(request_fields, expected):
    assert generation_config(request_fields) == expected


def test_server_defaults_apply_only_when_the_request_is_silent():
    defaults = RequestDefaults(temperature=0.3, top_p=0.8, top_k=20, max_tokens=99)
    assert generation_config({}, defaults) == {"temperature": 0.3, "top_p": 0.8, "top_k": 20, "max_output_tokens": 99}
    assert generation_config({"temperature": 1.5, "max_tokens": 5}, defaults) == {
        "temperature": 1.5, "top_p": 0.8, "top_k": 20, "max_output_tokens": 5}


def test_aliases_and_default_model_resolve_to_gemini_ids():
    settings = Settings(model_aliases={"gpt-4o-mini": "gemini-2.5-flash"}, default_model="gemini-2.5-pro")
    assert chat_model(settings, "gpt-4o-mini") == "gemini-2.5-flash"
    assert chat_model(settings, None) == "gemini-2.5-pro"
    assert chat_model(settings, "models/gemini-2.0-flash") == "gemini-2.0-flash"


def test_system_instruction_goes_into_config():
    request = gemini_request({"model": "m", "messages": [text("system", "S"), text("user", "U")]}, "m")
    assert request.config["system_instruction"] == {"parts": [{"text": "S"}]}
    assert request.contents == [{"role": "user", "parts": [{"text": "U"}]}]


@pytest.mark.parametrize("gemini, openai", [
    ("STOP", "stop"), (None, "stop"), ("MAX_TOKENS", "length"),
    ("SAFETY", "content_filter"), ("RECITATION", "content_filter"), ("BLOCKLIST", "content_filter"),
    ("PROHIBITED_CONTENT", "content_filter"), ("SPII", "content_filter"), ("IMAGE_SAFETY", "content_filter"),
    ("MALFORMED_FUNCTION_CALL", "stop"), ("OTHER", "stop"), ("FINISH_REASON_UNSPECIFIED", "stop"),
    ("SOMETHING_NEW", "stop"),
])
def test_finish_reasons_come_from_one_table(gemini, openai):
    assert finish_reason_from(gemini) == openai


def test_finish_reason_table_only_speaks_openai():
    assert set(FINISH_REASONS.values()) <= {"stop", "length", "content_filter"}


def test_usage_counts_thinking_as_completion_tokens():
    usage = usage_from({"prompt_token_count": 3, "candidates_token_count": 2, "thoughts_token_count": 17,
                        "total_token_count": 22})
    assert usage == {"prompt_tokens": 3, "completion_tokens": 19, "total_tokens": 22,
                     "prompt_tokens_details": {"cached_tokens": 0},
                     "completion_tokens_details": {"reasoning_tokens": 17}}


def test_blocked_prompt_still_gives_a_choice_per_n():
    body = completion_from_response(
        {"prompt_feedback": {"block_reason": "SAFETY"}, "usage_metadata": {"prompt_token_count": 4}}, ANSWER_2, {})
    assert [(c["index"], c["finish_reason"], c["message"]["content"]) for c in body["choices"]] == [
        (0, "content_filter", ""), (1, "content_filter", "")]
    assert_openai("CreateChatCompletionResponse", body)


def test_candidate_with_finish_reason_but_no_parts_is_kept():
    body = completion_from_response(
        {"candidates": [{"content": {"role": "model"}, "finish_reason": "MAX_TOKENS", "index": 0}]}, ANSWER, {})
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["choices"][0]["message"]["content"] == ""


def test_candidates_become_choices_in_index_order_and_thoughts_are_not_content():
    body = completion_from_response({"candidates": [
        {"content": {"parts": [{"text": "second"}]}, "finish_reason": "STOP", "index": 1},
        {"content": {"parts": [{"text": "thinking...", "thought": True}, {"text": "first"}]},
         "finish_reason": "MAX_TOKENS", "index": 0},
    ]}, ANSWER_2, {})
    assert [(c["index"], c["message"]["content"], c["finish_reason"]) for c in body["choices"]] == [
        (0, "first", "length"), (1, "second", "stop")]


@pytest.mark.parametrize("recording, golden", [
    ("text/response.json", "chat_text.json"),
    ("streaming/response-long.txt", "chat_streaming_long_single.json"),
])
def test_recorded_gemini_answers_translate_to_the_golden_completion(recording, golden):
    (response,) = recorded_gemini(recording)
    body = completion_from_response(response_from_wire(response), ANSWER, {})
    assert body == json.loads((DATA / "golden" / golden).read_text())
    assert_openai("CreateChatCompletionResponse", body)


def test_completion_has_the_fields_of_the_recorded_openai_answer():
    recorded = json.loads((DATA / "recordings/openai/text/response.json").read_text())
    (response,) = recorded_gemini("text/response.json")
    body = completion_from_response(response_from_wire(response), ANSWER, {})
    assert set(recorded) <= set(body)
    assert set(recorded["choices"][0]) <= set(body["choices"][0])
    assert set(recorded["choices"][0]["message"]) <= set(body["choices"][0]["message"])
    assert set(recorded["usage"]) <= set(body["usage"])
