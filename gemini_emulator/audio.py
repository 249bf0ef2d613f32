"""Audio understanding: audio parts validated like Gemini, and a transcript the emulator "hears".

Validation (400 INVALID_ARGUMENT, in Gemini's words):
    an inlineData or fileData part with an audio/* mimeType outside the audio formats Gemini
    documents (AUDIO_MIME_TYPES: AI Studio's and Vertex AI's)   "Unsupported MIME type: audio/x-m4a"
    inlineData adding up to more than 20 MiB       "Request payload size exceeds the limit:
    (base64 text, the way the request carries it)   20971520 bytes."

Hearing: when the last user turn holds an inlineData audio part and its text asks for a
transcript or a translation (it contains "transcri" or "translat", any case), the answer is what
the emulator heard in the first such part, instead of the usual media sentence and prose:
    `[emulator hear="..."]` in the prompt    exactly that text (a test's expected transcript)
    otherwise                                 generated sentences, three tokens per second of audio,
                                              seeded by the audio's bytes (the same audio is always
                                              heard the same, whatever the prompt)
The duration is read from the bytes: WAV (the wave module) and FLAC (STREAMINFO); other formats
are estimated at 128 kbit/s. Usage counts 32 tokens per second of audio (Gemini's documented rate).

Segments: the transcript is cut into sentences, each given a share of the duration by its length,
so segment times increase, touch, and end at the audio's duration. With responseMimeType
application/json and a schema, the JSON follows the schema with these values by property name:
    an array of objects          one item per segment
    *start* / *end*              the segment's times (top level: 0 and the duration): seconds for a
                                 number, whole seconds for an integer, "MM:SS.mmm" for a string
    text, transcript, ...        the segment's text (top level: the whole transcript)
    *duration*                   the audio's duration;  *language*  "english"
    anything else                schema_values, as for any JSON answer
With application/json and no schema: {"text": transcript}.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import struct
import wave
from dataclasses import dataclass
from typing import Any

from gemini_emulator.errors import invalid_argument
from gemini_emulator.output_format import JSON, ResponseFormat, render
from gemini_emulator.schema_values import Hints, instance
from gemini_emulator.text import compose, seed_for
from gemini_emulator.wire import decode_base64

# The audio formats Gemini documents: ai.google.dev/gemini-api/docs/audio (the first six), and
# Vertex AI's audio-understanding page (the rest). One emulator serves both backends: it takes either.
AUDIO_MIME_TYPES = frozenset({"audio/wav", "audio/mp3", "audio/aiff", "audio/aac", "audio/ogg", "audio/flac",
                              "audio/x-aac", "audio/m4a", "audio/mpeg", "audio/mpga", "audio/mp4", "audio/pcm",
                              "audio/webm"})
INLINE_LIMIT = 20 * 1024 * 1024
TOKENS_PER_SECOND = 32
WORDS_PER_SECOND = 3  # tokens of transcript per second of audio
ESTIMATED_BYTES_PER_SECOND = 16_000  # 128 kbit/s, for formats whose header is not read
_ASKS = re.compile(r"transcri|translat", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_TEXT_NAMES = ("text", "transcript", "transcription", "content", "speech", "translation")


def _bare(mime: Any) -> str:
    return mime.split(";")[0].strip().lower() if isinstance(mime, str) else ""


def check_audio(contents: list[dict[str, Any]]) -> None:
    """Gemini's 400s for audio it does not take and for inline data over its request limit."""
    inline_size = 0
    for content in contents:
        for part in content.get("parts", []) if isinstance(content, dict) else []:
            for key in ("inlineData", "fileData"):
                media = part.get(key) if isinstance(part, dict) else None
                if not isinstance(media, dict):
                    continue
                mime = _bare(media.get("mimeType"))
                if mime.startswith("audio/") and mime not in AUDIO_MIME_TYPES:
                    raise invalid_argument(f"Unsupported MIME type: {media.get('mimeType')}")
                if key == "inlineData" and isinstance(media.get("data"), str):
                    inline_size += len(media["data"])
    if inline_size > INLINE_LIMIT:
        raise invalid_argument(f"Request payload size exceeds the limit: {INLINE_LIMIT} bytes.")


def _flac_seconds(data: bytes) -> float | None:
    # "fLaC", then the STREAMINFO block: 4-byte header, 10 bytes of sizes, then 20 bits of
    # sample rate, 3 of channels, 5 of bits per sample and 36 of total samples.
    if len(data) < 26 or data[:4] != b"fLaC":
        return None
    packed = int.from_bytes(data[18:26], "big")
    rate, samples = packed >> 44, packed & ((1 << 36) - 1)
    return samples / rate if rate else None


def _wav_seconds(data: bytes) -> float | None:
    try:
        with wave.open(io.BytesIO(data)) as reader:
            rate = reader.getframerate()
            return reader.getnframes() / rate if rate else None
    except (wave.Error, EOFError, struct.error):
        return None


def duration_of(mime: str, data: bytes) -> float:
    """Seconds of audio in `data`: read from a WAV or FLAC header, otherwise estimated."""
    readers = {"audio/wav": _wav_seconds, "audio/flac": _flac_seconds}
    seconds = readers[mime](data) if mime in readers else None
    return seconds if seconds is not None else len(data) / ESTIMATED_BYTES_PER_SECOND


def audio_tokens(part: dict[str, Any]) -> int | None:
    """Prompt tokens of an inline audio part (None: not one)."""
    inline = part.get("inlineData")
    if not isinstance(inline, dict) or not _bare(inline.get("mimeType")).startswith("audio/"):
        return None
    mime = _bare(inline["mimeType"])
    return max(1, math.ceil(duration_of(mime, decode_base64(inline["data"])) * TOKENS_PER_SECOND))


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Hearing:
    """What the emulator heard in an audio part."""

    transcript: str
    duration: float

    @property
    def segments(self) -> tuple[Segment, ...]:
        sentences = [s for s in _SENTENCE_END.split(self.transcript.strip()) if s]
        total = sum(len(s) for s in sentences)
        out, done = [], 0
        for sentence in sentences:
            start = round(self.duration * done / total, 3)
            done += len(sentence)
            out.append(Segment(start, round(self.duration * done / total, 3), sentence))
        return tuple(out)

    def render(self, response_format: ResponseFormat, seed: int) -> str:
        """The answer text in the requested output format (see the module docstring)."""
        if response_format.mime_type == JSON:
            if response_format.schema is None:
                return _json({"text": self.transcript})
            return _json(self._fill(response_format.schema, None, seed, "$"))
        return render(response_format, self.transcript, seed, "", None)

    def _fill(self, schema: Any, segment: Segment | None, seed: int, name: str) -> Any:
        if not isinstance(schema, dict):
            return instance(schema, Hints(seed_for(seed, name)))
        kind = schema.get("type")
        kind = kind[0] if isinstance(kind, list) and kind else kind
        kind = kind.lower() if isinstance(kind, str) else kind
        lowered = name.lower()
        words = set(_WORD_SPLIT.sub("_", name).lower().split("_"))
        if kind == "object" and isinstance(schema.get("properties"), dict):
            return {key: self._fill(sub, segment, seed, key) for key, sub in schema["properties"].items()}
        if kind == "array" and isinstance(schema.get("items"), dict) and segment is None:
            return [self._fill(schema["items"], each, seed, name) for each in self.segments]
        if words & {"start", "end", "duration"} and kind in ("number", "integer", "string"):
            seconds = (self.duration if "duration" in words or (segment is None and "end" in words)
                       else 0.0 if segment is None else segment.start if "start" in words else segment.end)
            return _time(seconds, kind)
        if kind == "string" and lowered in _TEXT_NAMES:
            return self.transcript if segment is None else segment.text
        if kind == "string" and "language" in lowered:
            return "english"
        return instance(schema, Hints(seed_for(seed, name)))


def _time(seconds: float, kind: Any) -> Any:
    if kind == "integer":
        return int(seconds)
    if kind == "string":
        return f"{int(seconds // 60):02d}:{seconds % 60:06.3f}"
    return round(seconds, 3)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def hearing_of(contents: list[dict[str, Any]], user_text: str, hear: str | None) -> Hearing | None:
    """What the emulator heard, when the last user turn holds audio and asks for its words."""
    if not _ASKS.search(user_text):
        return None
    for content in reversed(contents):
        if content.get("role", "user") not in ("user", ""):
            continue
        for part in content.get("parts", []):
            inline = part.get("inlineData") if isinstance(part, dict) else None
            if isinstance(inline, dict) and _bare(inline.get("mimeType")).startswith("audio/"):
                data = decode_base64(inline["data"])
                seconds = duration_of(_bare(inline["mimeType"]), data)
                if hear is not None:
                    return Hearing(hear, seconds)
                seed = seed_for(hashlib.sha256(data).hexdigest())
                return Hearing(compose(seed, round(seconds * WORDS_PER_SECOND)), seconds)
        return None
    return None
