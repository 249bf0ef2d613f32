"""The request schema of POST /v1/chat/completions."""
from __future__ import annotations

from marshmallow import ValidationError, fields, post_load, pre_load, validate, validates_schema

from gemini_proxy.schemas.fields import (
    INT32_MAX,
    INT32_MIN,
    Lenient,
    Present,
    StrictBoolean,
    StrictInteger,
    StrictNumber,
    StrictString,
    StringOrList,
    refuse_file_id,
    refuse_long_lists,
    refuse_many_parts,
    refuse_unsupported,
)
from gemini_proxy.schemas.google import GENERATION_OPTIONS, WithGoogleOptions, google_fields

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
TEXT_ONLY_ROLES = ("system", "developer", "tool")
PART_TYPES = ("text", "image_url", "input_audio", "file", "refusal")
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high")
# Gemini's rule for function names (stricter than OpenAI's: no leading digit).
FUNCTION_NAME = validate.Regexp(
    r"^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$",
    error="must start with a letter or _ and use only letters, digits, _ . : - (at most 64)")

# Modelled OpenAI parameters this gateway cannot honour: refused by name, never dropped.
# Each entry lists the values that are harmless (the parameter's "off" values).
UNSUPPORTED = {
    "functions": (None, []),
    "function_call": (None, "none", "auto"),
    "modalities": (None, ["text"]),
    "audio": (None,),
    "logit_bias": (None, {}),
    "prediction": (None,),
}
# OpenAI's service tiers; "fast" is OpenAI's other name for "priority".
SERVICE_TIERS = ("auto", "default", "flex", "scale", "priority", "fast")


class ImageUrlSchema(Lenient):
    url = StrictString(required=True, validate=validate.Length(min=1))
    detail = StrictString(validate=validate.OneOf(("auto", "low", "high")))


class InputAudioSchema(Lenient):
    data = StrictString(required=True)
    format = StrictString(required=True)


class FileSchema(Lenient):
    file_data = StrictString()
    filename = StrictString()
    file_id = Present((None,))

    @validates_schema
    def _inline_only(self, data, **kwargs):
        refuse_file_id(data, "send the file inline as `file_data`")
        if "file_data" not in data:
            raise ValidationError("is required", "file_data")


class ContentPartSchema(Lenient):
    type = StrictString(required=True, validate=validate.OneOf(PART_TYPES))
    text = StrictString()
    refusal = StrictString()
    image_url = fields.Nested(ImageUrlSchema)
    input_audio = fields.Nested(InputAudioSchema)
    file = fields.Nested(FileSchema)

    @validates_schema
    def _payload_present(self, data, **kwargs):
        kind = data["type"]
        if kind not in data:
            raise ValidationError(f"a {kind} part needs `{kind}`", kind)

    @post_load
    def _refusal_as_text(self, data, **kwargs):
        # A refusal the assistant gave earlier is, to Gemini, just what it said.
        if data["type"] == "refusal":
            return {"type": "text", "text": data["refusal"]}
        return data


class Content(fields.Field):
    """OpenAI's message content: a string or a list of parts; loaded as a list of parts."""

    default_error_messages = {"invalid": "must be a string or an array of content parts"}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._part = ContentPartSchema()

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
                parts.append(self._part.load(part))
            except ValidationError as exc:
                errors[index] = exc.messages
        if errors:
            raise ValidationError(errors)
        return parts


class FunctionCallSchema(Lenient):
    name = StrictString(required=True, validate=FUNCTION_NAME)
    arguments = StrictString(required=True)


class GoogleToolCallSchema(Lenient):
    """What Google's compatibility layer attaches to a tool call (and expects back with it)."""
    thought_signature = StrictString(allow_none=True)


class ToolCallExtraContentSchema(Lenient):
    google = fields.Nested(GoogleToolCallSchema, allow_none=True, error_messages={"type": "must be an object"})


class ToolCallSchema(Lenient):
    id = StrictString(required=True, validate=validate.Length(min=1))
    type = StrictString(validate=validate.OneOf(("function",)))
    function = fields.Nested(FunctionCallSchema, required=True)
    extra_content = fields.Nested(ToolCallExtraContentSchema, allow_none=True,
                                  error_messages={"type": "must be an object"})


class MessageSchema(Lenient):
    role = StrictString(required=True, validate=validate.OneOf(ROLES))
    content = Content(allow_none=True)
    name = StrictString()
    tool_calls = fields.List(fields.Nested(ToolCallSchema), allow_none=True)
    tool_call_id = StrictString(validate=validate.Length(min=1))
    function_call = Present((None,))

    @validates_schema
    def _shape_for_role(self, data, **kwargs):
        role = data["role"]
        if role == "function" or data.get("function_call") is not None:
            raise ValidationError("legacy function messages are not supported: use tools and tool messages", "role")
        if role == "tool" and not data.get("tool_call_id"):
            raise ValidationError("is required for tool messages", "tool_call_id")
        if data.get("tool_calls") and role != "assistant":
            raise ValidationError("only assistant messages carry tool calls", "tool_calls")
        if data.get("content") is None and not (role == "assistant" and data.get("tool_calls")):
            raise ValidationError("is required" if "content" not in data else "must not be null", "content")
        if role in TEXT_ONLY_ROLES and any(p["type"] != "text" for p in data.get("content") or ()):
            raise ValidationError(f"{role} messages may only contain text", "content")


class FunctionSchema(Lenient):
    name = StrictString(required=True, validate=FUNCTION_NAME)
    description = StrictString()
    parameters = fields.Dict()
    strict = StrictBoolean(allow_none=True)


class ToolSchema(Lenient):
    type = StrictString(required=True,
                        validate=validate.OneOf(("function",), error="only function tools are supported"))
    function = fields.Nested(FunctionSchema, required=True)


class ToolChoice(fields.Field):
    default_error_messages = {
        "invalid": 'must be "none", "auto", "required" or {{"type": "function", "function": {{"name": ...}}}}'}

    def _deserialize(self, value, attr, data, **kwargs):
        if value in ("none", "auto", "required"):
            return value
        function = value.get("function") if isinstance(value, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str) or value.get("type", "function") != "function":
            raise self.make_error("invalid")
        return {"type": "function", "function": {"name": name}}


class JsonSchemaFormatSchema(Lenient):
    name = StrictString(required=True)
    description = StrictString()
    schema = fields.Dict()
    strict = StrictBoolean(allow_none=True)


class ResponseFormatSchema(Lenient):
    type = StrictString(required=True, validate=validate.OneOf(("text", "json_object", "json_schema")))
    json_schema = fields.Nested(JsonSchemaFormatSchema)

    @validates_schema
    def _schema_given(self, data, **kwargs):
        if data["type"] == "json_schema" and "json_schema" not in data:
            raise ValidationError("is required when type is json_schema", "json_schema")


class ApproximateLocationSchema(Lenient):
    country = StrictString(allow_none=True)
    region = StrictString(allow_none=True)
    city = StrictString(allow_none=True)
    timezone = StrictString(allow_none=True)


class UserLocationSchema(Lenient):
    type = StrictString(required=True, validate=validate.OneOf(("approximate",)))
    approximate = fields.Nested(ApproximateLocationSchema, required=True)


class WebSearchOptionsSchema(Lenient):
    """Turns on Google Search grounding. Gemini's search tool takes neither a location nor a
    context size: both are checked and then ignored (docs/compatibility.md)."""
    user_location = fields.Nested(UserLocationSchema, allow_none=True)
    search_context_size = StrictString(allow_none=True, validate=validate.OneOf(("low", "medium", "high")))


class StreamOptionsSchema(Lenient):
    include_usage = StrictBoolean()


class SamplingSchema(WithGoogleOptions):
    """The parameters chat and legacy completions share (both map onto one generation config)."""
    model = StrictString(validate=validate.Length(min=1))
    temperature = StrictNumber(allow_none=True, validate=validate.Range(0, 2))
    top_p = StrictNumber(allow_none=True, validate=validate.Range(0, 1))
    top_k = StrictInteger(allow_none=True, validate=validate.Range(1, INT32_MAX))
    max_tokens = StrictInteger(allow_none=True, validate=validate.Range(1, INT32_MAX))
    stop = StringOrList(max_items=5, allow_none=True)
    n = StrictInteger(allow_none=True, validate=validate.Range(1, 8))
    seed = StrictInteger(allow_none=True, validate=validate.Range(INT32_MIN, INT32_MAX))
    presence_penalty = StrictNumber(allow_none=True, validate=validate.Range(-2, 2))
    frequency_penalty = StrictNumber(allow_none=True, validate=validate.Range(-2, 2))
    stream = StrictBoolean(allow_none=True)
    stream_options = fields.Nested(StreamOptionsSchema, allow_none=True)
    user = StrictString(allow_none=True)
    reasoning_effort = StrictString(allow_none=True, validate=validate.OneOf(REASONING_EFFORTS))
    google, extra_body = google_fields(GENERATION_OPTIONS)


class ChatCompletionSchema(SamplingSchema):
    messages = fields.List(fields.Nested(MessageSchema), required=True,
                           validate=validate.Length(min=1, error="must be a non-empty array"))
    max_completion_tokens = StrictInteger(allow_none=True, validate=validate.Range(1, INT32_MAX))
    tools = fields.List(fields.Nested(ToolSchema), allow_none=True)
    tool_choice = ToolChoice(allow_none=True)
    parallel_tool_calls = StrictBoolean(allow_none=True)
    response_format = fields.Nested(ResponseFormatSchema, allow_none=True)
    logprobs = StrictBoolean(allow_none=True)
    top_logprobs = StrictInteger(allow_none=True, validate=validate.Range(0, 20))
    web_search_options = fields.Nested(WebSearchOptionsSchema, allow_none=True)
    service_tier = StrictString(allow_none=True, validate=validate.OneOf(SERVICE_TIERS))

    functions = Present(UNSUPPORTED["functions"])
    function_call = Present(UNSUPPORTED["function_call"])
    modalities = Present(UNSUPPORTED["modalities"])
    audio = Present(UNSUPPORTED["audio"])
    logit_bias = Present(UNSUPPORTED["logit_bias"])
    prediction = Present(UNSUPPORTED["prediction"])

    def __init__(self, max_messages: int, max_tools: int = 128, max_parts: int = 4096, **kwargs):
        super().__init__(**kwargs)
        self.max_messages = max_messages
        self.max_tools = max_tools
        self.max_parts = max_parts

    @pre_load
    def _count_first(self, data, **kwargs):
        refuse_long_lists(data, {"messages": (self.max_messages, "messages"), "tools": (self.max_tools, "tools")})
        refuse_many_parts(data, "messages", ("content", "tool_calls"), self.max_parts, "content parts and tool calls")
        return data

    @validates_schema
    def _unsupported(self, data, **kwargs):
        refuse_unsupported(self, data)

    @validates_schema
    def _tool_choice_names_a_tool(self, data, **kwargs):
        choice, names = data.get("tool_choice"), {t["function"]["name"] for t in data.get("tools") or ()}
        if isinstance(choice, dict) and choice["function"]["name"] not in names:
            raise ValidationError(f"names no function in `tools`: {choice['function']['name']!r}", "tool_choice")
        if choice == "required" and not names:
            raise ValidationError('"required" needs `tools`', "tool_choice")
