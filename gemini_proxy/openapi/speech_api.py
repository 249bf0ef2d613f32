"""POST /v1/audio/speech in the OpenAPI document: its operation, the speech SSE events, and the
JSON Schema of the custom `voice` field (its request body is generated from SpeechSchema)."""
from __future__ import annotations

from gemini_proxy.config import Settings
from gemini_proxy.media.audio_encoder import CONTENT_TYPES
from gemini_proxy.openapi.operations import API_ERRORS, GENERATION_HEADERS, SSE, Operation, json_text
from gemini_proxy.translate.models import MODEL_ID_PATTERN
from gemini_proxy.translate.speech import GEMINI_VOICES, OPENAI_VOICES

_AUDIO = {"schema": {"type": "string", "format": "binary"}}
_USAGE = {"type": "object", "required": ["input_tokens", "output_tokens", "total_tokens"], "properties": {
    name: {"type": "integer"} for name in ("input_tokens", "output_tokens", "total_tokens")}}

COMPONENTS = {
    "SpeechAudioDeltaEvent": {"type": "object", "required": ["type", "audio"], "properties": {
        "type": {"type": "string", "const": "speech.audio.delta"},
        "audio": {"type": "string", "contentEncoding": "base64",
                  "description": "The next piece of the audio file, in `response_format`."}}},
    "SpeechAudioDoneEvent": {"type": "object", "required": ["type", "usage"], "properties": {
        "type": {"type": "string", "const": "speech.audio.done"},
        "usage": {**_USAGE, "description": "Gemini's prompt tokens, and its audio tokens (32 a second)."}}},
}

VOICE = {
    "anyOf": [{"type": "string", "enum": [*OPENAI_VOICES, *GEMINI_VOICES]},
              {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}},
               "additionalProperties": False}],
    "description": "An OpenAI voice (mapped to a Gemini voice: docs/compatibility.md) or one of Gemini's 30 prebuilt "
                   "voices, in any case; `{\"id\": name}` too. Anything else is 400 naming `voice`.",
}

_SPEECH_SSE = {
    "schema": {"type": "object", "required": ["data"], "description": (
        "With `stream_format: \"sse\"`: `data: <event>` events, speech.audio.delta with each piece of the "
        "encoded audio, then speech.audio.done with the usage; no [DONE]. A failure after the start is one "
        "`data: {\"error\": ...}` event."),
        "properties": {"data": {"anyOf": [json_text("SpeechAudioDeltaEvent"), json_text("SpeechAudioDoneEvent"),
                                          json_text("Error")]}}},
}

OPERATIONS = {
    "speech.create_speech": Operation(
        "createSpeech", "Create speech", "Audio",
        {**{content_type: _AUDIO for content_type in dict.fromkeys(CONTENT_TYPES.values())}, SSE: _SPEECH_SSE},
        "Text to speech on Gemini's TTS models (`tts-1`, `tts-1-hd`, `gpt-4o-mini-tts` are aliases: "
        "SPEECH_MODEL_ALIASES). The audio is 24 kHz mono in `response_format` (default mp3), time-stretched by "
        "`speed`. Without `stream_format` it is one file (with Content-Length); `stream_format: \"audio\"` "
        "streams the file as Gemini speaks (chunked); `\"sse\"` sends speech.audio.delta events.",
        request="CreateSpeechRequest", errors=API_ERRORS, api=True, headers=GENERATION_HEADERS),
}


def limits(schema: dict, settings: Settings) -> None:
    """What CreateSpeechRequest's code checks from Settings: the input's length, the model names."""
    properties = schema["properties"]
    properties["input"].update({"minLength": 1, "maxLength": settings.max_speech_input})
    properties["model"]["anyOf"] = [{"pattern": MODEL_ID_PATTERN}, {"enum": sorted(settings.speech_model_aliases)}]
    properties["model"]["description"] = ("A Gemini TTS model id or a configured alias (SPEECH_MODEL_ALIASES); "
                                          "anything else is 400 invalid_model.")
