"""OpenAI's /v1/audio/transcriptions and /v1/audio/translations <-> Gemini's audio understanding.

The request: the audio as inlineData, then a prompt asking for a transcript (or an English
translation) with the client's `language` hint and `prompt` context; `temperature` as Gemini's.
For srt, vtt and verbose_json Gemini is asked for JSON segments (responseJsonSchema SEGMENTS:
start and end in seconds, text) and the gateway renders them: the times are the model's estimates
(Gemini reads the audio's timing, but nothing aligns it word by word), made consistent here:
clamped to the real duration, increasing, each segment ending after it starts.

verbose_json fields Whisper computes and Gemini has no counterpart for get neutral values:
`tokens` [] (no Whisper token ids), `seek` 0, `no_speech_prob` 0.0, `avg_logprob` Gemini's
candidate avgLogprobs when it reports one (else 0.0); `compression_ratio` is computed as Whisper
does (text bytes / zlib-compressed bytes).
"""
from __future__ import annotations

import math
import zlib

from gemini_proxy.errors import ApiError
from gemini_proxy.translate.chat import FINISH_REASONS

TRANSCRIBE, TRANSLATE = "transcribe", "translate"
TEXT_FORMATS = ("json", "text")
SEGMENT_FORMATS = ("srt", "vtt", "verbose_json")
FORMATS = TEXT_FORMATS + SEGMENT_FORMATS
SEGMENTS = {
    "type": "object",
    "properties": {
        "language": {"type": "string", "description": "The language spoken, as its lower-case English name."},
        "segments": {"type": "array", "items": {"type": "object", "properties": {
            "start": {"type": "number", "description": "Start of the segment, in seconds from the start of the audio."},
            "end": {"type": "number", "description": "End of the segment, in seconds from the start of the audio."},
            "text": {"type": "string", "description": "What is said in the segment."},
        }, "required": ["start", "end", "text"]}},
    },
    "required": ["language", "segments"],
}


def _instructions(task: str, language: str | None, segments: bool, duration: float) -> str:
    if task == TRANSLATE:
        ask = "Translate the speech in this audio into English and write the English transcript of it."
    else:
        ask = "Generate a transcript of the speech in this audio, word for word, in the language spoken."
        if language:
            ask += f" The speech is in the language with ISO-639-1 code '{language}'."
    if segments:
        return (f"{ask} The audio lasts {duration:.2f} seconds. Split the transcript into segments of a sentence or "
                "a phrase each, in order, with the time in seconds at which each starts and ends.")
    return f"{ask} Answer with the transcript only: no timestamps, speaker labels, notes or quotation marks."


def gemini_request(task: str, body: dict, mime_type: str, data: bytes, duration: float) -> tuple[list[dict], dict]:
    """Contents and GenerateContentConfig fields for a loaded transcription or translation request."""
    segments = body["response_format"] in SEGMENT_FORMATS
    text = _instructions(task, body.get("language"), segments, duration)
    if body.get("prompt"):
        text += ("\nContext from the user (spellings, names and style to follow; it is not part of the audio): "
                 + body["prompt"])
    contents = [{"role": "user", "parts": [{"inline_data": {"mime_type": mime_type, "data": data}}, {"text": text}]}]
    config: dict = {}
    if body.get("temperature") is not None:
        config["temperature"] = body["temperature"]
    if segments:
        config.update(response_mime_type="application/json", response_json_schema=SEGMENTS)
    return contents, config


def answer_text(answer: dict) -> str:
    """The text of Gemini's first candidate (thought parts left out)."""
    candidates = answer.get("candidates") or [{}]
    parts = (candidates[0].get("content") or {}).get("parts") or []
    return "".join(part.get("text", "") for part in parts if not part.get("thought"))


def check_ending(answer: dict) -> None:
    """A transcript Gemini refused or cut is an error, never passed off as the whole transcript:
    a blocked prompt or a content-filter finish is 400 `content_filter`; MAX_TOKENS (the audio
    too long for one answer) is 502 `transcript_truncated`. Each names Gemini's reason."""
    blocked = (answer.get("prompt_feedback") or {}).get("block_reason")
    candidates = answer.get("candidates") or []
    reason = blocked or (candidates[0].get("finish_reason") if candidates else None)
    if blocked or FINISH_REASONS.get(reason or "") == "content_filter":
        raise ApiError(400, f"Gemini declined to transcribe this audio ({reason}).", "invalid_request_error", None,
                       "content_filter", upstream=reason)
    if reason == "MAX_TOKENS":
        raise ApiError(502, "Gemini's transcript was cut at its output limit (MAX_TOKENS): the audio is too long for "
                            "one answer; send it in shorter parts.", "server_error", None, "transcript_truncated",
                       upstream=reason)


def _seconds(value, default: float, duration: float) -> float:
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else default
    return min(max(float(number), 0.0), duration) if math.isfinite(number) else default


def segments_from(payload, duration: float) -> tuple[str | None, list[dict]]:
    """The language and the cleaned segments [{start, end, text}] of Gemini's JSON answer: times
    within [0, duration], each segment starting where the last ended at the earliest."""
    if not isinstance(payload, dict) or not isinstance(payload.get("segments"), list):
        raise ApiError(502, "Gemini's answer was not the transcript segments the gateway asked for.", "server_error",
                       None, "upstream_bad_response", upstream="BAD_RESPONSE")
    language = payload.get("language") if isinstance(payload.get("language"), str) else None
    cleaned, last = [], 0.0
    for item in payload["segments"]:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
            continue
        start = max(_seconds(item.get("start"), last, duration), last)
        end = max(_seconds(item.get("end"), start, duration), start)
        cleaned.append({"start": round(start, 3), "end": round(end, 3), "text": item["text"].strip()})
        last = end
    return language, cleaned


def _clock(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours:02d}:{minutes:02d}:{millis // 1000:02d}{separator}{millis % 1000:03d}"


def srt(segments: list[dict]) -> str:
    return "".join(f"{n}\n{_clock(s['start'], ',')} --> {_clock(s['end'], ',')}\n{s['text']}\n\n"
                   for n, s in enumerate(segments, 1))


def vtt(segments: list[dict]) -> str:
    return "WEBVTT\n\n" + "".join(f"{_clock(s['start'], '.')} --> {_clock(s['end'], '.')}\n{s['text']}\n\n"
                                  for s in segments)


def _compression_ratio(text: str) -> float:
    raw = text.encode()
    return round(len(raw) / len(zlib.compress(raw)), 4) if raw else 0.0


def verbose_json(task: str, language: str | None, duration: float, segments: list[dict], temperature: float | None,
                 avg_logprob: float | None) -> dict:
    body = {
        "task": task,
        "language": "english" if task == TRANSLATE else (language or "unknown").lower(),
        "duration": round(duration, 3),
        "text": " ".join(s["text"] for s in segments),
        "segments": [{
            "id": n, "seek": 0, "start": s["start"], "end": s["end"], "text": s["text"], "tokens": [],
            "temperature": float(temperature or 0.0), "avg_logprob": float(avg_logprob or 0.0),
            "compression_ratio": _compression_ratio(s["text"]), "no_speech_prob": 0.0,
        } for n, s in enumerate(segments)],
    }
    if task == TRANSCRIBE:
        body["usage"] = {"type": "duration", "seconds": math.ceil(duration)}
    return body


def token_usage(answer: dict) -> dict | None:
    """OpenAI's token usage of a transcription from Gemini's usageMetadata (None when it has none)."""
    usage = answer.get("usage_metadata")
    if not usage:
        return None
    prompt = usage.get("prompt_token_count") or 0
    output = (usage.get("candidates_token_count") or 0) + (usage.get("thoughts_token_count") or 0)
    by_modality = {d.get("modality"): d.get("token_count") or 0 for d in usage.get("prompt_tokens_details") or []}
    details = {"text_tokens": by_modality.get("TEXT", 0), "audio_tokens": by_modality.get("AUDIO", 0)}
    return {"type": "tokens", "input_tokens": prompt, "input_token_details": details,
            "output_tokens": output, "total_tokens": prompt + output}


def chat_usage(usage: dict | None) -> dict | None:
    """The usage in the request log's (and rate limits') terms."""
    if not usage:
        return None
    return {"prompt_tokens": usage["input_tokens"], "completion_tokens": usage["output_tokens"],
            "total_tokens": usage["total_tokens"]}
