"""Chat completions: an OpenAI request -> a Gemini request; a Gemini answer -> chat.completion."""
from __future__ import annotations

from typing import NamedTuple

from ..config import Settings
from .messages import contents_from_messages

# Gemini finishReason -> OpenAI finish_reason. Anything not listed (MALFORMED_FUNCTION_CALL,
# FINISH_REASON_UNSPECIFIED, reasons newer than this table...) is "stop".
FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    **dict.fromkeys(
        ("SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
         "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "IMAGE_OTHER", "LANGUAGE", "MODEL_ARMOR"),
        "content_filter"),
}
BLOCKED_PROMPT = "content_filter"

# OpenAI parameter -> GenerateContentConfig field, copied when set.
CONFIG_FIELDS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "stop": "stop_sequences",
    "seed": "seed",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
}
# Server-side defaults (Settings fields) for parameters a request leaves out.
DEFAULTS = {
    "temperature": "default_temperature",
    "top_p": "default_top_p",
    "top_k": "default_top_k",
}


class GeminiRequest(NamedTuple):
    model: str
    contents: list[dict]
    config: dict


def finish_reason_from(gemini_reason: str | None) -> str:
    return FINISH_REASONS.get(gemini_reason or "STOP", "stop")


def generation_config(request: dict, settings: Settings) -> dict:
    config = {}
    for name, setting in DEFAULTS.items():
        if request.get(name) is None and getattr(settings, setting) is not None:
            config[CONFIG_FIELDS[name]] = getattr(settings, setting)
    for name, field in CONFIG_FIELDS.items():
        if request.get(name) is not None:
            config[field] = request[name]
    max_tokens = request.get("max_completion_tokens") or request.get("max_tokens") or settings.default_max_tokens
    if max_tokens:
        config["max_output_tokens"] = max_tokens
    if (request.get("n") or 1) > 1:
        config["candidate_count"] = request["n"]
    return config


def gemini_request(request: dict, settings: Settings) -> GeminiRequest:
    system_instruction, contents = contents_from_messages(request["messages"])
    config = generation_config(request, settings)
    if system_instruction:
        config["system_instruction"] = system_instruction
    return GeminiRequest(settings.resolve_model(request.get("model")), contents, config)


def text_of(content: dict | None) -> str:
    """The visible text of a candidate's content (thought summaries are not the answer)."""
    parts = (content or {}).get("parts") or ()
    return "".join(part["text"] for part in parts if "text" in part and not part.get("thought"))


def usage_from(metadata: dict | None) -> dict:
    metadata = metadata or {}
    prompt = metadata.get("prompt_token_count", 0) + metadata.get("tool_use_prompt_token_count", 0)
    thoughts = metadata.get("thoughts_token_count", 0)
    # OpenAI counts reasoning inside completion_tokens; Gemini reports thoughts separately.
    completion = metadata.get("candidates_token_count", 0) + thoughts
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": metadata.get("cached_content_token_count", 0)},
        "completion_tokens_details": {"reasoning_tokens": thoughts},
    }


def _choice(index: int, content: str, finish_reason: str) -> dict:
    return {
        "index": index,
        "message": {"role": "assistant", "content": content, "refusal": None},
        "logprobs": None,
        "finish_reason": finish_reason,
    }


def choices_from(response: dict, n: int) -> list[dict]:
    candidates = sorted(response.get("candidates") or (), key=lambda c: c.get("index", 0))
    if not candidates:
        # A blocked prompt has no candidates; clients still need a choice that says why.
        return [_choice(index, "", BLOCKED_PROMPT) for index in range(n)]
    return [
        _choice(position, text_of(candidate.get("content")), finish_reason_from(candidate.get("finish_reason")))
        for position, candidate in enumerate(candidates)
    ]


def completion_from_response(response: dict, *, completion_id: str, created: int, model: str,
                             n: int = 1) -> dict:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": choices_from(response, n),
        "usage": usage_from(response.get("usage_metadata")),
    }
