"""The request schema of POST /v1/audio/speech."""
from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates

from gemini_proxy.schemas.fields import Lenient, StrictNumber, StrictString

FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")  # media/audio_encoder.py encodes each
STREAM_FORMATS = ("audio", "sse")
MAX_INSTRUCTIONS = 4096  # OpenAI's limit


class Voice(fields.Field):
    """OpenAI's voice: a name, or a custom voice {"id": name}; loaded as the name (the relay maps it)."""

    default_error_messages = {"invalid": "must be a voice name or an object with an `id`"}

    def _deserialize(self, value, attr, data, **kwargs):
        name = value.get("id") if isinstance(value, dict) and set(value) == {"id"} else value
        if not isinstance(name, str) or not name.strip():
            raise self.make_error("invalid")
        return name


class SpeechSchema(Lenient):
    model = StrictString(required=True, validate=validate.Length(min=1))
    input = StrictString(required=True)
    voice = Voice(required=True)
    instructions = StrictString(allow_none=True, validate=validate.Length(max=MAX_INSTRUCTIONS))
    response_format = StrictString(allow_none=True, validate=validate.OneOf(FORMATS))
    speed = StrictNumber(allow_none=True, validate=validate.Range(0.25, 4.0))
    stream_format = StrictString(allow_none=True, validate=validate.OneOf(STREAM_FORMATS))

    def __init__(self, max_input: int, **kwargs):
        super().__init__(**kwargs)
        self.max_input = max_input

    @validates("input")
    def _input(self, text, **kwargs):
        if not text.strip():
            raise ValidationError("must not be empty")
        if len(text) > self.max_input:
            raise ValidationError(f"must be at most {self.max_input} characters (got {len(text)})")
