"""The request schemas of POST /v1/audio/transcriptions and /v1/audio/translations: multipart
form fields, so every value arrives as a string (numbers and booleans are parsed from text) and
lists as repeated fields (`timestamp_granularities[]`, `include[]`: form_fields gathers them)."""
from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from gemini_proxy.errors import invalid_request
from gemini_proxy.schemas.fields import Lenient

FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
LISTS = ("timestamp_granularities", "include")


def form_fields(form) -> dict:
    """The form as one dict: single fields as their value, LISTS from `name[]` or repeated `name`."""
    # A part without a name comes as the key None.
    data = {key: form.get(key) for key in form if isinstance(key, str) and not key.endswith("[]") and key not in LISTS}
    for name in LISTS:
        values = form.getlist(f"{name}[]") + form.getlist(name)
        if values:
            data[name] = values
    return data


class TranslationSchema(Lenient):
    model = fields.String(required=True, validate=validate.Length(min=1))
    prompt = fields.String(allow_none=True)
    response_format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))
    temperature = fields.Float(allow_none=True, allow_nan=False, validate=validate.Range(0, 1))


class TranscriptionSchema(TranslationSchema):
    language = fields.String(allow_none=True, validate=validate.Regexp(
        r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$", error="must be an ISO-639-1 language code such as `en`"))
    timestamp_granularities = fields.List(fields.String(validate=validate.OneOf(("word", "segment"))))
    include = fields.List(fields.String(validate=validate.OneOf(("logprobs",))))
    stream = fields.Boolean(allow_none=True)

    @validates_schema
    def _supported(self, data, **kwargs):
        granularities = data.get("timestamp_granularities") or []
        if "word" in granularities:
            raise invalid_request("Word timestamps (`timestamp_granularities[]=word`) are not supported: Gemini gives "
                                  "no word-level timing, and this gateway does not invent it. Use `segment`.",
                                  "timestamp_granularities", "unsupported_parameter")
        if granularities and data.get("response_format") != "verbose_json":
            raise ValidationError("`response_format` must be `verbose_json` to use timestamp granularities",
                                  "timestamp_granularities")
        if data.get("include"):
            raise invalid_request("`include[]=logprobs` is not supported: Gemini gives no log probabilities of a "
                                  "transcript.", "include", "unsupported_parameter")
        if data.get("stream") and data.get("response_format") not in ("json", "text"):
            raise ValidationError("streaming is supported for the `json` and `text` response formats only", "stream")
