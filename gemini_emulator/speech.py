"""Speech generation (Gemini's TTS models): generateContent with responseModalities ["AUDIO"].

The wire, as Google documents it (notes vertex-native-media.md §4.3):
    generationConfig: {"responseModalities": ["AUDIO"],
                       "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}}}
or, for two speakers, speechConfig.multiSpeakerVoiceConfig.speakerVoiceConfigs [{speaker, voiceConfig}, ...]
(exactly two, exclusive with voiceConfig). The Python SDK sends these keys in snake_case; the app
camel-cases every request first (wire.normalize_keys), so both spellings arrive here alike.

The answer is one part {"inlineData": {"mimeType": "audio/L16;codec=pcm;rate=24000", "data"}}: raw
signed 16-bit little-endian mono PCM, no WAV header; usage counts 32 AUDIO tokens per second of it
(candidatesTokensDetails). Streamed, each event carries the next PCM_CHUNK_SECONDS of it. Whether
the Gemini API streams TTS at all is not confirmed (Vertex documents a "Streaming" column): the
emulator does, so a gateway can be tested on it.

The audio is synthetic but speech-like and deterministic: per word a voiced burst (a fundamental
with two harmonics under a raised-cosine envelope, its pitch set by the voice and varied by word)
then a short pause, with silence around the whole. Its length follows the text: WORD_SECONDS per
word plus EDGE_SECONDS, cut at the output token limit (finishReason MAX_TOKENS).

Refusals: a TTS model asked for anything but AUDIO, and a non-TTS model asked for AUDIO, in
Gemini's words (recorded in third-party reports). Best guesses, worded like Gemini's field errors
but never observed: an unknown voice name, a multi-speaker config without exactly two speakers,
and voiceConfig together with multiSpeakerVoiceConfig. gemini-3.1-flash-tts-preview answers 400
without a speechConfig and refuses a systemInstruction (both reported).
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from werkzeug.wrappers import Response

from gemini_emulator.catalog import Model
from gemini_emulator.errors import invalid_argument
from gemini_emulator.generation import prompt_usage
from gemini_emulator.responses import StreamEvent
from gemini_emulator.state import Stats
from gemini_emulator.streaming import Pace, StreamFault, paced_stream, sleep
from gemini_emulator.validation import GenerateRequest
from gemini_emulator.wire import encode_base64, to_json

VOICES = (
    "Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede", "Callirrhoe", "Autonoe",
    "Enceladus", "Iapetus", "Umbriel", "Algieba", "Despina", "Erinome", "Algenib", "Rasalgethi",
    "Laomedeia", "Achernar", "Alnilam", "Schedar", "Gacrux", "Pulcherrima", "Achird", "Zubenelgenubi",
    "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat",
)
_VOICE_BY_LOWER = {voice.lower(): voice for voice in VOICES}
DEFAULT_VOICE = "Kore"
RATE = 24_000
MIME_TYPE = f"audio/L16;codec=pcm;rate={RATE}"
TOKENS_PER_SECOND = 32
WORD_SECONDS = 0.35
VOICED_SECONDS = 0.27  # of each word; the rest is the pause after it
EDGE_SECONDS = 0.2  # silence before the first word and after the last
PCM_CHUNK_SECONDS = 0.5  # audio per stream event
_NEEDS_SPEECH_CONFIG = frozenset({"gemini-3.1-flash-tts-preview"})
_NO_SYSTEM_INSTRUCTION = frozenset({"gemini-3.1-flash-tts-preview"})
_WORD = re.compile(r"\w+")
_SPEAKER_LINE = re.compile(r"^\s*([^:\n]{1,40}):(.*)$")


@dataclass(frozen=True)
class Speech:
    """A planned TTS answer: its PCM, finish reason and token counts."""
    model: str
    pcm: bytes
    finish_reason: str
    prompt_tokens: int
    prompt_details: tuple[tuple[str, int], ...]

    @property
    def audio_tokens(self) -> int:
        return audio_tokens(len(self.pcm))


def audio_tokens(pcm_bytes: int) -> int:
    return math.ceil(pcm_bytes / 2 / RATE * TOKENS_PER_SECOND)


def _modalities(config: dict[str, Any]) -> tuple[str, ...]:
    value = config.get("responseModalities") or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid_argument(f"Invalid value at 'generation_config.response_modalities' ({value!r}): "
                               "a list of Modality enum values is required")
    return tuple(item.upper() for item in value)


def _refused(modalities: tuple[str, ...], model: Model, accepted: str) -> Exception:
    asked = f" ({', '.join(modalities)})" if modalities else ""
    return invalid_argument(f"The requested combination of response modalities{asked} is not supported by the "
                            f"model. models/{model.id} accepts the following combination of response "
                            f"modalities:\n* {accepted}\n")


def _voice_name(voice_config: Any, where: str) -> str:
    prebuilt = voice_config.get("prebuiltVoiceConfig") if isinstance(voice_config, dict) else None
    name = prebuilt.get("voiceName") if isinstance(prebuilt, dict) else None
    if not isinstance(name, str) or not name:
        raise invalid_argument(f"* GenerateContentRequest.generation_config.speech_config.{where}"
                               ".prebuilt_voice_config.voice_name: voice_name is required")
    voice = _VOICE_BY_LOWER.get(name.lower())
    if voice is None:
        raise invalid_argument(f"Voice name {name} is not supported. Supported voices: {', '.join(VOICES)}.")
    return voice


def _voices(speech_config: Any) -> dict[str | None, str]:
    """Speaker label (None: every line) -> voice name, from a validated speechConfig."""
    if not isinstance(speech_config, dict):
        return {None: DEFAULT_VOICE}
    single, multi = speech_config.get("voiceConfig"), speech_config.get("multiSpeakerVoiceConfig")
    if single is not None and multi is not None:
        raise invalid_argument("* GenerateContentRequest.generation_config.speech_config: voice_config and "
                               "multi_speaker_voice_config cannot both be set")
    if multi is None:
        return {None: DEFAULT_VOICE if single is None else _voice_name(single, "voice_config")}
    speakers = multi.get("speakerVoiceConfigs") if isinstance(multi, dict) else None
    if not isinstance(speakers, list) or len(speakers) != 2:
        raise invalid_argument("* GenerateContentRequest.generation_config.speech_config."
                               "multi_speaker_voice_config.speaker_voice_configs: exactly 2 speaker voice "
                               "configs are required")
    voices: dict[str | None, str] = {}
    for index, speaker in enumerate(speakers):
        where = f"multi_speaker_voice_config.speaker_voice_configs[{index}]"
        label = speaker.get("speaker") if isinstance(speaker, dict) else None
        if not isinstance(label, str) or not label.strip():
            raise invalid_argument(f"* GenerateContentRequest.generation_config.speech_config.{where}.speaker: "
                                   "speaker is required")
        voices[label.strip()] = _voice_name(speaker.get("voiceConfig"), f"{where}.voice_config")
    voices[None] = voices[speakers[0]["speaker"].strip()]
    return voices


def plan_speech(model: Model, request: GenerateRequest, contents: list[dict[str, Any]]) -> Speech | None:
    """The TTS answer of a request to a TTS model (None for other models); raises Gemini's 400s."""
    config = request.generation_config
    modalities = _modalities(config)
    if not model.speech:
        if "AUDIO" in modalities:
            raise _refused(modalities, model, "TEXT")
        return None
    if modalities != ("AUDIO",):
        raise _refused(modalities, model, "AUDIO")
    if model.id in _NO_SYSTEM_INSTRUCTION and request.system_instruction is not None:
        raise invalid_argument("Developer instruction is not enabled for this model")
    if model.id in _NEEDS_SPEECH_CONFIG and not config.get("speechConfig"):
        raise invalid_argument("Request contains an invalid argument.")
    voices = _voices(config.get("speechConfig"))
    text = " ".join(part["text"] for content in contents for part in content.get("parts", [])
                    if isinstance(part.get("text"), str))
    limit = min(request.max_output_tokens or model.output_token_limit, model.output_token_limit)
    pcm, finish = synthesize(text, voices), "STOP"
    max_bytes = int(limit / TOKENS_PER_SECOND * RATE) * 2
    if len(pcm) > max_bytes:
        pcm, finish = pcm[:max_bytes], "MAX_TOKENS"
    tokens, details = prompt_usage(contents, request.system_instruction)
    return Speech(model.id, pcm, finish, tokens, details)


def synthesize(text: str, voices: dict[str | None, str]) -> bytes:
    """PCM of `text`: each line of a multi-speaker script in its speaker's voice."""
    edge = _silence(EDGE_SECONDS)
    pieces = [edge]
    for line in text.splitlines() or [""]:
        match = _SPEAKER_LINE.match(line)
        voice, spoken = voices[None], line
        if match and match.group(1).strip() in voices:
            voice, spoken = voices[match.group(1).strip()], match.group(2)
        pieces.extend(_word(voice, len(word) % 4) for word in _WORD.findall(spoken))
    pieces.append(edge)
    return b"".join(pieces)


def _silence(seconds: float) -> bytes:
    return bytes(2 * round(seconds * RATE))


@lru_cache(maxsize=len(VOICES) * 4)
def _word(voice: str, variant: int) -> bytes:
    """One word: a voiced burst at the voice's pitch (varied by `variant`), then a pause."""
    pitch = (95.0 + 6.0 * VOICES.index(voice)) * (1.0 + 0.06 * variant)
    voiced = round(VOICED_SECONDS * RATE)
    samples = []
    for n in range(voiced):
        t = n / RATE
        envelope = 0.5 - 0.5 * math.cos(2 * math.pi * n / voiced)
        wave = (math.sin(2 * math.pi * pitch * t) + 0.5 * math.sin(4 * math.pi * pitch * t)
                + 0.25 * math.sin(6 * math.pi * pitch * t))
        samples.append(round(9000 * envelope * wave / 1.75))
    return struct.pack(f"<{voiced}h", *samples) + _silence(WORD_SECONDS - VOICED_SECONDS)


def _usage(speech: Speech, audio: int) -> dict[str, Any]:
    usage: dict[str, Any] = {"promptTokenCount": speech.prompt_tokens}
    if audio:
        usage["candidatesTokenCount"] = audio
    usage["totalTokenCount"] = speech.prompt_tokens + audio
    usage["promptTokensDetails"] = [{"modality": m, "tokenCount": n} for m, n in speech.prompt_details]
    if audio:
        usage["candidatesTokensDetails"] = [{"modality": "AUDIO", "tokenCount": audio}]
    return usage


def _body(speech: Speech, pcm: bytes, final: bool, audio: int, response_id: str) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": [{"inlineData": {
        "mimeType": MIME_TYPE, "data": encode_base64(pcm)}}], "role": "model"}}
    if final:
        candidate["finishReason"] = speech.finish_reason
    candidate["index"] = 0
    return {"candidates": [candidate], "usageMetadata": _usage(speech, audio),
            "modelVersion": speech.model, "responseId": response_id}


def speech_events(speech: Speech, response_id: str) -> Iterator[StreamEvent]:
    """The streamed answer: PCM_CHUNK_SECONDS of audio per event, running usage."""
    step = 2 * round(PCM_CHUNK_SECONDS * RATE)
    starts = range(0, max(len(speech.pcm), 1), step)
    sent = 0
    for start in starts:
        chunk = speech.pcm[start:start + step]
        tokens = audio_tokens(start + len(chunk)) - sent
        sent += tokens
        yield StreamEvent(_body(speech, chunk, start == starts[-1], sent, response_id), tokens)


def speech_response(speech: Speech, stream: bool, fault: StreamFault | None, pace: Pace, stats: Stats,
                    response_id: str) -> Response:
    """The whole answer, or its stream (interrupted by a fault directive's `fault`)."""
    if stream:
        return Response(paced_stream(speech_events(speech, response_id), pace, fault, stats),
                        content_type="text/event-stream")
    sleep(pace.total(speech.audio_tokens))
    stats.add("tokens_generated", speech.audio_tokens)
    body = _body(speech, speech.pcm, True, speech.audio_tokens, response_id)
    return Response(to_json(body), content_type="application/json; charset=UTF-8")
