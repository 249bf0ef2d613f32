"""What a Gemini answer must be before translate/ reads it: the right shape, and finished.

Gemini's 200 is trusted by nothing else: a proxy's error page, a truncated body or a changed
API would otherwise become a 500 deep in translation, or an empty answer that looks like a
successful one. Checked here, on the SDK-named dicts (snake_case, as translate/ reads them):
- the shape: the fields translate/ reads have the types it expects (SHAPE; other fields are
  not looked at, and a missing field is fine: proto3 JSON leaves out zero values);
- the end: every candidate ends with a finishReason, or the prompt was blocked
  (promptFeedback.blockReason). An answer with neither is empty (nothing came) or incomplete.
"""
from __future__ import annotations

from typing import Any

from gemini_proxy.errors import upstream_bad_response, upstream_empty, upstream_incomplete

_TOKEN = {"token": str, "log_probability": (int, float)}
_PART = {"text": str, "thought_signature": str, "function_call": {"name": str, "id": str, "args": dict}}
_COUNTS = ("prompt_token_count", "candidates_token_count", "thoughts_token_count", "total_token_count",
           "cached_content_token_count", "tool_use_prompt_token_count")
_NESTED = (dict, list)
# A spec is a type (or tuple of types) for a value, a dict for an object (fields checked when
# present, None allowed: translate/ reads objects and lists with `or`), or a one-item list
# for a list of such values.
SHAPE = {
    "candidates": [{
        "index": int,
        "finish_reason": str,
        "content": {"parts": [_PART]},
        "logprobs_result": {"chosen_candidates": [_TOKEN], "top_candidates": [{"candidates": [_TOKEN]}]},
    }],
    "usage_metadata": dict.fromkeys(_COUNTS, int),
    "prompt_feedback": {"block_reason": str},
}


def _mismatch(value: Any, spec: Any) -> list[str] | None:
    """Where `value` departs from `spec`, innermost step first (None: it does not). The path is
    only built on a mismatch, and a field whose spec is a type is checked without a call: every
    chunk of every answer passes here."""
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return []
        for key, inner in spec.items():
            found = value.get(key)
            if found is None:
                continue
            if type(inner) in _NESTED:
                if (problem := _mismatch(found, inner)) is not None:
                    return [*problem, f".{key}"]
            elif not isinstance(found, inner):
                return [f".{key}"]
        return None
    if not isinstance(value, list):
        return []
    inner = spec[0]
    for index, item in enumerate(value):
        if type(inner) in _NESTED:
            if (problem := _mismatch(item, inner)) is not None:
                return [*problem, f"[{index}]"]
        elif not isinstance(item, inner):
            return [f"[{index}]"]
    return None


def check_shape(answer: Any) -> dict:
    """`answer` if it is a GenerateContentResponse translate/ can read; else the 502."""
    problem = _mismatch(answer, SHAPE)
    if problem is not None:
        where = "".join(reversed(problem)).removeprefix(".") or "the answer"
        raise upstream_bad_response(f"{where} is not what Gemini sends")
    return answer


class Progress:
    """How far an answer got: which candidates started and finished, whether it was blocked."""

    def __init__(self) -> None:
        self.chunks = 0
        self.blocked = False
        self.started: set[int] = set()
        self.finished: set[int] = set()

    def add(self, answer: dict) -> None:
        self.chunks += 1
        if (answer.get("prompt_feedback") or {}).get("block_reason"):
            self.blocked = True
        for candidate in answer.get("candidates") or ():
            index = candidate.get("index") or 0
            self.started.add(index)
            if candidate.get("finish_reason"):
                self.finished.add(index)

    def check_finished(self) -> None:
        """Raises the 502 of an answer that ended before it was done."""
        if self.blocked:
            return
        if not self.started:
            raise upstream_empty()
        if self.started - self.finished:
            raise upstream_incomplete()


def check_answer(answer: Any) -> dict:
    """A whole (non-streamed) answer: the right shape, and finished."""
    progress = Progress()
    progress.add(check_shape(answer))
    progress.check_finished()
    return answer
