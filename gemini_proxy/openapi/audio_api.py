"""/v1/audio/transcriptions and /v1/audio/translations in the OpenAPI document: multipart request
bodies (the audio file and form fields) and OpenAI's response shapes (JSON, plain text, SSE)."""
from __future__ import annotations

from gemini_proxy.openapi.operations import API_ERRORS, GENERATION_HEADERS, JSON, SSE, Operation, json_text
from gemini_proxy.openapi.responses import ref

MULTIPART = "multipart/form-data"
_FORMATS = ["json", "text", "srt", "verbose_json", "vtt"]
_FILE = {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream",
         "description": "The audio: flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav or webm (also aiff and aac). The "
                        "format is read from the bytes; m4a, mp4 and webm are transcoded to FLAC for Gemini. At most "
                        "MAX_AUDIO_BYTES (413 `file_too_large`)."}
_MODEL = {"type": "string", "description": "`whisper-1`, `gpt-4o-transcribe`, `gpt-4o-mini-transcribe` "
                                           "(TRANSCRIPTION_MODEL_ALIASES), a MODEL_ALIASES alias or a Gemini model id."}
_COMMON = {
    "file": _FILE,
    "model": _MODEL,
    "prompt": {"type": "string", "description": "Context for the model (names, spellings, style)."},
    "response_format": {"type": "string", "enum": _FORMATS, "default": "json", "description":
                        "srt, vtt and verbose_json ask Gemini for timed segments: their times are the model's "
                        "estimates, kept within the audio's real duration and in order."},
    "temperature": {"type": "number", "minimum": 0, "maximum": 1},
}
_SEGMENT = {"type": "object", "required": ["id", "seek", "start", "end", "text", "tokens", "temperature",
                                           "avg_logprob", "compression_ratio", "no_speech_prob"],
            "properties": {"id": {"type": "integer"}, "seek": {"type": "integer", "const": 0},
                           "start": {"type": "number"}, "end": {"type": "number"}, "text": {"type": "string"},
                           "tokens": {"type": "array", "items": {"type": "integer"}, "maxItems": 0},
                           "temperature": {"type": "number"},
                           "avg_logprob": {"type": "number", "description": "Gemini's avgLogprobs, else 0."},
                           "compression_ratio": {"type": "number"},
                           "no_speech_prob": {"type": "number", "const": 0}}}
_TOKENS = {"type": "object", "required": ["type", "input_tokens", "output_tokens", "total_tokens"], "properties": {
    "type": {"const": "tokens"}, "input_tokens": {"type": "integer"}, "output_tokens": {"type": "integer"},
    "total_tokens": {"type": "integer"}, "input_token_details": {"type": "object", "properties": {
        "text_tokens": {"type": "integer"}, "audio_tokens": {"type": "integer"}}}}}

COMPONENTS = {
    "CreateTranscriptionRequest": {"type": "object", "required": ["file", "model"], "properties": {
        **_COMMON,
        "language": {"type": "string", "description": "ISO-639-1 code of the spoken language (a hint)."},
        "timestamp_granularities[]": {"type": "array", "items": {"type": "string", "enum": ["segment"]},
                                      "description": "`segment` only, with verbose_json; `word` is 400."},
        "stream": {"type": "boolean", "description": "Server-sent transcript.text.delta events, then "
                                                     "transcript.text.done (json and text formats)."},
    }},
    "CreateTranslationRequest": {"type": "object", "required": ["file", "model"], "properties": _COMMON},
    "TranscriptionSegment": _SEGMENT,
    "Transcription": {"type": "object", "required": ["text"], "properties": {
        "text": {"type": "string"}, "usage": _TOKENS}},
    "TranscriptionVerbose": {"type": "object", "required": ["task", "language", "duration", "text", "segments"],
                             "properties": {
        "task": {"type": "string", "enum": ["transcribe", "translate"]},
        "language": {"type": "string", "description": "As the model names it (`english` for translations)."},
        "duration": {"type": "number", "description": "The audio's real duration in seconds."},
        "text": {"type": "string"},
        "segments": {"type": "array", "items": ref("TranscriptionSegment")},
        "usage": {"type": "object", "properties": {"type": {"const": "duration"}, "seconds": {"type": "number"}}}}},
    "TranscriptTextEvent": {"type": "object", "required": ["type"], "properties": {
        "type": {"type": "string", "enum": ["transcript.text.delta", "transcript.text.done"]},
        "delta": {"type": "string"}, "text": {"type": "string"}, "usage": _TOKENS}},
}

_TEXT = {"schema": {"type": "string"}, "example": "1\n00:00:00,000 --> 00:00:01,840\nHello there.\n\n"}
_OK = {JSON: {"schema": {"anyOf": [ref("Transcription"), ref("TranscriptionVerbose")]}},
       "text/plain": _TEXT, "text/vtt": {"schema": {"type": "string"}}}
_EVENTS = {SSE: {"schema": {"type": "object", "required": ["data"], "description": (
    "With `stream=true`: `data: <event JSON>` events, transcript.text.delta then one transcript.text.done, "
    "ending with `data: [DONE]`; a failure after the start is one `data: {\"error\": ...}` event."),
    "properties": {"data": {"anyOf": [json_text("TranscriptTextEvent"), json_text("Error"),
                                      {"type": "string", "const": "[DONE]"}]}}}}}

OPERATIONS = {
    "transcriptions.create_transcription": Operation(
        "createTranscription", "Transcribe audio", "Audio", {**_OK, **_EVENTS},
        "Answered by a Gemini model with audio understanding. text and srt are text/plain, vtt text/vtt.",
        request="CreateTranscriptionRequest", errors=API_ERRORS, api=True, headers=GENERATION_HEADERS,
        request_type=MULTIPART),
    "transcriptions.create_translation": Operation(
        "createTranslation", "Translate audio into English", "Audio", _OK,
        "As transcriptions, with the transcript translated into English.",
        request="CreateTranslationRequest", errors=API_ERRORS, api=True, headers=GENERATION_HEADERS,
        request_type=MULTIPART),
}
