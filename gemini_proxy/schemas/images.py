"""The request schemas of POST /v1/images/generations (JSON) and /v1/images/edits (multipart form
fields; the files are read by the view)."""
from __future__ import annotations

from marshmallow import ValidationError, validate, validates_schema

from gemini_proxy.schemas.fields import Lenient, Present, StrictBoolean, StrictInteger, StrictString, refuse_unsupported

QUALITIES = ("standard", "hd", "low", "medium", "high", "auto")
OUTPUT_FORMATS = ("png", "jpeg", "webp")
MAX_PROMPT = 32000  # OpenAI's limit for the GPT image models
MAX_IMAGES = 10
# Why each refused value is refused: the gateway says so instead of answering something else.
REFUSALS = {
    "response_format": "`url` is not supported: Gemini returns image bytes and this gateway does not host them; "
                       "use `b64_json` (the default here)",
    "background": "`transparent` is not supported: Gemini's image models draw opaque images",
    "stream": "streamed image generation (partial images) is not supported: Gemini sends each image whole",
}


class ImageGenerationSchema(Lenient):
    prompt = StrictString(required=True, validate=validate.Length(min=1, max=MAX_PROMPT))
    model = StrictString(allow_none=True, validate=validate.Length(min=1))
    n = StrictInteger(allow_none=True, validate=validate.Range(1, MAX_IMAGES))
    size = StrictString(allow_none=True, validate=validate.Length(min=1, max=32))
    quality = StrictString(allow_none=True, validate=validate.OneOf(QUALITIES))
    response_format = StrictString(allow_none=True, validate=validate.OneOf(("url", "b64_json")))
    output_format = StrictString(allow_none=True, validate=validate.OneOf(OUTPUT_FORMATS))
    output_compression = StrictInteger(allow_none=True, validate=validate.Range(0, 100))
    background = StrictString(allow_none=True, validate=validate.OneOf(("transparent", "opaque", "auto")))
    # Taken and ignored, as OpenAI allows: Gemini has no equivalents.
    style = StrictString(allow_none=True, validate=validate.OneOf(("vivid", "natural")))
    moderation = StrictString(allow_none=True, validate=validate.OneOf(("low", "auto")))
    user = StrictString(allow_none=True)
    stream = StrictBoolean(allow_none=True)
    partial_images = StrictInteger(allow_none=True, validate=validate.Range(0, 3))

    @validates_schema
    def _refused(self, data, **kwargs):
        refuse_unsupported(self, data)
        for name, refused in (("response_format", "url"), ("background", "transparent"), ("stream", True)):
            if data.get(name) == refused:
                raise ValidationError(REFUSALS[name], name)


class ImageEditSchema(ImageGenerationSchema):
    """The form fields of an edit. Form values are strings: the view turns the numeric ones into integers
    first (a value that is not one stays a string, and is refused naming its field)."""
    input_fidelity = StrictString(allow_none=True, validate=validate.OneOf(("high", "low")))
    # Gemini edits from the prompt alone: a mask sent as a form field is refused by name (as a file: the view).
    mask = Present((None,))


FORM_INTEGERS = ("n", "output_compression", "partial_images")
FORM_BOOLEANS = ("stream",)


def form_fields(form: dict[str, str]) -> dict:
    """Multipart form fields as the JSON values the schema takes."""
    fields: dict = dict(form)
    for name in FORM_INTEGERS:
        if name in fields and fields[name].strip().lstrip("-").isdigit():
            fields[name] = int(fields[name])
    for name in FORM_BOOLEANS:
        if name in fields and fields[name] in ("true", "false"):
            fields[name] = fields[name] == "true"
    return fields
