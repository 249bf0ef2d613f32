"""GenerateContentResponse bodies, shaped like the recorded real traffic.

Non-streamed: one body with every candidate. Streamed: a list of events, each a complete
GenerateContentResponse carrying one candidate's next delta, with the running usage, the same
responseId and modelVersion, and finishReason only on that candidate's last event. Candidates
of a multi-candidate stream are interleaved chunk by chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from .generation import AnswerPlan, CandidatePlan
from .tokens import chunk_text, count_tokens

_HARM_CATEGORIES = (
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
)


def safety_ratings(blocked: bool) -> list[dict[str, Any]]:
    """Ratings as the real API lists them; a block flags dangerous content as HIGH."""
    ratings: list[dict[str, Any]] = [
        {"category": category, "probability": "NEGLIGIBLE"} for category in _HARM_CATEGORIES
    ]
    if blocked:
        ratings[-1] = {"category": _HARM_CATEGORIES[-1], "probability": "HIGH", "blocked": True}
    return ratings


def usage_metadata(plan: AnswerPlan, candidate_tokens: int) -> dict[str, Any]:
    usage: dict[str, Any] = {"promptTokenCount": plan.prompt_tokens}
    if not plan.blocked:
        usage["candidatesTokenCount"] = candidate_tokens
    thoughts = plan.thoughts_tokens or 0
    usage["totalTokenCount"] = plan.prompt_tokens + candidate_tokens + thoughts
    usage["promptTokensDetails"] = [
        {"modality": modality, "tokenCount": tokens} for modality, tokens in plan.prompt_details
    ]
    if plan.thoughts_tokens is not None:
        usage["thoughtsTokenCount"] = plan.thoughts_tokens
    return usage


def _candidate(candidate: CandidatePlan, text: str, final: bool) -> dict[str, Any]:
    # A candidate with no text at all (e.g. maxOutputTokens reached at once) has no parts,
    # like a real answer whose budget went to thinking.
    content: dict[str, Any] = {"parts": [{"text": text}], "role": "model"} if text else {
        "role": "model"
    }
    body: dict[str, Any] = {"content": content}
    if final:
        body["finishReason"] = candidate.finish_reason
    body["index"] = candidate.index
    if final and candidate.finish_reason == "SAFETY":
        body["safetyRatings"] = safety_ratings(blocked=True)
    return body


def _envelope(plan: AnswerPlan, candidates: list[dict[str, Any]], tokens: int) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if candidates:
        body["candidates"] = candidates
    if plan.blocked:
        body["promptFeedback"] = {"blockReason": "SAFETY", "safetyRatings": safety_ratings(True)}
    body["usageMetadata"] = usage_metadata(plan, tokens)
    body["modelVersion"] = plan.model
    body["responseId"] = plan.response_id
    return body


def full_response(plan: AnswerPlan) -> dict[str, Any]:
    """The non-streamed answer."""
    candidates = [_candidate(c, c.text, final=True) for c in plan.candidates]
    return _envelope(plan, candidates, plan.candidate_tokens)


@dataclass(frozen=True)
class StreamEvent:
    body: dict[str, Any]
    tokens: int  # candidate tokens this event adds


def stream_events(plan: AnswerPlan, chunk_tokens: int) -> Iterator[StreamEvent]:
    """The streamed answer, one event at a time."""
    if plan.blocked:
        yield StreamEvent(_envelope(plan, [], 0), 0)
        return
    pieces = [chunk_text(c.text, chunk_tokens) or [""] for c in plan.candidates]
    emitted = 0
    for round_index in range(max(len(p) for p in pieces)):
        for candidate, candidate_pieces in zip(plan.candidates, pieces):
            if round_index >= len(candidate_pieces):
                continue
            delta = candidate_pieces[round_index]
            final = round_index == len(candidate_pieces) - 1
            tokens = count_tokens(delta)
            emitted += tokens
            body = _envelope(plan, [_candidate(candidate, delta, final)], emitted)
            yield StreamEvent(body, tokens)
