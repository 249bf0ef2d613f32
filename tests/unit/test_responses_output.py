"""Gemini answers -> OpenAI Response objects (translate/responses/output.py, context.py).

Every Response is checked against OpenAI's `Response` schema and for fields that OpenAI's spec
or the openai SDK does not know (strict clients and the conformance checker reject those).
"""
import json

import openai.types.responses as sdk
import pytest

from gemini_proxy.errors import ApiError
from gemini_proxy.translate.families import family_of
from gemini_proxy.translate.responses import carrier
from gemini_proxy.translate.responses.context import echoed_from, response_context
from gemini_proxy.translate.responses.output import response_from_gemini
from gemini_proxy.upstream.client import response_from_wire
from tests.support import recorded_gemini
from tests.support.responses import (
    CREATED,
    DONE,
    KEY,
    PATCH,
    SIGNATURE,
    WEATHER,
    answer,
    assert_response,
    call,
    context,
    ids,
    sdk_unknown_fields,
    spec_unknown_fields,
)


def translate(gemini, ctx=None):
    response, signatures = response_from_gemini(gemini, ctx or context())
    assert_response(response)
    return response, signatures


def types(response):
    return [item["type"] for item in response["output"]]


def test_recorded_text_answer_is_a_completed_response_with_one_message():
    response, signatures = translate(response_from_wire(recorded_gemini("text/response.json")[0]))
    assert signatures == {}
    assert response["id"] == "resp_" + "a" * 32
    assert response["object"] == "response"
    assert (response["status"], response["created_at"], response["completed_at"]) == ("completed", CREATED, DONE)
    assert response["error"] is None
    assert response["incomplete_details"] is None
    assert response["model"] == "gpt-4o-mini"  # the name asked for, not Gemini's modelVersion
    [message] = response["output"]
    assert message == {"id": message["id"], "type": "message", "role": "assistant", "status": "completed",
                       "content": [{"type": "output_text", "text": "Hello!", "annotations": [], "logprobs": []}]}
    assert message["id"].startswith("msg_")
    assert response["usage"] == {
        "input_tokens": 3, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": 2 + 17, "output_tokens_details": {"reasoning_tokens": 17}, "total_tokens": 22}


def test_defaults_are_echoed_as_openai_does():
    response, _ = translate(answer({"text": "ok"}))
    assert {key: response[key] for key in echoed_from({})} == {
        "instructions": None, "max_output_tokens": None, "max_tool_calls": None, "metadata": {},
        "parallel_tool_calls": True, "previous_response_id": None, "reasoning": {"effort": None, "summary": None},
        "service_tier": "default", "temperature": 1.0, "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto", "tools": [], "top_logprobs": 0, "top_p": 1.0, "truncation": "disabled",
        "background": False}
    assert "user" not in response  # the spec's `user` is a string: absent rather than null
    # A retention value the SDK's type does not know is not repeated back to it.
    assert "prompt_cache_retention" not in echoed_from({"prompt_cache_retention": "forever"})


SETTINGS = {
    "instructions": "Be brief.", "max_output_tokens": 300, "metadata": {"k": "v"}, "parallel_tool_calls": False,
    "previous_response_id": "resp_prev", "reasoning": {"effort": "low", "summary": "auto"}, "temperature": 0.2,
    "top_p": 0.9, "truncation": "auto", "user": "u-1", "prompt_cache_key": "conv-1", "safety_identifier": "s-1",
    "prompt_cache_retention": "24h",
    "tool_choice": {"type": "function", "name": "get_weather"}, "top_logprobs": 3, "max_tool_calls": 4,
    "text": {"format": {"type": "json_schema", "name": "city", "strict": True,
                        "schema": {"type": "object", "properties": {"city": {"type": "string"}}}},
             "verbosity": "low"},
    "tools": [{**WEATHER, "strict": None}, PATCH, {"type": "web_search", "search_context_size": "low"},
              {"type": "local_shell"},
              {"type": "namespace", "name": "crm", "description": "CRM.", "tools": [
                  {"type": "function", "name": "find", "parameters": {"type": "object", "properties": {}}}]}],
}


def test_request_settings_are_echoed():
    response, _ = translate(answer({"text": "{}"}), context(SETTINGS))
    for key in ("instructions", "max_output_tokens", "metadata", "previous_response_id", "temperature", "top_p",
                "truncation", "user", "prompt_cache_key", "safety_identifier", "tool_choice", "top_logprobs",
                "max_tool_calls", "prompt_cache_retention"):
        assert response[key] == SETTINGS[key], key
    assert response["parallel_tool_calls"] is False
    assert response["reasoning"] == {"effort": "low", "summary": "auto"}
    assert response["text"] == SETTINGS["text"]
    assert response["tools"] == [
        {**WEATHER, "strict": True},  # Responses' function tools are strict unless asked otherwise
        PATCH, {"type": "web_search", "search_context_size": "low"}, {"type": "local_shell"},
        {"type": "namespace", "name": "crm", "description": "CRM.", "tools": [
            {"type": "function", "name": "find", "description": None,
             "parameters": {"type": "object", "properties": {}}, "strict": True}]}]


def test_function_call_gets_openai_ids_and_a_json_arguments_string():
    response, signatures = translate(response_from_wire(recorded_gemini("function_calling/response.json")[0]))
    [item] = response["output"]
    assert item == {"id": item["id"], "type": "function_call", "status": "completed", "call_id": item["call_id"],
                    "name": "search", "arguments": '{"query": "weather in Tokyo"}'}
    assert item["id"].startswith("fc_")
    assert item["call_id"].startswith("call_")
    assert len(item["call_id"]) <= 64
    assert json.loads(item["arguments"]) == {"query": "weather in Tokyo"}
    assert signatures == {}
    assert response["status"] == "completed"


def test_recorded_signature_is_returned_for_the_store_and_not_shown_to_a_stateful_client():
    recorded = response_from_wire(recorded_gemini("streaming_function_calling/response_0.json")[0])
    response, signatures = translate(recorded)
    assert types(response) == ["function_call"]
    assert signatures == {response["output"][0]["call_id"]: recorded["candidates"][0]["content"]["parts"][0][
        "thought_signature"]}


@pytest.mark.parametrize("body", [{"store": False}, {"include": ["reasoning.encrypted_content"]}])
def test_a_stateless_client_gets_the_signature_in_a_reasoning_item_before_the_call(body):
    response, signatures = translate(answer(call("get_weather", {"city": "Paris"}, SIGNATURE, gemini_id="g-1")),
                                     context(body, model="gemini-3-flash-preview"))
    assert types(response) == ["reasoning", "function_call"]
    carried, fc = response["output"]
    assert carried["summary"] == []
    assert carried["id"].startswith("rs_")
    state = carrier.decode(carried["encrypted_content"], KEY)
    assert state == carrier.CarriedState({fc["call_id"]: SIGNATURE}, {fc["call_id"]: "g-1"}, None, "gemini-3")
    assert signatures == {fc["call_id"]: SIGNATURE}  # the server-side copy is kept whatever `store` says
    assert carrier.decode(carried["encrypted_content"], b"another key") is None


def test_thought_summaries_make_a_reasoning_item_only_when_asked():
    gemini = answer({"text": "**Plan** add them.", "thought": True}, {"text": "4"})
    response, _ = translate(gemini, context({"reasoning": {"effort": "low", "summary": "auto"}}))
    assert types(response) == ["reasoning", "message"]
    assert response["output"][0] == {"id": response["output"][0]["id"], "type": "reasoning",
                                     "summary": [{"type": "summary_text", "text": "**Plan** add them."}]}
    response, _ = translate(gemini, context({"reasoning": {"effort": "low"}}))
    assert types(response) == ["message"]
    assert response["output"][0]["content"][0]["text"] == "4"


def test_signatures_seen_while_the_summary_is_open_are_sealed_in_it():
    gemini = answer({"text": "Thinking.", "thought": True}, call("get_weather", {"city": "Oslo"}, SIGNATURE),
                    call("get_weather", {"city": "Rome"}))
    ctx = context({"store": False, "reasoning": {"summary": "detailed"}}, model="gemini-3-pro-preview")
    response, signatures = translate(gemini, ctx)
    assert types(response) == ["reasoning", "function_call", "function_call"]
    summary, first, second = response["output"]
    assert summary["summary"][0]["text"] == "Thinking."
    assert carrier.decode(summary["encrypted_content"], KEY).signatures == {first["call_id"]: SIGNATURE}
    assert first["call_id"] != second["call_id"]
    assert signatures == {first["call_id"]: SIGNATURE}


def test_a_text_signature_goes_in_a_carrier_after_the_message():
    # Gemini 3 sends the signature of a text answer on its last part, often an empty one.
    gemini = answer({"text": "Hello"}, {"text": "", "thought_signature": SIGNATURE})
    response, signatures = translate(gemini, context({"store": False}, model="gemini-3-flash-preview"))
    assert types(response) == ["message", "reasoning"]
    assert carrier.decode(response["output"][1]["encrypted_content"], KEY).text_signature == SIGNATURE
    assert signatures == {}
    response, _ = translate(gemini, context(model="gemini-3-flash-preview"))
    assert types(response) == ["message"]


def test_every_reasoning_item_carries_state_when_asked_even_with_nothing_to_carry():
    gemini = answer({"text": "Hmm.", "thought": True}, {"text": "Yes."})
    response, _ = translate(gemini, context({"store": False, "reasoning": {"summary": "auto"}}))
    assert types(response) == ["reasoning", "message"]
    state = carrier.decode(response["output"][0]["encrypted_content"], KEY)
    assert state == carrier.CarriedState({}, {}, None, "gemini-2.5")


PATCH_TEXT = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n"


@pytest.mark.parametrize(("args", "expected"), [
    ({"input": PATCH_TEXT}, PATCH_TEXT),
    ({"patch": PATCH_TEXT}, PATCH_TEXT),  # the model named the one string otherwise
    ({"a": 1, "b": "x"}, '{"a": 1, "b": "x"}'),
    ({}, "{}"),
])
def test_a_custom_tool_call_comes_back_as_custom_tool_call_with_raw_input(args, expected):
    response, _ = translate(answer(call("apply_patch", args)), context({"tools": [PATCH]}))
    [item] = response["output"]
    assert item == {"id": item["id"], "type": "custom_tool_call", "call_id": item["call_id"], "name": "apply_patch",
                    "input": expected}
    assert item["id"].startswith("ctc_")


def test_namespaced_and_local_shell_calls_get_their_own_shapes():
    gemini = answer(call("crm__find", {"q": "x"}), call("local_shell", {"command": ["ls", "-l"], "workdir": "/tmp"}))
    response, _ = translate(gemini, context({"tools": SETTINGS["tools"]}))
    found, shell = response["output"]
    assert (found["type"], found["namespace"], found["name"]) == ("function_call", "crm", "find")
    assert shell == {"id": shell["id"], "type": "local_shell_call", "call_id": shell["call_id"], "status": "completed",
                     "action": {"type": "exec", "command": ["ls", "-l"], "env": {}, "timeout_ms": None,
                                "working_directory": "/tmp", "user": None}}
    # Without a local_shell tool, a function that happens to be called local_shell is a function.
    response, _ = translate(gemini)
    assert types(response) == ["function_call", "function_call"]


def test_parallel_tool_calls_false_keeps_only_the_first_call_and_its_signature():
    gemini = answer(call("a", {}, SIGNATURE), call("b", {}, "b3RoZXI="))
    response, signatures = translate(gemini, context({"parallel_tool_calls": False}))
    assert [item["name"] for item in response["output"]] == ["a"]
    assert signatures == {response["output"][0]["call_id"]: SIGNATURE}


@pytest.mark.parametrize(("finish", "reason"), [("MAX_TOKENS", "max_output_tokens"), ("SAFETY", "content_filter"),
                                               ("RECITATION", "content_filter"),
                                               ("PROHIBITED_CONTENT", "content_filter")])
def test_truncated_and_filtered_answers_are_incomplete(finish, reason):
    response, _ = translate(answer({"text": "Once upon"}, finish=finish))
    assert (response["status"], response["incomplete_details"]) == ("incomplete", {"reason": reason})
    assert response["completed_at"] is None
    assert response["output"][0]["status"] == "incomplete"


def test_a_blocked_prompt_is_incomplete_with_no_output():
    blocked = {"prompt_feedback": {"block_reason": "SAFETY"}, "usage_metadata": {"prompt_token_count": 7}}
    response, _ = translate(blocked)
    assert (response["status"], response["incomplete_details"], response["output"]) == (
        "incomplete", {"reason": "content_filter"}, [])
    assert response["usage"]["input_tokens"] == 7


def test_an_odd_finish_reason_with_output_completes_and_without_output_fails():
    response, _ = translate(answer({"text": "partial"}, finish="MALFORMED_FUNCTION_CALL"))
    assert response["status"] == "completed"
    with pytest.raises(ApiError) as caught:
        response_from_gemini(answer(finish="MALFORMED_FUNCTION_CALL"), context())
    assert (caught.value.status, caught.value.type, caught.value.code) == (502, "server_error", "server_error")
    assert "MALFORMED_FUNCTION_CALL" in caught.value.message
    # A plain STOP with nothing in it is an empty success, as Gemini meant it.
    assert translate(answer())[0]["status"] == "completed"


def test_usage_counts_cached_tool_prompt_and_thought_tokens():
    usage = {"prompt_token_count": 100, "tool_use_prompt_token_count": 20, "cached_content_token_count": 64,
             "candidates_token_count": 30, "thoughts_token_count": 12}
    response, _ = translate(answer({"text": "ok"}, usage=usage))
    assert response["usage"] == {"input_tokens": 120,
                                 "input_tokens_details": {"cached_tokens": 64, "cache_write_tokens": 0},
                                 "output_tokens": 42, "output_tokens_details": {"reasoning_tokens": 12},
                                 "total_tokens": 162}


def test_media_and_code_parts_are_dropped_and_text_around_them_is_one_message():
    gemini = answer({"text": "See "}, {"inline_data": {"mime_type": "image/png", "data": "AA=="}},
                    {"executable_code": {"code": "1"}}, {"text": "this."})
    response, _ = translate(gemini)
    assert types(response) == ["message"]
    assert response["output"][0]["content"][0]["text"] == "See this."


def test_the_openai_sdk_reads_the_response():
    gemini = answer({"text": "Thinking.", "thought": True}, {"text": "It is sunny."},
                    call("get_weather", {"city": "Paris"}, SIGNATURE))
    response, _ = translate(gemini, context({"store": False, "reasoning": {"summary": "auto"}, "tools": [WEATHER]}))
    parsed = sdk.Response.model_validate(response)
    assert parsed.output_text == "It is sunny."
    # The call's signature came after the summary closed: a carrier reasoning item holds it.
    assert [type(item).__name__ for item in parsed.output] == [
        "ResponseReasoningItem", "ResponseOutputMessage", "ResponseReasoningItem", "ResponseFunctionToolCall"]
    assert parsed.usage.total_tokens == 15


def test_the_strict_checks_catch_unknown_fields():
    # The strict helpers must be able to fail, or every test here would pass on anything.
    response, _ = translate(answer({"text": "ok"}))
    assert spec_unknown_fields({"$ref": "#/components/schemas/Response"}, {**response, "store": True}) == ["$.store"]
    extra = {**response, "output": [{**response["output"][0], "phase": None, "colour": 1}]}
    assert sdk_unknown_fields(sdk.Response.model_validate(extra)) == ["$.output[0].colour"]
    with pytest.raises(AssertionError):
        assert_response({**response, "usage": None})


def test_a_body_loaded_by_the_request_schema_echoes_into_a_valid_response():
    from gemini_proxy.schemas.responses import CreateResponseSchema

    body = CreateResponseSchema(max_items=16).load({"model": "gpt-4o-mini", "input": "hi", **SETTINGS,
                                                    "include": ["reasoning.encrypted_content"]})
    built = response_context(body, response_id="resp_x", created_at=CREATED, family=family_of("gemini-3-pro"),
                             carrier_key=KEY, new_id=ids())
    assert (built.carry_state, built.summaries, built.first_call_only) == (True, True, True)
    assert built.custom_tools == {"apply_patch"}
    assert built.namespaced == {"crm__find": ("crm", "find")}
    assert built.local_shell is True
    response, _ = translate(answer({"text": "{}"}), built)
    assert response["tools"][2] == {"type": "web_search"}
    assert response["completed_at"] == CREATED  # no clock given: the creation time
