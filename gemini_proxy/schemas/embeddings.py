"""The request schema of POST /v1/embeddings."""
from __future__ import annotations

from marshmallow import ValidationError, validate, validates_schema

from gemini_proxy.schemas.fields import INT32_MAX, StrictInteger, StrictString, TextInput
from gemini_proxy.schemas.google import EMBEDDING_OPTIONS, WithGoogleOptions, google_fields

ENCODING_FORMATS = ("float", "base64")


class EmbeddingSchema(WithGoogleOptions):
    model = StrictString(validate=validate.Length(min=1))
    input = TextInput(required=True)
    encoding_format = StrictString(allow_none=True, validate=validate.OneOf(ENCODING_FORMATS))
    dimensions = StrictInteger(allow_none=True, validate=validate.Range(1, INT32_MAX))
    user = StrictString(allow_none=True)
    # The openai SDK sends extra_body={"task_type": ...} as top-level fields.
    task_type = StrictString(allow_none=True, validate=validate.Length(min=1))
    title = StrictString(allow_none=True)
    google, extra_body = google_fields(EMBEDDING_OPTIONS)

    def __init__(self, max_inputs: int, **kwargs):
        super().__init__(**kwargs)
        self.max_inputs = max_inputs
        self.fields["input"].max_items = max_inputs

    @validates_schema
    def _options(self, data, **kwargs):
        googles = [data.get("google") or {}, (data.get("extra_body") or {}).get("google") or {}]
        for name in ("task_type", "title"):
            if data.get(name) is not None and any(google.get(name) is not None for google in googles):
                raise ValidationError(f"set `{name}` or extra_body.google.{name}, not both", name)
