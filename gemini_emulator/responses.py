"""GenerateContentResponse bodies, shaped like the recorded real traffic.

Non-streamed: one body with every candidate. Streamed: a list of events, each a complete
GenerateContentResponse carrying one candidate's next delta, with the running usage, the same
responseId and modelVersion, and finishReason only on that candidate's last event. Candidates
of a multi-candidate stream are interleaved chunk by chunk.

Parts of a candidate, in order: the thought summary ({"text", "thought": true}, includeThoughts),
then either the functionCall parts ({"functionCall": {"name", "args"}}, no id, the first with
thoughtSignature) or the answer text. A candidate with nothing to show has content
{"role": "model"} without parts. Usage omits candidatesTokenCount while it is 0 (proto3 drops
zero values), e.g. when thoughts used the whole maxOutputTokens.

Stream deltas of one candidate: the thought summary whole in the first chunk, then the text in
chunk_tokens pieces (each with the logprobs of its own tokens), or all function calls in one
chunk. On gemini-2.x the call chunk carries finishReason STOP, like the recording; on gemini-3
models (AnswerPlan.split_stop) a separate final chunk follows with content {"role": "model",
"parts": [{"text": ""}]} and finishReason STOP, as real Gemini 3 sends it.

A grounded candidate (grounding module) has groundingMetadata after its finishReason; streamed,
its text deltas carry no finishReason and one last event without content carries both.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gemini_emulator.generation import AnswerPlan, CandidatePlan
from gemini_emulator.logprobs import TokenLogprob, logprobs_fields, token_logprobs
from gemini_emulator.safety import safety_ratings
from gemini_emulator.tokens import chunk_text, count_tokens

CALLS_MESSAGE = "Model generated function call(s)."


def usage_metadata(plan: AnswerPlan, candidate_tokens: int) -> dict[str, Any]:
    usage: dict[str, Any] = {"promptTokenCount": plan.prompt_tokens}
    if candidate_tokens:
        usage["candidatesTokenCount"] = candidate_tokens
    thoughts = plan.thoughts_tokens or 0
    usage["totalTokenCount"] = plan.prompt_tokens + candidate_tokens + thoughts
    usage["promptTokensDetails"] = [
        {"modality": modality, "tokenCount": tokens} for modality, tokens in plan.prompt_details
    ]
    if plan.tool_use_tokens:
        usage["totalTokenCount"] += plan.tool_use_tokens
        usage["toolUsePromptTokenCount"] = plan.tool_use_tokens
        usage["toolUsePromptTokensDetails"] = [{"modality": "TEXT", "tokenCount": plan.tool_use_tokens}]
    if plan.thoughts_tokens is not None:
        usage["thoughtsTokenCount"] = plan.thoughts_tokens
    return usage


def _call_parts(candidate: CandidatePlan) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for call in candidate.calls:
        part: dict[str, Any] = {"functionCall": {"name": call.name, "args": call.args}}
        if not parts and candidate.signature:
            part["thoughtSignature"] = candidate.signature
        parts.append(part)
    return parts


def _candidate(candidate: CandidatePlan, parts: list[dict[str, Any]], final: bool,
               logprobs: dict[str, Any] | None = None, bare: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if not bare:
        body["content"] = {"parts": parts, "role": "model"} if parts else {"role": "model"}
    if final:
        body["finishReason"] = candidate.finish_reason
    if final and candidate.grounding is not None:
        body["groundingMetadata"] = candidate.grounding
    body["index"] = candidate.index
    if final and candidate.calls:
        body["finishMessage"] = CALLS_MESSAGE
    if final and candidate.finish_reason == "SAFETY":
        body["safetyRatings"] = safety_ratings(blocked=True)
    body.update(logprobs or {})
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


def _logprobs(plan: AnswerPlan, candidate: CandidatePlan) -> list[TokenLogprob]:
    if plan.logprobs is None or not candidate.text:
        return []
    return token_logprobs(candidate.text, candidate.seed, plan.logprobs)


def full_response(plan: AnswerPlan) -> dict[str, Any]:
    """The non-streamed answer."""
    candidates = []
    for candidate in plan.candidates:
        parts = [{"text": candidate.thought, "thought": True}] if candidate.thought else []
        parts += _call_parts(candidate) or ([{"text": candidate.text}] if candidate.text else [])
        logprobs = logprobs_fields(_logprobs(plan, candidate), plan.logprobs or 0)
        candidates.append(_candidate(candidate, parts, final=True, logprobs=logprobs))
    return _envelope(plan, candidates, plan.candidate_tokens)


@dataclass(frozen=True)
class StreamEvent:
    body: dict[str, Any]
    tokens: int  # candidate tokens this event adds


@dataclass(frozen=True)
class _Delta:
    parts: list[dict[str, Any]]
    tokens: int
    final: bool = False
    logprobs: dict[str, Any] | None = None
    bare: bool = False  # no content at all (the last event of a grounded candidate)


def _deltas(plan: AnswerPlan, candidate: CandidatePlan, chunk_tokens: int) -> list[_Delta]:
    """The stream deltas of one candidate (see the module docstring); the last one is final."""
    deltas = [_Delta([{"text": candidate.thought, "thought": True}], 0)] if candidate.thought else []
    thought_deltas = len(deltas)
    if candidate.calls:
        deltas.append(_Delta(_call_parts(candidate), candidate.tokens, not plan.split_stop))
        if plan.split_stop:
            deltas.append(_Delta([{"text": ""}], 0, True))
        return deltas
    entries = _logprobs(plan, candidate)
    for piece in chunk_text(candidate.text, chunk_tokens):
        tokens = count_tokens(piece)
        mine, entries = entries[:tokens], entries[tokens:]
        deltas.append(_Delta([{"text": piece}], tokens,
                             logprobs=logprobs_fields(mine, plan.logprobs or 0)))
    if len(deltas) == thought_deltas:
        deltas.append(_Delta([], 0))  # nothing to say: one final event without parts
    if candidate.grounding is not None:
        deltas.append(_Delta([], 0, bare=True))
    last = deltas[-1]
    deltas[-1] = _Delta(last.parts, last.tokens, True, last.logprobs, last.bare)
    return deltas


def stream_events(plan: AnswerPlan, chunk_tokens: int) -> Iterator[StreamEvent]:
    """The streamed answer, one event at a time."""
    if plan.blocked:
        yield StreamEvent(_envelope(plan, [], 0), 0)
        return
    deltas = [_deltas(plan, candidate, chunk_tokens) for candidate in plan.candidates]
    emitted = 0
    for round_index in range(max(len(d) for d in deltas)):
        for candidate, candidate_deltas in zip(plan.candidates, deltas, strict=True):
            if round_index >= len(candidate_deltas):
                continue
            delta = candidate_deltas[round_index]
            emitted += delta.tokens
            body = _envelope(plan, [_candidate(candidate, delta.parts, delta.final,
                                               delta.logprobs, delta.bare)], emitted)
            yield StreamEvent(body, delta.tokens)


def unfinished(body: dict[str, Any]) -> dict[str, Any]:
    """A GenerateContentResponse without its finishReasons (fault=unfinished)."""
    candidates = [{k: v for k, v in c.items() if k not in ("finishReason", "finishMessage")}
                  for c in body.get("candidates", [])]
    return {**body, "candidates": candidates} if candidates else body
