"""The request schema of POST /v1/embeddings."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from .fields import StrictInteger, StrictString

ENCODING_FORMATS = ("float", "base64")


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


def _is_token_array(value) -> bool:
    """OpenAI also takes pre-tokenised input: a list of token ids, or a list of such lists."""
    def ids(item):
        return isinstance(item, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in item)
    return isinstance(value, list) and bool(value) and (ids(value) or all(ids(item) for item in value))


class TextInput(fields.Field):
    """A string or a non-empty list of strings, always loaded as a list. Every text must have
    something to embed (Gemini refuses blank content); errors name the field, not an index."""

    default_error_messages = {
        "invalid": "must be a string or an array of strings",
        "tokens": "token arrays are not supported: Gemini embeds text, so send the input as strings",
        "empty_list": "must be a non-empty array",
        "blank": "must not be an empty string",
        "blank_item": "item {index} is an empty string",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        if _is_token_array(value):
            raise self.make_error("tokens")
        if isinstance(value, str):
            if not value.strip():
                raise self.make_error("blank")
            return [value]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.make_error("invalid")
        if not value:
            raise self.make_error("empty_list")
        for index, item in enumerate(value):
            if not item.strip():
                raise self.make_error("blank_item", index=index)
        return value


class GoogleEmbeddingSchema(_Lenient):
    """Gemini's own embedding options (extra_body={"google": {...}})."""
    task_type = StrictString(allow_none=True, validate=validate.Length(min=1))
    title = StrictString(allow_none=True)


class ExtraBodySchema(_Lenient):
    google = fields.Nested(GoogleEmbeddingSchema, allow_none=True)


class EmbeddingSchema(_Lenient):
    model = StrictString(validate=validate.Length(min=1))
    input = TextInput(required=True)
    encoding_format = StrictString(allow_none=True, validate=validate.OneOf(ENCODING_FORMATS))
    dimensions = StrictInteger(allow_none=True, validate=validate.Range(min=1))
    user = StrictString(allow_none=True)
    # The openai SDK sends extra_body={"task_type": ...} as top-level fields.
    task_type = StrictString(allow_none=True, validate=validate.Length(min=1))
    title = StrictString(allow_none=True)
    google = fields.Nested(GoogleEmbeddingSchema, allow_none=True)
    extra_body = fields.Nested(ExtraBodySchema, allow_none=True)

    def __init__(self, max_inputs: int, **kwargs):
        super().__init__(**kwargs)
        self.max_inputs = max_inputs

    @validates_schema
    def _limits_and_options(self, data, **kwargs):
        if len(data["input"]) > self.max_inputs:
            raise ValidationError(f"must have at most {self.max_inputs} items", "input")
        google = data.get("google") or (data.get("extra_body") or {}).get("google") or {}
        for name in ("task_type", "title"):
            if data.get(name) is not None and google.get(name) is not None:
                raise ValidationError(f"set `{name}` or extra_body.google.{name}, not both", name)
