"""What an answer contains: candidate texts, finish reasons and token usage.

Pure functions: the same request always plans the same answer. The seed covers the model,
the conversation (directives stripped), the system instruction, the sampling parameters and
the candidate index. Length limits (maxOutputTokens, stop sequences, candidateCount) are not
part of the seed, so a cut answer is a prefix of the uncut one, as with a real model.

Memory: in a conversation with more than one user turn, each answer opens by quoting the first
sentence of the first user turn ("You said: ..."), so a client can see that the whole history
arrived, not just the last message.

Thinking: models with thinking report thoughtsTokenCount (8-40, at most a positive
thinkingBudget) unless thinkingBudget == 0. In this emulator thoughts never count against
maxOutputTokens and never appear as parts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .catalog import Model
from .directives import Directives
from .validation import GenerateRequest
from .text import compose, default_length, seed_for, thoughts_length
from .tokens import count_tokens, truncate_tokens

INLINE_PART_TOKENS = 258  # what Gemini charges for one image (vision recording: 258 + 8 text)

_SAMPLING_KEYS = (
    "temperature", "topP", "topK", "seed", "presencePenalty", "frequencyPenalty",
    "responseMimeType",
)
_MODALITY_BY_MIME = (("image/", "IMAGE"), ("audio/", "AUDIO"), ("video/", "VIDEO"),
                     ("application/pdf", "DOCUMENT"))


@dataclass(frozen=True)
class CandidatePlan:
    index: int
    text: str
    finish_reason: str


@dataclass(frozen=True)
class AnswerPlan:
    model: str
    response_id: str
    prompt_tokens: int
    prompt_details: tuple[tuple[str, int], ...]
    thoughts_tokens: int | None
    candidates: tuple[CandidatePlan, ...]
    blocked: bool = False

    @property
    def candidate_tokens(self) -> int:
        return sum(count_tokens(candidate.text) for candidate in self.candidates)


def _modality(mime_type: str) -> str:
    return next((m for prefix, m in _MODALITY_BY_MIME if mime_type.startswith(prefix)), "TEXT")


def _part_usage(part: dict[str, Any]) -> tuple[str, int]:
    if isinstance(part.get("text"), str):
        return "TEXT", count_tokens(part["text"])
    for media in ("inlineData", "fileData"):
        if isinstance(part.get(media), dict):
            return _modality(str(part[media].get("mimeType", ""))), INLINE_PART_TOKENS
    for call in ("functionCall", "functionResponse"):
        if isinstance(part.get(call), dict):
            payload = part[call].get("args", part[call].get("response", {}))
            return "TEXT", count_tokens(f"{part[call].get('name', '')} {json.dumps(payload)}")
    if isinstance(part.get("executableCode"), dict):
        return "TEXT", count_tokens(str(part["executableCode"].get("code", "")))
    if isinstance(part.get("codeExecutionResult"), dict):
        return "TEXT", count_tokens(str(part["codeExecutionResult"].get("output", "")))
    return "TEXT", 0


def prompt_usage(contents: list[dict[str, Any]], system_instruction: dict[str, Any] | None
                 ) -> tuple[int, tuple[tuple[str, int], ...]]:
    """Total prompt tokens and the per-modality breakdown (TEXT first, like the real API)."""
    totals: dict[str, int] = {"TEXT": 0}
    for content in ([system_instruction] if system_instruction else []) + contents:
        for part in content.get("parts", []):
            modality, tokens = _part_usage(part)
            totals[modality] = totals.get(modality, 0) + tokens
    return sum(totals.values()), tuple(totals.items())


def _cut(text: str, stop_sequences: tuple[str, ...]) -> str:
    positions = [text.find(stop) for stop in stop_sequences if stop and stop in text]
    return text[: min(positions)] if positions else text


def recalled(contents: list[dict[str, Any]]) -> str | None:
    """The memory line of a multi-turn conversation (see the module docstring)."""
    user_texts = [
        " ".join(part["text"] for part in content.get("parts", []) if isinstance(part.get("text"), str)).strip()
        for content in contents if content.get("role", "user") == "user"
    ]
    user_texts = [text for text in user_texts if text]
    if len(user_texts) < 2:
        return None
    return "You said: " + re.split(r"(?<=[.!?])\s", user_texts[0], maxsplit=1)[0]


def plan_candidate(request: GenerateRequest, directives: Directives, seed: int, index: int,
                   chunk_tokens: int, recall: str | None = None) -> CandidatePlan:
    """The text and finishReason of one candidate, after every limit has been applied."""
    if directives.say is not None:
        full = directives.say
    else:
        length = directives.tokens if directives.tokens is not None else default_length(seed)
        if directives.fault in ("midstream", "drop") and directives.tokens is None:
            # Long enough that the fault really happens mid-stream.
            length = max(length, ((directives.after or 1) + 2) * chunk_tokens)
        if recall:
            full = truncate_tokens(f"{recall} {compose(seed, max(1, length - count_tokens(recall)))}", length)
        else:
            full = compose(seed, length)
    text = _cut(full, request.stop_sequences)
    end, reason = count_tokens(text), "STOP"
    if directives.finish:
        if directives.after is not None:
            end = min(end, directives.after * chunk_tokens)
        reason = directives.finish
    if request.max_output_tokens is not None and request.max_output_tokens < end:
        end, reason = request.max_output_tokens, "MAX_TOKENS"
    return CandidatePlan(index, truncate_tokens(text, end), reason)


def answer_seed(model: Model, request: GenerateRequest, contents: list[Any], index: int) -> int:
    sampling = {key: request.generation_config.get(key) for key in _SAMPLING_KEYS}
    return seed_for(model.id, contents, request.system_instruction, sampling, index)


def plan_answer(model: Model, request: GenerateRequest, directives: Directives,
                contents: list[Any], response_id: str, chunk_tokens: int) -> AnswerPlan:
    """The whole answer to a generateContent request whose directives were stripped."""
    prompt_tokens, details = prompt_usage(contents, request.system_instruction)
    seeds = [answer_seed(model, request, contents, i) for i in range(request.candidate_count)]
    thoughts = None
    if model.thinking and request.thinking_budget != 0:
        thoughts = thoughts_length(seeds[0])
        if request.thinking_budget is not None and request.thinking_budget > 0:
            thoughts = min(thoughts, request.thinking_budget)
    if directives.fault == "block":
        return AnswerPlan(model.id, response_id, prompt_tokens, details, None, (), blocked=True)
    candidates = tuple(
        plan_candidate(request, directives, seed, index, chunk_tokens, recalled(contents))
        for index, seed in enumerate(seeds)
    )
    return AnswerPlan(model.id, response_id, prompt_tokens, details, thoughts, candidates)
