"""The request schemas of POST /v1/responses and POST /v1/responses/input_tokens.

Items and their parts are in response_items.py. Tool types this gateway cannot serve (OpenAI's
hosted tools) are refused naming `tools[i].type`; modelled parameters it cannot honour are
refused by name unless they have their "off" value, as for chat.
"""
from __future__ import annotations

from marshmallow import ValidationError, fields, post_load, pre_load, validate, validates_schema

from gemini_proxy.schemas.chat import FUNCTION_NAME, SERVICE_TIERS
from gemini_proxy.schemas.fields import (
    INT32_MAX,
    Lenient,
    Present,
    StrictBoolean,
    StrictInteger,
    StrictNumber,
    StrictString,
    refuse_long_lists,
    refuse_many_parts,
    refuse_unsupported,
)
from gemini_proxy.schemas.google import GENERATION_OPTIONS, WithGoogleOptions, google_fields
from gemini_proxy.schemas.response_items import Input, instances, load_each

INCLUDE = ("file_search_call.results", "web_search_call.results", "web_search_call.action.sources",
           "message.input_image.image_url", "computer_call_output.output.image_url", "code_interpreter_call.outputs",
           "reasoning.encrypted_content", "message.output_text.logprobs")
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
# Codex's config also knows "none" (no summary), and sends it as it is.
SUMMARIES = ("auto", "concise", "detailed", "none")
WEB_SEARCH_TOOLS = ("web_search", "web_search_2025_08_26", "web_search_preview", "web_search_preview_2025_03_11")
HOSTED_TOOLS = ("file_search", "computer", "computer_use", "computer_use_preview", "code_interpreter",
                "image_generation", "mcp", "shell", "apply_patch", "tool_search", "programmatic_tool_calling")
UNSUPPORTED = {
    "background": (None, False),
    "conversation": (None,),
    "prompt": (None,),
    "context_management": (None,),
    "moderation": (None,),
}


class FunctionTool(Lenient):
    name = StrictString(required=True, validate=FUNCTION_NAME)
    description = StrictString(allow_none=True)
    parameters = fields.Dict(allow_none=True)
    strict = StrictBoolean(allow_none=True)

    @pre_load
    def _flat(self, data, **kwargs):
        if isinstance(data, dict) and "name" not in data and isinstance(data.get("function"), dict):
            raise ValidationError("Responses function tools are flat ({type, name, parameters}), not chat's "
                                  "{type, function: {...}}", "name")
        return data


class CustomFormat(Lenient):
    type = StrictString(required=True, validate=validate.OneOf(("text", "grammar")))
    syntax = StrictString(validate=validate.OneOf(("lark", "regex")))
    definition = StrictString()

    @validates_schema
    def _grammar(self, data, **kwargs):
        if data["type"] == "grammar" and not (data.get("syntax") and data.get("definition")):
            raise ValidationError("a grammar format needs `syntax` and `definition`", "definition")


class CustomTool(Lenient):
    name = StrictString(required=True, validate=FUNCTION_NAME)
    description = StrictString(allow_none=True)
    format = fields.Nested(CustomFormat, allow_none=True)


class LocalShellTool(Lenient):
    pass


class WebSearchTool(Lenient):
    """user_location, filters and search_context_size have no Gemini counterpart: tolerated."""


class NamespaceTool(Lenient):
    name = StrictString(required=True, validate=FUNCTION_NAME)
    description = StrictString(allow_none=True)
    tools = fields.Raw(required=True)

    MEMBERS = {"function": FunctionTool(), "custom": CustomTool()}

    @post_load
    def _members(self, data, **kwargs):
        if not isinstance(data["tools"], list) or not data["tools"]:
            raise ValidationError("must be a non-empty array", "tools")
        try:
            data["tools"] = load_each(data["tools"], self.MEMBERS, "tools of a namespace")
        except ValidationError as exc:
            raise ValidationError(exc.messages, "tools") from exc
        return data


TOOLS = {"function": FunctionTool, "custom": CustomTool, "local_shell": LocalShellTool, "namespace": NamespaceTool,
         **dict.fromkeys(WEB_SEARCH_TOOLS, WebSearchTool)}


class Tools(fields.Field):
    default_error_messages = {"invalid": "must be an array of tools"}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.kinds = instances(TOOLS)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise self.make_error("invalid")
        errors = {index: {"type": [f"{tool['type']!r} tools are not supported by this gateway (it serves "
                                   "function, custom, local_shell, namespace and web_search tools)"]}
                  for index, tool in enumerate(value) if isinstance(tool, dict) and tool.get("type") in HOSTED_TOOLS}
        if errors:
            raise ValidationError(errors)
        return load_each(value, self.kinds, "tool types")


class ToolChoice(fields.Field):
    """"none" | "auto" | "required" | {type, name?, mode?, tools?}: which names exist is checked
    against `tools` when the request is translated."""

    default_error_messages = {"invalid": 'must be "none", "auto", "required" or an object with a `type`'}

    def _deserialize(self, value, attr, data, **kwargs):
        if value in ("none", "auto", "required"):
            return value
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            raise self.make_error("invalid")
        return value


class ReasoningOptions(Lenient):
    effort = StrictString(allow_none=True, validate=validate.OneOf(EFFORTS))
    summary = StrictString(allow_none=True, validate=validate.OneOf(SUMMARIES))
    generate_summary = StrictString(allow_none=True, validate=validate.OneOf(SUMMARIES))

    @post_load
    def _one_summary(self, data, **kwargs):
        # generate_summary is the deprecated name of summary.
        deprecated = data.pop("generate_summary", None)
        if data.get("summary") is None and deprecated is not None:
            data["summary"] = deprecated
        if data.get("summary") == "none":
            data["summary"] = None
        return data


class TextFormat(Lenient):
    type = StrictString(required=True, validate=validate.OneOf(("text", "json_object", "json_schema")))
    name = StrictString(validate=validate.Length(1, 64))
    description = StrictString(allow_none=True)
    schema = fields.Dict()
    strict = StrictBoolean(allow_none=True)

    @validates_schema
    def _named(self, data, **kwargs):
        if data["type"] == "json_schema" and "name" not in data:
            raise ValidationError("is required when type is json_schema", "name")


class TextOptions(Lenient):
    format = fields.Nested(TextFormat, allow_none=True)
    verbosity = StrictString(allow_none=True, validate=validate.OneOf(("low", "medium", "high")))


class StreamOptions(Lenient):
    include_obfuscation = StrictBoolean(allow_none=True)


class ResponseInputSchema(WithGoogleOptions):
    """What both routes translate into a Gemini request (input_tokens takes this much)."""
    model = StrictString(required=True, validate=validate.Length(min=1))
    input = Input(required=True)
    instructions = StrictString(allow_none=True)
    previous_response_id = StrictString(allow_none=True, validate=validate.Length(min=1))
    tools = Tools(allow_none=True)
    tool_choice = ToolChoice(allow_none=True)
    parallel_tool_calls = StrictBoolean(allow_none=True)
    text = fields.Nested(TextOptions, allow_none=True)
    reasoning = fields.Nested(ReasoningOptions, allow_none=True)
    truncation = StrictString(allow_none=True, validate=validate.OneOf(("auto", "disabled")))
    conversation = Present(UNSUPPORTED["conversation"])
    google, extra_body = google_fields(GENERATION_OPTIONS)

    def __init__(self, max_items: int, max_tools: int = 128, max_parts: int = 4096, **kwargs):
        super().__init__(**kwargs)
        self.max_items = max_items
        self.max_tools = max_tools
        self.max_parts = max_parts

    @pre_load
    def _count_first(self, data, **kwargs):
        refuse_long_lists(data, {"input": (self.max_items, "items"), "tools": (self.max_tools, "tools")})
        refuse_many_parts(data, "input", ("content", "output"), self.max_parts, "content parts")
        tools = data.get("tools") if isinstance(data, dict) else None
        if isinstance(tools, list):
            members = sum(len(tool["tools"]) for tool in tools if isinstance(tool, dict)
                          and isinstance(tool.get("tools"), list))
            if members + len(tools) > self.max_tools:
                raise ValidationError(f"must have at most {self.max_tools} tools, namespaces' tools included",
                                      "tools")
        return data

    @validates_schema
    def _unsupported(self, data, **kwargs):
        refuse_unsupported(self, data)


class CreateResponseSchema(ResponseInputSchema):
    stream = StrictBoolean(allow_none=True)
    stream_options = fields.Nested(StreamOptions, allow_none=True)
    store = StrictBoolean(allow_none=True)
    include = fields.List(StrictString(validate=validate.OneOf(INCLUDE)), allow_none=True)
    max_output_tokens = StrictInteger(allow_none=True, validate=validate.Range(16, INT32_MAX))
    max_tool_calls = StrictInteger(allow_none=True, validate=validate.Range(0, INT32_MAX))
    temperature = StrictNumber(allow_none=True, validate=validate.Range(0, 2))
    top_p = StrictNumber(allow_none=True, validate=validate.Range(0, 1))
    top_logprobs = StrictInteger(allow_none=True, validate=validate.Range(0, 20))
    metadata = fields.Dict(keys=StrictString(validate=validate.Length(max=64)),
                           values=StrictString(validate=validate.Length(max=512)), allow_none=True,
                           validate=validate.Length(max=16, error="must have at most 16 keys"))
    user = StrictString(allow_none=True)
    safety_identifier = StrictString(allow_none=True, validate=validate.Length(max=64))
    prompt_cache_key = StrictString(allow_none=True)
    prompt_cache_retention = StrictString(allow_none=True)
    service_tier = StrictString(allow_none=True, validate=validate.OneOf(SERVICE_TIERS))

    background = Present(UNSUPPORTED["background"])
    prompt = Present(UNSUPPORTED["prompt"])
    context_management = Present(UNSUPPORTED["context_management"])
    moderation = Present(UNSUPPORTED["moderation"])


class InputTokensSchema(ResponseInputSchema):
    """POST /v1/responses/input_tokens: the model may be left to the server's default, and the
    input to a previous response."""
    model = StrictString(allow_none=True, validate=validate.Length(min=1))
    input = Input(allow_none=True)
