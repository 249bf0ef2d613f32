"""CreateResponse validation: what each client sends loads, in one item shape; what cannot be
served is a 400 naming the param."""
import time

import pytest

from gemini_proxy.errors import ApiError
from gemini_proxy.schemas import load
from gemini_proxy.schemas.fields import INT32_MAX
from gemini_proxy.schemas.response_items import LocalShellCall
from gemini_proxy.schemas.responses import CreateResponseSchema, InputTokensSchema
from tests.support import assert_int32_bounds

SCHEMA = CreateResponseSchema(max_items=6, max_tools=4, max_parts=8)
MODEL = "gemini-3-flash-preview"
WEATHER = {"type": "function", "name": "get_weather", "description": "Weather of a city.", "strict": True,
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                          "additionalProperties": False}}
APPLY_PATCH = {"type": "custom", "name": "apply_patch", "description": "Edit files.",
               "format": {"type": "grammar", "syntax": "lark", "definition": "start: begin_patch"}}


def body(**fields):
    return {"model": MODEL, "input": "hi", **fields}


def refused(request: dict, schema=SCHEMA) -> ApiError:
    with pytest.raises(ApiError) as caught:
        load(schema, request)
    assert caught.value.status == 400
    return caught.value


def test_a_string_input_is_one_user_message():
    assert load(SCHEMA, body())["input"] == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}]


# What Codex sends each turn (codex-rs/codex-api requests/responses.rs): the whole history without
# ids, store false, fields the gateway does not model (client_metadata, stream_options).
CODEX = {
    "model": MODEL, "instructions": "You are Codex.", "stream": True, "store": False,
    "tool_choice": "auto", "parallel_tool_calls": False, "prompt_cache_key": "conv-1",
    "reasoning": {"effort": "medium", "summary": "auto"}, "include": ["reasoning.encrypted_content"],
    "text": {"verbosity": "low"}, "client_metadata": {"x": "y"}, "stream_options": {"include_obfuscation": False},
    "service_tier": "auto",
    "tools": [{"type": "function", "name": "shell", "description": "Runs a command.", "strict": False,
               "parameters": {"type": "object", "properties": {"command": {"type": "array",
                                                                            "items": {"type": "string"}}}}},
              APPLY_PATCH, {"type": "web_search", "external_web_access": False}],
    "input": [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "<permissions/>"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list files"}]},
        {"type": "reasoning", "summary": [], "content": None, "encrypted_content": "gp1.abc.def"},
        {"type": "function_call", "name": "shell", "arguments": "{\"command\":[\"ls\"]}", "call_id": "call_1"},
        {"type": "function_call_output", "call_id": "call_1", "output": "a.txt"},
        {"type": "custom_tool_call", "status": "completed", "call_id": "call_2", "name": "apply_patch",
         "input": "*** Begin Patch\n*** End Patch"},
    ],
}


def test_what_codex_sends_loads_in_the_item_shape():
    loaded = load(SCHEMA, CODEX)
    assert loaded["input"] == [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "<permissions/>"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list files"}]},
        {"type": "reasoning", "summary": [], "encrypted_content": "gp1.abc.def"},
        {"type": "function_call", "name": "shell", "arguments": "{\"command\":[\"ls\"]}", "call_id": "call_1"},
        {"type": "function_call_output", "call_id": "call_1", "output": "a.txt"},
        {"type": "custom_tool_call", "status": "completed", "call_id": "call_2", "name": "apply_patch",
         "input": "*** Begin Patch\n*** End Patch"},
    ]
    assert loaded["tools"][1] == {"type": "custom", **{k: v for k, v in APPLY_PATCH.items() if k != "type"}}
    assert loaded["tools"][2] == {"type": "web_search"}
    assert loaded["reasoning"] == {"effort": "medium", "summary": "auto"}
    assert "client_metadata" not in loaded


def test_sdk_dumps_with_nulls_and_items_without_type_load():
    # The Agents SDK re-sends output items as dumped, nulls included; the AI SDK (store true)
    # sends {type: item_reference, id}, and OpenAI's spec lets both leave `type` out.
    loaded = load(SCHEMA, body(input=[
        {"role": "user", "content": "q"},
        {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed", "phase": None,
         "content": [{"type": "output_text", "text": "a", "annotations": [], "logprobs": None}]},
        {"id": "fc_1", "type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}",
         "status": None, "namespace": None},
        {"id": "rs_1"},
        {"type": "item_reference", "id": "rs_2"},
        {"type": "function_call_output", "call_id": "call_1", "output": "ok", "id": None, "status": None},
    ]))
    assert loaded["input"] == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "q"}]},
        {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": "a", "annotations": [], "logprobs": []}]},
        {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f", "arguments": "{}"},
        {"type": "item_reference", "id": "rs_1"},
        {"type": "item_reference", "id": "rs_2"},
        {"type": "function_call_output", "call_id": "call_1", "output": "ok"},
    ]


def test_media_parts_load_with_their_defaults():
    parts = [{"type": "input_text", "text": "look"},
             {"type": "input_image", "image_url": "https://example.com/a.png"},
             {"type": "input_file", "file_data": "data:application/pdf;base64,JVBERg==", "filename": "a.pdf",
              "file_id": None},
             {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}]
    loaded = load(SCHEMA, body(input=[{"role": "user", "content": parts}]))["input"][0]["content"]
    assert loaded == [{"type": "input_text", "text": "look"},
                      {"type": "input_image", "image_url": "https://example.com/a.png", "detail": "auto"},
                      {"type": "input_file", "file_data": "data:application/pdf;base64,JVBERg==", "filename": "a.pdf"},
                      {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}]


def test_every_setting_loads_and_google_options_are_one_object():
    loaded = load(SCHEMA, body(
        instructions="Be brief.", temperature=0.2, top_p=0.5, max_output_tokens=16, top_logprobs=3,
        metadata={"k": "v"}, user="u", safety_identifier="s", truncation="auto", store=True, stream=False,
        previous_response_id="resp_1", tools=[WEATHER], tool_choice={"type": "function", "name": "get_weather"},
        text={"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": True}},
        reasoning={"effort": "xhigh", "generate_summary": "concise"}, background=False, conversation=None,
        extra_body={"google": {"safety_settings": [{"category": "HARM_CATEGORY_HATE_SPEECH",
                                                    "threshold": "BLOCK_NONE"}]}}))
    assert loaded["reasoning"] == {"effort": "xhigh", "summary": "concise"}
    assert loaded["google"] == {"safety_settings": [{"category": "HARM_CATEGORY_HATE_SPEECH",
                                                     "threshold": "BLOCK_NONE"}]}
    assert loaded["tool_choice"] == {"type": "function", "name": "get_weather"}
    assert loaded["max_output_tokens"] == 16
    assert load(SCHEMA, body(reasoning={"effort": "low", "summary": "none"}))["reasoning"] == {"effort": "low",
                                                                                           "summary": None}


def many_items(count):
    # Items each invalid: a count limit that validated them first would name input[0], not input.
    return [{"type": "message", "role": "robot", "content": 5}] * count


@pytest.mark.parametrize("request_body, param, code", [
    ({"model": MODEL}, "input", "missing_required_parameter"),
    ({"input": "hi"}, "model", "missing_required_parameter"),
    (body(input=5), "input", None),
    (body(input=[]), "input", None),
    (body(input=many_items(7)), "input", None),
    (body(input=[{"role": "user", "content": [{"type": "input_text", "text": "x"}] * 9}]), "input", None),
    (body(input=["hi"]), "input[0]", None),
    (body(input=[{"type": "computer_call", "call_id": "c"}]), "input[0].type", None),
    (body(input=[{"role": "user", "content": "a"}, {"type": "mcp_call"}]), "input[1].type", None),
    (body(input=[{"type": "teleport"}]), "input[0].type", None),
    (body(input=[{"role": "robot", "content": "x"}]), "input[0].role", None),
    (body(input=[{"role": "user"}]), "input[0].content", "missing_required_parameter"),
    (body(input=[{"role": "user", "content": None}]), "input[0].content", None),
    (body(input=[{"role": "user", "content": [{"type": "output_text", "text": "x"}]}]), "input[0].content[0].type",
     None),
    (body(input=[{"role": "system", "content": [{"type": "input_image", "image_url": "x"}]}]),
     "input[0].content[0].type", None),
    (body(input=[{"role": "assistant", "content": [{"type": "input_image", "image_url": "x"}]}]),
     "input[0].content[0].type", None),
    (body(input=[{"role": "user", "content": [{"type": "input_image", "file_id": "file-1"}]}]),
     "input[0].content[0].file_id", None),
    (body(input=[{"role": "user", "content": [{"type": "input_image"}]}]), "input[0].content[0].image_url", None),
    (body(input=[{"role": "user", "content": [{"type": "input_image", "image_url": "x", "detail": "max"}]}]),
     "input[0].content[0].detail", None),
    (body(input=[{"role": "user", "content": [{"type": "input_file", "file_id": "file-1"}]}]),
     "input[0].content[0].file_id", None),
    (body(input=[{"role": "user", "content": [{"type": "input_file", "filename": "a.pdf"}]}]),
     "input[0].content[0].file_data", None),
    (body(input=[{"role": "user", "content": [{"type": "input_text"}]}]), "input[0].content[0].text",
     "missing_required_parameter"),
    (body(input=[{"type": "function_call", "call_id": "c", "name": "f", "arguments": {}}]), "input[0].arguments",
     None),
    (body(input=[{"type": "function_call", "call_id": "c", "name": "f"}]), "input[0].arguments",
     "missing_required_parameter"),
    (body(input=[{"type": "function_call_output", "call_id": "c" * 65, "output": "x"}]), "input[0].call_id", None),
    (body(input=[{"type": "function_call_output", "call_id": "c", "output": 5}]), "input[0].output", None),
    (body(input=[{"type": "function_call_output", "call_id": "c", "output": [{"type": "refusal"}]}]),
     "input[0].output[0].type", None),
    (body(input=[{"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}", "status": "done"}]),
     "input[0].status", None),
    (body(input=[{"type": "local_shell_call", "call_id": "c", "action": {"type": "exec", "command": []}}]),
     "input[0].action.command", None),
    (body(input=[{"type": "local_shell_call_output", "output": "x"}]), "input[0].call_id",
     "missing_required_parameter"),
    (body(input=[{"type": "item_reference"}]), "input[0].id", "missing_required_parameter"),
    (body(tools=[{"type": "file_search", "vector_store_ids": ["v"]}]), "tools[0].type", None),
    (body(tools=[WEATHER, {"type": "code_interpreter"}]), "tools[1].type", None),
    (body(tools=[{"type": "hologram"}]), "tools[0].type", None),
    (body(tools=[{"type": ["function"]}]), "tools[0].type", None),  # the fuzzer's: once a 500
    (body(input=[{"type": {"a": 1}, "role": "user", "content": "x"}]), "input[0].type", None),
    (body(tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}]), "tools[0].name", None),
    (body(tools=[{**WEATHER, "name": "9lives"}]), "tools[0].name", None),
    (body(tools=[{"type": "custom", "name": "p", "format": {"type": "grammar", "syntax": "lark"}}]),
     "tools[0].format.definition", None),
    (body(tools=[{"type": "namespace", "name": "ns", "tools": []}]), "tools[0].tools", None),
    (body(tools=[{"type": "namespace", "name": "ns", "tools": [{"type": "web_search"}]}]), "tools[0].tools[0].type",
     None),
    (body(tools=[WEATHER] * 5), "tools", None),
    (body(tools=[{"type": "namespace", "name": "ns", "tools": [WEATHER] * 4}]), "tools", None),
    (body(tool_choice="sometimes"), "tool_choice", None),
    (body(max_output_tokens=15), "max_output_tokens", None),
    (body(max_output_tokens=INT32_MAX + 1), "max_output_tokens", None),
    (body(max_output_tokens=16.5), "max_output_tokens", None),
    (body(temperature=2.5), "temperature", None),
    (body(temperature="1"), "temperature", None),
    (body(top_p=1.5), "top_p", None),
    (body(top_logprobs=21), "top_logprobs", None),
    (body(include=["reasoning.encrypted_content", "reasoning.everything"]), "include[1]", None),
    (body(reasoning={"effort": "extreme"}), "reasoning.effort", None),
    (body(reasoning={"summary": "verbose"}), "reasoning.summary", None),
    (body(text={"format": {"type": "json_schema", "schema": {}}}), "text.format.name", None),
    (body(text={"format": {"type": "yaml"}}), "text.format.type", None),
    (body(metadata={f"k{i}": "v" for i in range(17)}), "metadata", None),
    (body(metadata={"k": 1}), "metadata.k.value", None),
    (body(background=True), "background", None),
    (body(conversation="conv_1"), "conversation", None),
    (body(prompt={"id": "pmpt_1"}), "prompt", None),
    (body(context_management=[{"type": "compaction"}]), "context_management", None),
    (body(moderation={"model": "omni"}), "moderation", None),
    (body(store="yes"), "store", None),
])
def test_what_cannot_be_served_is_a_400_naming_the_param(request_body, param, code):
    error = refused(request_body)
    assert (error.param, error.code) == (param, code), error.message


def test_unsupported_items_and_tools_say_so():
    assert "not supported by this gateway" in refused(body(input=[{"type": "computer_call"}])).message
    assert "'file_search' tools are not supported" in refused(body(tools=[{"type": "file_search"}])).message
    assert "flat" in refused(body(tools=[{"type": "function", "function": {"name": "f"}}])).message


def test_long_lists_are_counted_before_their_items_are_checked():
    schema = CreateResponseSchema(max_items=1000)
    started = time.perf_counter()
    error = refused(body(input=many_items(100_000)), schema)
    assert time.perf_counter() - started < 1.0
    assert error.param == "input"


def test_input_tokens_take_the_default_model_and_a_previous_response():
    schema = InputTokensSchema(max_items=4)
    assert load(schema, {"previous_response_id": "resp_1"}) == {"previous_response_id": "resp_1"}
    assert load(schema, {"input": "hi", "tools": [WEATHER]})["input"][0]["role"] == "user"
    assert refused({"input": "x", "conversation": "c"}, schema).param == "conversation"
    assert refused({"tools": [{"type": "mcp"}]}, schema).param == "tools[0].type"


def test_every_integer_parameter_has_both_bounds_within_int32():
    found = assert_int32_bounds(SCHEMA) | assert_int32_bounds(LocalShellCall())
    assert found >= {"max_output_tokens", "max_tool_calls", "top_logprobs", "action.timeout_ms"}
