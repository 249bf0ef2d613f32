"""Gemini stream chunks -> OpenAI chat.completion.chunk objects, one upstream chunk at a time.

OpenAI's stream contract, kept here: the same id/created/model on every chunk; each choice
opens with delta {"role": "assistant", "content": ""}; exactly one chunk per choice carries a
finish_reason and nothing follows it; with include_usage every chunk has "usage": null and a
last chunk has "choices": [] and the usage.
"""
from __future__ import annotations

from .chat import BLOCKED_PROMPT, finish_reason_from, text_of, usage_from


class ChatStream:
    def __init__(self, *, completion_id: str, created: int, model: str, n: int = 1,
                 include_usage: bool = False):
        self._head = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model}
        self._n = n
        self._include_usage = include_usage
        self._opened: set[int] = set()
        self._finished: set[int] = set()
        self._usage_metadata: dict | None = None

    def _chunk(self, index: int, delta: dict, finish_reason: str | None = None) -> dict:
        chunk = {**self._head, "choices": [
            {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}
        if self._include_usage:
            chunk["usage"] = None
        return chunk

    def _open(self, index: int, out: list) -> None:
        if index not in self._opened:
            self._opened.add(index)
            out.append(self._chunk(index, {"role": "assistant", "content": ""}))

    def _finish(self, index: int, reason: str, out: list) -> None:
        self._open(index, out)
        self._finished.add(index)
        out.append(self._chunk(index, {}, reason))

    def chunks_from(self, response: dict) -> list[dict]:
        """The OpenAI chunks for one Gemini chunk, ready to send at once."""
        out: list[dict] = []
        self._usage_metadata = response.get("usage_metadata") or self._usage_metadata
        candidates = response.get("candidates") or ()
        if not candidates and (response.get("prompt_feedback") or {}).get("block_reason"):
            for index in range(self._n):
                if index not in self._finished:
                    self._finish(index, BLOCKED_PROMPT, out)
        for candidate in candidates:
            index = candidate.get("index", 0)
            if index in self._finished:
                continue
            self._open(index, out)
            text = text_of(candidate.get("content"))
            if text:
                out.append(self._chunk(index, {"content": text}))
            if candidate.get("finish_reason"):
                self._finish(index, finish_reason_from(candidate["finish_reason"]), out)
        return out

    def close(self) -> list[dict]:
        """The chunks that end the stream once upstream is done."""
        out: list[dict] = []
        for index in sorted((self._opened | set(range(self._n))) - self._finished):
            self._finish(index, "stop", out)
        if self._include_usage:
            out.append({**self._head, "choices": [], "usage": usage_from(self._usage_metadata)})
        return out
