"""The request schema of POST /v1/chat/completions."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from .fields import (Present, StrictBoolean, StrictInteger, StrictNumber, StrictString, StringOrList)

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
TEXT_ONLY_ROLES = ("system", "developer")
PART_TYPES = ("text", "image_url", "input_audio", "file", "refusal")

# Modelled OpenAI parameters this gateway cannot honour yet: refused by name, never dropped.
# Each entry says which values are harmless (the parameter's "off" values).
UNSUPPORTED = {
    "tools": lambda v: v in (None, []),
    "tool_choice": lambda v: v in (None, "none", "auto"),
    "functions": lambda v: v in (None, []),
    "function_call": lambda v: v in (None, "none", "auto"),
    "response_format": lambda v: v is None or v == {"type": "text"},
    "reasoning_effort": lambda v: v is None,
    "logprobs": lambda v: v in (None, False),
    "top_logprobs": lambda v: v in (None, 0),
    "modalities": lambda v: v in (None, ["text"]),
    "audio": lambda v: v is None,
    "logit_bias": lambda v: v in (None, {}),
    "prediction": lambda v: v is None,
    "web_search_options": lambda v: v is None,
}
UNSUPPORTED_MESSAGE_FIELDS = ("tool_calls", "function_call", "tool_call_id")


class ContentPartSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    type = StrictString(required=True, validate=validate.OneOf(PART_TYPES))
    text = StrictString()

    @validates_schema
    def _known_part(self, data, **kwargs):
        if data["type"] == "text" and "text" not in data:
            raise ValidationError("a text part needs `text`", "text")
        if data["type"] != "text":
            raise ValidationError(f"content parts of type `{data['type']}` are not supported yet", "type")


class Content(fields.Field):
    """OpenAI's message content: a string or a list of parts; loaded as a list of parts."""

    default_error_messages = {"invalid": "must be a string or an array of content parts"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            return [{"type": "text", "text": value}]
        if not isinstance(value, list):
            raise self.make_error("invalid")
        parts, errors = [], {}
        for index, part in enumerate(value):
            if not isinstance(part, dict):
                errors[index] = ["must be an object"]
                continue
            try:
                parts.append(ContentPartSchema().load(part))
            except ValidationError as exc:
                errors[index] = exc.messages
        if errors:
            raise ValidationError(errors)
        return parts


class MessageSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    role = StrictString(required=True, validate=validate.OneOf(ROLES))
    content = Content(required=True, allow_none=True)
    name = StrictString()
    tool_calls = Present()
    function_call = Present()
    tool_call_id = Present()

    @validates_schema
    def _supported(self, data, **kwargs):
        if data["role"] in ("tool", "function"):
            raise ValidationError(f"messages with role `{data['role']}` need tool support, which is not available yet", "role")
        for name in UNSUPPORTED_MESSAGE_FIELDS:
            if data.get(name) not in (None, []):
                raise ValidationError("tool calls are not supported yet", name)
        if data.get("content") is None:
            raise ValidationError("must not be null", "content")
        if data["role"] in TEXT_ONLY_ROLES and any(p["type"] != "text" for p in data["content"]):
            raise ValidationError(f"{data['role']} messages may only contain text", "content")


class StreamOptionsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    include_usage = StrictBoolean()


class ChatCompletionSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    model = StrictString(validate=validate.Length(min=1))
    messages = fields.List(fields.Nested(MessageSchema), required=True,
                           validate=validate.Length(min=1, error="must be a non-empty array"))
    temperature = StrictNumber(allow_none=True, validate=validate.Range(0, 2))
    top_p = StrictNumber(allow_none=True, validate=validate.Range(0, 1))
    top_k = StrictInteger(allow_none=True, validate=validate.Range(min=1))
    max_tokens = StrictInteger(allow_none=True, validate=validate.Range(min=1))
    max_completion_tokens = StrictInteger(allow_none=True, validate=validate.Range(min=1))
    stop = StringOrList(max_items=5, allow_none=True)
    n = StrictInteger(allow_none=True, validate=validate.Range(1, 8))
    seed = StrictInteger(allow_none=True)
    presence_penalty = StrictNumber(allow_none=True, validate=validate.Range(-2, 2))
    frequency_penalty = StrictNumber(allow_none=True, validate=validate.Range(-2, 2))
    stream = StrictBoolean(allow_none=True)
    stream_options = fields.Nested(StreamOptionsSchema, allow_none=True)
    user = StrictString(allow_none=True)

    tools = Present(allow_none=True)
    tool_choice = Present(allow_none=True)
    functions = Present(allow_none=True)
    function_call = Present(allow_none=True)
    response_format = Present(allow_none=True)
    reasoning_effort = Present(allow_none=True)
    logprobs = Present(allow_none=True)
    top_logprobs = Present(allow_none=True)
    modalities = Present(allow_none=True)
    audio = Present(allow_none=True)
    logit_bias = Present(allow_none=True)
    prediction = Present(allow_none=True)
    web_search_options = Present(allow_none=True)

    def __init__(self, max_messages: int, **kwargs):
        super().__init__(**kwargs)
        self.max_messages = max_messages

    @validates_schema
    def _limits_and_unsupported(self, data, **kwargs):
        if len(data.get("messages", ())) > self.max_messages:
            raise ValidationError(f"must have at most {self.max_messages} messages", "messages")
        for name, harmless in UNSUPPORTED.items():
            if name in data and not harmless(data[name]):
                raise ValidationError(f"`{name}` is not supported by this gateway yet", name)
