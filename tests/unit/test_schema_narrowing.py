"""schemas/fields.py's Lenient loads a body with the fields it has: the same result, and the same
first error, as marshmallow's load over every declared field."""
import pytest
from marshmallow import Schema, ValidationError

from gemini_proxy.schemas.chat import ChatCompletionSchema
from gemini_proxy.schemas.fields import _NARROWED_KEPT, Lenient
from gemini_proxy.schemas.responses import CreateResponseSchema

USER = {"role": "user", "content": "hi"}
CALL = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
CHAT = [
    {"messages": [USER]},
    {"model": "m", "messages": [USER], "temperature": 0.5, "stop": "END", "n": 2, "unknown": {"x": 1}},
    {"messages": [USER, {"role": "assistant", "content": None, "tool_calls": [CALL]},
                  {"role": "tool", "tool_call_id": "call_1", "content": "ok"}], "tools": [TOOL]},
    {"messages": [{"role": "user", "content": [{"type": "text", "text": "a"},
                                               {"type": "image_url", "image_url": {"url": "data:,"}}]}]},
    {"messages": [USER], "response_format": {"type": "json_schema", "json_schema": {"name": "s"}}},
    {"model": "m"},  # required messages missing
    {"messages": [USER], "temperature": None, "n": None, "stream_options": None},
    {"messages": [USER], "stream": "yes"},
    {"messages": [{"role": "user"}]},
    {"messages": [{"role": "tool", "content": "x"}]},
    {"messages": [USER], "logit_bias": {"1": 2}},  # modelled, unsupported
    {"messages": [USER], "logit_bias": {}, "functions": []},  # the same, in their harmless positions
    {"messages": [USER], "tool_choice": "required"},
]
RESPONSES = [
    {"input": "hi"},
    {"model": "m", "input": [{"role": "user", "content": [{"type": "input_text", "text": "a"}]}],
     "instructions": "be brief", "store": False, "include": ["reasoning.encrypted_content"]},
    {"input": [{"type": "message", "role": "assistant",
                "content": [{"type": "output_text", "text": "a"}]}]},  # annotations' load_default
    {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "data:,"}]}]},  # detail's default
    {"input": [{"type": "function_call_output", "call_id": "c", "output": "ok"}],
     "tools": [{"type": "function", "name": "f", "parameters": {}}], "tool_choice": "auto"},
    {"input": [{"type": "reasoning", "id": "rs_1", "summary": None}]},
    {"input": "hi", "text": {"format": {"type": "json_schema", "name": "s", "schema": {}}}},
    {"input": 5},
    {"input": "hi", "max_output_tokens": 0},
    {"input": "hi", "reasoning": {"effort": "extreme"}},
    {"input": [{"type": "function_call_output"}]},
]


def _outcome(schema: Schema, body: dict):
    try:
        return "loaded", schema.load(body)
    except ValidationError as exc:
        return "refused", exc.messages


@pytest.mark.parametrize("schema, body", [
    *((ChatCompletionSchema(max_messages=8), body) for body in CHAT),
    *((CreateResponseSchema(max_items=8, max_tools=4, max_parts=8), body) for body in RESPONSES),
])
def test_a_narrowed_load_is_marshmallows_own(schema, body, monkeypatch):
    narrowed = _outcome(schema, body)
    monkeypatch.setattr(Lenient, "_deserialize", Schema._deserialize)  # every declared field, as marshmallow does
    assert narrowed == _outcome(schema, body)


def test_declared_fields_missing_from_the_body_are_not_deserialized_and_copies_are_bounded():
    schema = ChatCompletionSchema(max_messages=8)
    narrowed = schema._narrowed_to({"messages": [], "temperature": 1, "unknown": 2})
    assert set(narrowed.load_fields) == {"messages", "temperature"}
    assert set(narrowed.fields) == set(schema.fields)  # checks that read the declared fields see them all
    assert schema._narrowed_to({"temperature": 1, "messages": [], "other": 3}) is narrowed  # one copy per key set
    names = list(schema.load_fields)
    for count in range(1, 100):
        _outcome(schema, {"messages": [USER], **{name: None for name in names[:count % len(names)]}, f"x{count}": 1})
    assert len(schema._narrowed) <= _NARROWED_KEPT
