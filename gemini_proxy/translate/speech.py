"""OpenAI's POST /v1/audio/speech <-> Gemini's TTS models (generateContent with an AUDIO response).

Gemini's TTS answer is raw signed 16-bit little-endian mono PCM in inlineData parts whose
mimeType names its rate ("audio/L16;codec=pcm;rate=24000"); media/audio_encoder.py encodes it.
Voices: Gemini's 30 prebuilt voice names are taken as they are (any case); OpenAI's names map to
one of them by OPENAI_VOICES, chosen by the character each side describes (there is no official
mapping). Instructions become the style prompt before the text, as Google's TTS guide writes
it: "Say cheerfully: Have a wonderful day!".
"""
from __future__ import annotations

import base64
import re

GEMINI_VOICES = (
    "Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede", "Callirrhoe", "Autonoe",
    "Enceladus", "Iapetus", "Umbriel", "Algieba", "Despina", "Erinome", "Algenib", "Rasalgethi",
    "Laomedeia", "Achernar", "Alnilam", "Schedar", "Gacrux", "Pulcherrima", "Achird", "Zubenelgenubi",
    "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat",
)
# OpenAI voice -> Gemini voice (Gemini's description of it in the comment).
OPENAI_VOICES = {
    "alloy": "Kore",  # firm
    "ash": "Charon",  # informative
    "ballad": "Algieba",  # smooth
    "coral": "Aoede",  # breezy
    "echo": "Iapetus",  # clear
    "fable": "Puck",  # upbeat
    "nova": "Leda",  # youthful
    "onyx": "Algenib",  # gravelly
    "sage": "Achernar",  # soft
    "shimmer": "Zephyr",  # bright
    "verse": "Enceladus",  # breathy
    "marin": "Sulafat",  # warm
    "cedar": "Sadaltager",  # knowledgeable
}
_GEMINI_BY_LOWER = {voice.lower(): voice for voice in GEMINI_VOICES}
DEFAULT_RATE = 24_000  # Gemini's TTS rate, when a mimeType names none
_RATE = re.compile(r"(?:^|;)\s*rate=(\d+)\s*(?:;|$)")
_PCM_TYPES = ("audio/l16", "audio/pcm")


def gemini_voice(voice: str | dict) -> str | None:
    """The Gemini prebuilt voice for an OpenAI voice (a name, or {"id": name}); None if unknown."""
    name = voice.get("id") if isinstance(voice, dict) else voice
    if not isinstance(name, str):
        return None
    key = name.strip().lower()
    return OPENAI_VOICES.get(key) or _GEMINI_BY_LOWER.get(key)


def speech_prompt(text: str, instructions: str | None) -> str:
    """The text Gemini reads, after the style instructions when there are any."""
    style = (instructions or "").strip().rstrip(".:").strip()
    return f"{style}: {text}" if style else text


def speech_request(text: str, instructions: str | None, voice: str) -> tuple[list[dict], dict]:
    """Contents and GenerateContentConfig fields (the SDK's names) of one TTS call."""
    contents = [{"role": "user", "parts": [{"text": speech_prompt(text, instructions)}]}]
    config = {"response_modalities": ["AUDIO"],
              "speech_config": {"voice_config": {"prebuilt_voice_config": {"voice_name": voice}}}}
    return contents, config


def pcm_rate(mime_type: str | None) -> int | None:
    """The sample rate of a PCM mimeType ("audio/L16;codec=pcm;rate=24000"); None if it is not PCM."""
    kind, _, params = (mime_type or "").partition(";")
    if kind.strip().lower() not in _PCM_TYPES:
        return None
    match = _RATE.search(params.replace(" ", ""))
    return int(match.group(1)) if match else DEFAULT_RATE


def audio_of(answer: dict) -> tuple[bytes, int | None, str | None]:
    """The PCM of one Gemini answer (a whole one, or a stream chunk), its rate (None when there is
    no audio), and the first candidate's finish reason. Raises ValueError on audio that is not PCM."""
    candidates = answer.get("candidates") or [{}]
    candidate = candidates[0]
    pcm, rate = [], None
    for part in (candidate.get("content") or {}).get("parts") or ():
        inline = part.get("inline_data")
        if not inline:
            continue
        part_rate = pcm_rate(inline.get("mime_type"))
        if part_rate is None or (rate is not None and part_rate != rate):
            raise ValueError(f"audio of type {inline.get('mime_type')!r}")
        rate = part_rate
        pcm.append(base64.b64decode(inline.get("data") or ""))
    return b"".join(pcm), rate, candidate.get("finish_reason")


def speech_usage(answer: dict) -> dict:
    """OpenAI's speech usage (speech.audio.done) from Gemini's usageMetadata."""
    usage = answer.get("usage_metadata") or {}
    prompt, audio = usage.get("prompt_token_count") or 0, usage.get("candidates_token_count") or 0
    return {"input_tokens": prompt, "output_tokens": audio, "total_tokens": prompt + audio}


def audio_delta(encoded: bytes) -> dict:
    return {"type": "speech.audio.delta", "audio": base64.b64encode(encoded).decode("ascii")}


def audio_done(usage: dict) -> dict:
    return {"type": "speech.audio.done", "usage": usage}


def chat_usage(usage: dict) -> dict:
    """A speech usage in the request log's terms (prompt/completion tokens)."""
    return {"prompt_tokens": usage["input_tokens"], "completion_tokens": usage["output_tokens"],
            "total_tokens": usage["total_tokens"]}
