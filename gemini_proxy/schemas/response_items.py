"""The items of a Responses request's `input`, and their content parts.

`input` loads as a list of items in one shape whatever the client sent (a string is one user
message; a message's string content is one text part; an item without `type` is a message when
it has a `role`, else an item_reference), which is also the shape input_items lists and the
store keeps. Item types this gateway cannot serve are refused naming `input[i].type`; the fields
of an item it does not use are dropped, and so are nulls (SDKs dump unset fields as null).
"""
from __future__ import annotations

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from gemini_proxy.schemas.fields import (
    INT32_MAX,
    Lenient,
    Present,
    StrictInteger,
    StrictString,
    refuse_file_id,
)

# OpenAI's hosted tools leave these in a conversation: nothing here can have made them.
HOSTED_ITEMS = ("compaction", "compaction_summary", "computer_call", "computer_call_output", "file_search_call",
                "code_interpreter_call", "image_generation_call", "mcp_list_tools", "mcp_approval_request",
                "mcp_approval_response", "mcp_call", "shell_call", "shell_call_output", "apply_patch_call",
                "apply_patch_call_output", "tool_search_call", "tool_search_output", "additional_tools", "program",
                "program_output")
CALL_ID = validate.Length(1, 64)
STATUS = validate.OneOf(("in_progress", "completed", "incomplete"))


class InputText(Lenient):
    text = StrictString(required=True)


class OutputText(Lenient):
    text = StrictString(required=True)
    annotations = fields.List(fields.Dict(), allow_none=True, load_default=list)
    logprobs = fields.List(fields.Dict(), allow_none=True, load_default=list)

    @post_load
    def _lists(self, data, **kwargs):
        return {"text": data["text"], "annotations": data["annotations"] or [], "logprobs": data["logprobs"] or []}


class Refusal(Lenient):
    refusal = StrictString(required=True)


class InlinePart(Lenient):
    """A part whose bytes come inline or by URL: `file_id` is taken only as null, and not kept."""
    file_id = Present((None,))

    @post_load
    def _no_file_id(self, data, **kwargs):
        data.pop("file_id", None)
        return data


class InputImage(InlinePart):
    image_url = StrictString(allow_none=True, validate=validate.Length(min=1))
    detail = StrictString(load_default="auto", validate=validate.OneOf(("auto", "low", "high", "original")))

    @validates_schema
    def _url_only(self, data, **kwargs):
        refuse_file_id(data, "send the image as `image_url` (a data: or http(s) URL)")
        if data.get("image_url") is None:
            raise ValidationError("is required", "image_url")


class InputFile(InlinePart):
    file_data = StrictString(validate=validate.Length(min=1))
    file_url = StrictString(validate=validate.Length(min=1))
    filename = StrictString()

    @validates_schema
    def _data_or_url(self, data, **kwargs):
        refuse_file_id(data, "send the file inline as `file_data` or as `file_url`")
        if ("file_data" in data) == ("file_url" in data):
            raise ValidationError("give exactly one of `file_data` and `file_url`", "file_data")


class AudioData(Lenient):
    data = StrictString(required=True, validate=validate.Length(min=1))
    format = StrictString(required=True)


class InputAudio(Lenient):
    """Not in OpenAI's Responses spec (chat's input_audio part), taken as an extension."""
    input_audio = fields.Nested(AudioData, required=True)


USER_PARTS = {"input_text": InputText, "input_image": InputImage, "input_file": InputFile,
              "input_audio": InputAudio}
TEXT_PARTS = {"input_text": InputText}
# Earlier answers come back as output_text (or input_text from clients that build them by hand).
ASSISTANT_PARTS = {"output_text": OutputText, "refusal": Refusal, "input_text": InputText}
TOOL_OUTPUT_PARTS = {"input_text": InputText, "input_image": InputImage, "input_file": InputFile}


def instances(kinds: dict[str, type]) -> dict:
    return {kind: schema() for kind, schema in kinds.items()}


def load_each(values: list, kinds: dict, what: str) -> list[dict]:
    """Each of `values` (objects with a `type`) loaded by the schema of its type (`kinds`: type ->
    schema instance); errors by index."""
    loaded, errors = [], {}
    for index, value in enumerate(values):
        kind = value.get("type") if isinstance(value, dict) else None
        try:
            if not isinstance(value, dict):
                raise ValidationError("must be an object")
            if not isinstance(kind, str) or kind not in kinds:
                raise ValidationError({"type": [f"must be one of: {', '.join(kinds)} ({what})"]})
            # A null is an optional field left out (SDKs dump unset fields as null).
            loaded.append({"type": kind, **{key: field for key, field in kinds[kind].load(value).items()
                                            if field is not None}})
        except ValidationError as exc:
            errors[index] = exc.messages
    if errors:
        raise ValidationError(errors)
    return loaded


class PartList(fields.Field):
    """A string (one text part of `text_type`) or a list of parts of the given types."""

    default_error_messages = {"invalid": "must be a string or an array of content parts"}

    def __init__(self, kinds: dict[str, type], text_type: str, what: str, **kwargs):
        super().__init__(**kwargs)
        self.kinds, self.text_type, self.what = instances(kinds), text_type, what

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            return [{"type": self.text_type, **self.kinds[self.text_type].load({"text": value})}]
        if not isinstance(value, list):
            raise self.make_error("invalid")
        return load_each(value, self.kinds, self.what)


class Message(Lenient):
    id = StrictString(allow_none=True, validate=validate.Length(min=1))
    role = StrictString(required=True, validate=validate.OneOf(("user", "assistant", "system", "developer")))
    content = fields.Raw(required=True)
    status = StrictString(allow_none=True, validate=STATUS)

    # Which parts a message may hold depends on its role (a dict, so marshmallow sees no fields).
    CONTENT = {"user": PartList(USER_PARTS, "input_text", "user messages"),
               "assistant": PartList(ASSISTANT_PARTS, "output_text", "assistant messages"),
               "system": PartList(TEXT_PARTS, "input_text", "system messages: text only"),
               "developer": PartList(TEXT_PARTS, "input_text", "developer messages: text only")}

    @post_load
    def _content_for_role(self, data, **kwargs):
        try:
            data["content"] = self.CONTENT[data["role"]].deserialize(data["content"])
        except ValidationError as exc:
            raise ValidationError(exc.messages, "content") from exc
        return data


class ToolCall(Lenient):
    """What function_call and custom_tool_call items share."""
    id = StrictString(allow_none=True, validate=validate.Length(min=1))
    call_id = StrictString(required=True, validate=validate.Length(min=1))
    name = StrictString(required=True, validate=validate.Length(min=1))
    namespace = StrictString(allow_none=True, validate=validate.Length(min=1))


class FunctionCall(ToolCall):
    arguments = StrictString(required=True)
    status = StrictString(allow_none=True, validate=STATUS)


class ToolOutput(fields.Field):
    default_error_messages = {"invalid": "must be a string or an array of input_text, input_image, input_file parts"}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.kinds = instances(TOOL_OUTPUT_PARTS)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            return value
        if not isinstance(value, list):
            raise self.make_error("invalid")
        return load_each(value, self.kinds, "tool outputs")


class FunctionCallOutput(Lenient):
    id = StrictString(allow_none=True, validate=validate.Length(min=1))
    call_id = StrictString(required=True, validate=CALL_ID)
    output = ToolOutput(required=True)
    name = StrictString(allow_none=True, validate=validate.Length(min=1))
    status = StrictString(allow_none=True, validate=STATUS)


class Reasoning(Lenient):
    id = StrictString(allow_none=True, validate=validate.Length(min=1))
    summary = fields.List(fields.Dict(), allow_none=True, load_default=list)
    encrypted_content = StrictString(allow_none=True)
    status = StrictString(allow_none=True, validate=STATUS)


class ItemReference(Lenient):
    id = StrictString(required=True, validate=validate.Length(min=1))


class CustomToolCall(ToolCall):
    input = StrictString(required=True)
    status = StrictString(allow_none=True, validate=STATUS)


class CustomToolCallOutput(Lenient):
    id = StrictString(allow_none=True, validate=validate.Length(min=1))
    call_id = StrictString(required=True, validate=CALL_ID)
    output = ToolOutput(required=True)
    status = StrictString(allow_none=True, validate=STATUS)


class ShellAction(Lenient):
    type = StrictString(load_default="exec", validate=validate.OneOf(("exec",)))
    command = fields.List(StrictString(), required=True, validate=validate.Length(min=1))
    working_directory = StrictString(allow_none=True)
    timeout_ms = StrictInteger(allow_none=True, validate=validate.Range(0, INT32_MAX))
    env = fields.Dict(keys=StrictString(), values=StrictString(), load_default=dict)
    user = StrictString(allow_none=True)


class LocalShellCall(Lenient):
    id = StrictString(allow_none=True, validate=validate.Length(min=1))
    call_id = StrictString(required=True, validate=validate.Length(min=1))
    action = fields.Nested(ShellAction, required=True)
    status = StrictString(allow_none=True, validate=STATUS)


class LocalShellCallOutput(Lenient):
    # OpenAI's spec describes `id` as the call's id; clients send call_id.
    id = StrictString(allow_none=True, validate=validate.Length(min=1))
    call_id = StrictString(validate=CALL_ID)
    output = StrictString(required=True)
    status = StrictString(allow_none=True, validate=STATUS)

    @validates_schema
    def _names_a_call(self, data, **kwargs):
        if "call_id" not in data and "id" not in data:
            raise ValidationError("Missing data for required field.", "call_id")


class WebSearchCall(Lenient):
    """Kept in the list (the answer after it cites it); Gemini gets nothing for it."""
    id = StrictString(allow_none=True, validate=validate.Length(min=1))
    status = StrictString(allow_none=True, validate=STATUS)
    action = fields.Dict()


ITEMS = {
    "message": Message, "function_call": FunctionCall, "function_call_output": FunctionCallOutput,
    "reasoning": Reasoning, "item_reference": ItemReference, "custom_tool_call": CustomToolCall,
    "custom_tool_call_output": CustomToolCallOutput, "local_shell_call": LocalShellCall,
    "local_shell_call_output": LocalShellCallOutput, "web_search_call": WebSearchCall,
}


class Input(fields.Field):
    """OpenAI's `input`: a string or a list of items, always loaded as a list of items."""

    default_error_messages = {"invalid": "must be a string or an array of input items",
                              "empty": "must not be an empty array"}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.kinds = instances(ITEMS)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            return [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": value}]}]
        if not isinstance(value, list):
            raise self.make_error("invalid")
        if not value:
            raise self.make_error("empty")
        errors = {}
        for index, item in enumerate(value):
            kind = _item_type(item)
            if kind in HOSTED_ITEMS:
                errors[index] = {"type": [f"{kind!r} items are not supported by this gateway"]}
        if errors:
            raise ValidationError(errors)
        return load_each([{**item, "type": _item_type(item)} if isinstance(item, dict) else item
                           for item in value], self.kinds, "input items")


def _item_type(item) -> str | None:
    if not isinstance(item, dict):
        return None
    if item.get("type") is not None:
        return item["type"]
    # EasyInputMessage and ItemReferenceParam may leave `type` out.
    return "message" if "role" in item else "item_reference"
