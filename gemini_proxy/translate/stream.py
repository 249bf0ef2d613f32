"""Gemini stream chunks -> OpenAI chat.completion.chunk objects, one upstream chunk at a time.

OpenAI's stream contract, kept here: the same id/created/model on every chunk; each choice
opens with delta {"role": "assistant", "content": ""}; exactly one chunk per choice carries a
finish_reason and nothing follows it; tool-call deltas always carry their `index` (the first
one also id, type, name and arguments: Gemini sends a call whole); with include_usage every
chunk has "usage": null and a last chunk has "choices": [] and the usage.

Grounding: Gemini may send groundingMetadata early, late or in pieces (a grounded stream
usually ends with a chunk that has it and no content); it is gathered per candidate (a later
non-empty field wins) and sent once, as delta {"annotations": [...], "grounding_metadata":
{...}} just before the choice's finish_reason, its offsets into the choice's whole content.
Once only: the openai SDK's stream accumulator appends a list without `index` entries once.
"""
from __future__ import annotations

from gemini_proxy.translate.chat import (
    BLOCKED_PROMPT,
    AnswerContext,
    finish_reason_from,
    grounding_fields,
    logprobs_from,
    service_tier_from,
    text_of,
    usage_from,
)
from gemini_proxy.translate.grounding import search_count
from gemini_proxy.translate.tools import tool_calls_from


class ChatStream:
    def __init__(self, answer: AnswerContext, include_usage: bool = False):
        self._answer = answer
        self._head = {"id": answer.completion_id, "object": "chat.completion.chunk",
                      "created": answer.created, "model": answer.model}
        if answer.service_tier is not None:
            self._head["service_tier"] = service_tier_from(answer.service_tier)
        self._include_usage = include_usage
        self._opened: set[int] = set()
        self._finished: set[int] = set()
        self._calls: dict[int, int] = {}  # choice index -> tool calls sent
        self._usage_metadata: dict | None = None
        self._signatures: dict[str, str] = {}  # tool-call id -> thought signature, not yet stored
        self._texts: dict[int, list[str]] = {}  # choice index -> its content so far (when grounded)
        self._grounding: dict[int, dict] = {}  # choice index -> groundingMetadata so far

    def _chunk(self, index: int, delta: dict, finish_reason: str | None = None, logprobs: dict | None = None) -> dict:
        chunk = {**self._head, "choices": [
            {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}]}
        if self._include_usage:
            chunk["usage"] = None
        return chunk

    def _open(self, index: int, out: list) -> None:
        if index not in self._opened:
            self._opened.add(index)
            out.append(self._chunk(index, {"role": "assistant", "content": ""}))

    def _finish(self, index: int, reason: str, out: list) -> None:
        self._open(index, out)
        if grounding := self._grounding.get(index):
            out.append(self._chunk(index, grounding_fields("".join(self._texts.get(index, ())), grounding)))
        self._finished.add(index)
        out.append(self._chunk(index, {}, reason))

    def _tool_call_deltas(self, index: int, parts: list[dict]) -> list[dict]:
        sent = self._calls.get(index, 0)
        if self._answer.first_call_only and sent:
            return []
        calls = tool_calls_from(parts, self._answer.new_call_id, first_only=self._answer.first_call_only,
                                signatures=self._signatures)
        if calls:
            self._calls[index] = sent + len(calls)
        return [{"index": sent + position, **call} for position, call in enumerate(calls)]

    def _candidate(self, candidate: dict, out: list) -> None:
        index = candidate.get("index", 0)
        if index in self._finished:
            return
        self._open(index, out)
        content = candidate.get("content") or {}
        if reasoning := text_of(content, thought=True):
            out.append(self._chunk(index, {"reasoning_content": reasoning}))
        text = text_of(content)
        logprobs = logprobs_from(candidate.get("logprobs_result"))
        if text and self._answer.grounded:
            self._texts.setdefault(index, []).append(text)
        if text or logprobs:
            out.append(self._chunk(index, {"content": text}, logprobs=logprobs))
        if grounding := candidate.get("grounding_metadata"):
            gathered = self._grounding.setdefault(index, {})
            gathered.update({key: value for key, value in grounding.items() if value})
        if deltas := self._tool_call_deltas(index, content.get("parts") or []):
            out.append(self._chunk(index, {"tool_calls": deltas}))
        if candidate.get("finish_reason"):
            self._finish(index, finish_reason_from(candidate["finish_reason"], index in self._calls), out)

    def usage(self) -> dict | None:
        """The usage so far (None until Gemini reported any)."""
        return usage_from(self._usage_metadata, self._searches()) if self._usage_metadata else None

    def _searches(self) -> int:
        return max((search_count(grounding) for grounding in self._grounding.values()), default=0)

    def take_signatures(self) -> dict[str, str]:
        """The thought signatures seen since the last call (for the signature store)."""
        taken, self._signatures = self._signatures, {}
        return taken

    def chunks_from(self, response: dict) -> list[dict]:
        """The OpenAI chunks for one Gemini chunk, ready to send at once."""
        out: list[dict] = []
        self._usage_metadata = response.get("usage_metadata") or self._usage_metadata
        candidates = response.get("candidates") or ()
        if not candidates and (response.get("prompt_feedback") or {}).get("block_reason"):
            for index in range(self._answer.n):
                if index not in self._finished:
                    self._finish(index, BLOCKED_PROMPT, out)
        for candidate in candidates:
            self._candidate(candidate, out)
        return out

    def close(self) -> list[dict]:
        """The chunks that end the stream once upstream is done."""
        out: list[dict] = []
        for index in sorted((self._opened | set(range(self._answer.n))) - self._finished):
            self._finish(index, finish_reason_from("STOP", index in self._calls), out)
        if self._include_usage:
            out.append({**self._head, "choices": [], "usage": usage_from(self._usage_metadata, self._searches())})
        return out
