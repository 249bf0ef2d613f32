"""Answers Gemini ended without giving one, told apart from answers (the table in
docs/compatibility.md#honest-endings).

Gemini sometimes ends a candidate with nothing a client can use: a function call it could not
write (MALFORMED_FUNCTION_CALL), a call to a tool it was not given (UNEXPECTED_TOOL_CALL), or a
STOP with no part at all. Translated as they stand they are finish_reason "stop" with empty
content, which a client cannot tell from a real (empty) answer. Such an answer is retried
(EMPTY_ANSWER_RETRIES, by the relay) and, if it comes back the same, is a 502 naming what
Gemini did. MAX_TOKENS with nothing but thoughts (thinking used the whole budget) is not one
of them: finish_reason "length" already says what happened, and another try would end alike.
"""
from __future__ import annotations

from gemini_proxy.errors import ApiError

# Gemini finishReason (EMPTY_STOP: STOP without a part) -> (error code, message).
BROKEN_ENDINGS = {
    "MALFORMED_FUNCTION_CALL": ("upstream_malformed_function_call",
                                "Gemini ended its answer with MALFORMED_FUNCTION_CALL: it tried to call a function "
                                "and could not write the call."),
    "UNEXPECTED_TOOL_CALL": ("upstream_unexpected_tool_call",
                             "Gemini ended its answer with UNEXPECTED_TOOL_CALL: it called a tool the request does "
                             "not declare."),
    "EMPTY_STOP": ("upstream_empty_answer", "Gemini ended its answer (finishReason STOP) without any content."),
}
# Reasons that end an answer normally, when there is something in it.
_STOPS = frozenset({"STOP", "FINISH_REASON_UNSPECIFIED"})


def has_output(parts: list[dict] | None, thoughts: bool = False) -> bool:
    """Whether parts hold text, a call, media... (with `thoughts`, thought summaries count too)."""
    for part in parts or ():
        if part.get("thought") and not thoughts:
            continue
        if part.get("text") or any(value for key, value in part.items()
                                   if key not in ("text", "thought", "thought_signature")):
            return True
    return False


def broken_ending(finish_reason: str | None, produced: bool) -> str | None:
    """The BROKEN_ENDINGS key of a candidate that ended with `finish_reason` (`produced`: its
    parts had output, has_output), None when it is an answer."""
    if finish_reason in BROKEN_ENDINGS:
        return finish_reason
    if finish_reason in _STOPS and not produced:
        return "EMPTY_STOP"
    return None


def broken_answer(response: dict) -> str | None:
    """The BROKEN_ENDINGS key of a whole answer with a candidate that is no answer (None: all are)."""
    for candidate in response.get("candidates") or ():
        produced = has_output((candidate.get("content") or {}).get("parts"))
        if (broken := broken_ending(candidate.get("finish_reason"), produced)) is not None:
            return broken
    return None


def finish_reasons(response: dict) -> str | None:
    """Gemini's finish reasons of an answer, by candidate index, comma-separated (the
    x-gemini-finish-reason header); a blocked prompt: PROMPT_BLOCKED_<blockReason>."""
    candidates = sorted(response.get("candidates") or (), key=lambda c: c.get("index") or 0)
    reasons = [c["finish_reason"] for c in candidates if c.get("finish_reason")]
    if not reasons and (blocked := (response.get("prompt_feedback") or {}).get("block_reason")):
        return f"PROMPT_BLOCKED_{blocked}"
    return ",".join(reasons) or None


def ending_error(broken: str, attempts: int) -> ApiError:
    """The 502 of an answer that was no answer `attempts` times in a row."""
    code, message = BROKEN_ENDINGS[broken]
    tried = f" (asked {attempts} times)" if attempts > 1 else ""
    return ApiError(502, f"{message}{tried}", "upstream_error", None, code, upstream=broken)


class EndingWatch:
    """Follows a stream's chunks: whether any output started (text, thoughts, a call), each
    candidate's finish reason, and whether a candidate ended as no answer."""

    def __init__(self) -> None:
        self.started = False
        self._produced: set[int] = set()  # candidates with output other than thoughts
        self._reasons: dict[int, str] = {}
        self.blocked: str | None = None

    def add(self, chunk: dict) -> str | None:
        """Takes one chunk; the BROKEN_ENDINGS key of a candidate it ended as no answer."""
        self.blocked = (chunk.get("prompt_feedback") or {}).get("block_reason") or self.blocked
        broken = None
        for candidate in chunk.get("candidates") or ():
            index, parts = candidate.get("index") or 0, (candidate.get("content") or {}).get("parts") or ()
            self.started = self.started or has_output(parts, thoughts=True)
            if has_output(parts):
                self._produced.add(index)
            if reason := candidate.get("finish_reason"):
                self._reasons[index] = reason
                broken = broken or broken_ending(reason, index in self._produced)
        return broken

    def reasons(self) -> str | None:
        """What finish_reasons() gives for the whole answer so far."""
        if not self._reasons and self.blocked:
            return f"PROMPT_BLOCKED_{self.blocked}"
        return ",".join(self._reasons[index] for index in sorted(self._reasons)) or None
