"""Test directives: per-request faults, pace and content, written into the prompt.

Syntax: a bracketed group anywhere in the text of the last user turn that has text (the last
content with role "user" or no role, holding at least one text part):

    [emulator key=value key="quoted value" ...]

Quoted values may contain spaces and `]`, with backslash escapes \\" \\\\ \\n \\t. The group is
removed from the prompt before anything else looks at it (seed, token counts), several groups
merge (later keys win), and an unknown key or bad value is a 400 INVALID_ARGUMENT, so a typo
never passes silently.

Keys:
    fault=400|badkey|403|404|429|500|503|504
                     answer that HTTP error (badkey: 400 with ErrorInfo API_KEY_INVALID);
                     streams fail before their first byte. 429 carries QuotaFailure, Help and
                     RetryInfo{retryDelay: "<retry>s"}.
    fault=midstream  stream `after` chunks, then `data: {"error": {...}}` with `code` (default
                     500) and end the stream; a non-streamed call answers that error.
    fault=drop       stream `after` chunks, then close the TCP connection without ending the
                     chunked body; a non-streamed call gets the connection closed, no answer.
                     Without tokens=/say=, answers with a fault that can land mid-stream
                     (MID_STREAM_FAULTS) are made long enough for it to; a shorter fixed
                     answer gets it at its end.
    fault=block      the prompt is blocked: promptFeedback.blockReason SAFETY, no candidates.
  Faults of a broken upstream (what a gateway must not pass on as an answer):
    fault=html       answer 502 with an HTML error page (text/html), as a proxy or a load
                     balancer in front of Gemini would; a stream too, before its first byte.
    fault=huge       Gemini's error envelope with a message of 5 MiB (status `code`,
                     default 400).
    fault=echokey    Gemini's error envelope whose message quotes the request's API key, also
                     as a bearer token and a ?key= parameter (status `code`, default 400).
    fault=close      read the request, then close the connection: no status line, nothing.
    fault=hang       read the request and send nothing until the client closes the connection
                     (at most HANG_LIMIT seconds); a stream sends its 200 headers and `after`
                     chunks (default 0) first.
    fault=empty      a 200 with nothing in it: a stream without a single event; `{}` for a
                     non-streamed call.
    fault=unfinished the answer without any finishReason; a stream ends cleanly, after `after`
                     chunks if given.
    fault=notjson    a 200 whose body (a stream: the event after `after` chunks, default 0)
                     is not JSON.
    fault=wrongshape a 200 whose body (a stream: the event after `after` chunks, default 0)
                     is JSON but no GenerateContentResponse: {"candidates": [{"content": "..."}]}.
    apikey=K         the fault hits only calls made with API key K (a pool of keys: one key
                     rate-limited or refused while the others answer).
    project=P        the fault hits only Vertex AI calls for project P (one of several
                     projects rate-limited while the others answer).
    model=M          the fault hits only calls to model M (its id, e.g. gemini-2.5-pro: one
                     model overloaded while the others answer).
    times=N          the fault (and finish=) hits only the first N requests with the same
                     model, method and body; later ones are answered as if there were neither
                     (to see a retry succeed). Counted per emulator.
    code=500|503|... status of a midstream error (default 500), a huge or echokey error (400).
    after=K          chunks before a midstream/drop fault (default 1), a hang, notjson or
                     wrongshape event (default 0), the end of an unfinished stream, or `finish`.
    retry=N          RetryInfo delay in seconds of a 429 (default 7).
    finish=REASON    end each candidate with this finishReason (SAFETY adds blocked
                     safetyRatings); with after=K, after K chunks (K*chunk_tokens tokens).
    delay=S          sleep S seconds before answering (for client timeout tests).
    ttft=S, tps=N    per-request time to first token and tokens per second.
    tokens=N         answer exactly N tokens (before maxOutputTokens/stop sequences apply).
    say="text"       answer exactly this text (before maxOutputTokens/stop sequences apply;
                     it also bypasses JSON / enum output formatting). tokens= and say= shape
                     text answers only: an answer that calls functions ignores them.
    hear="text"      a request for the transcript of its audio hears exactly this (audio module).
    thoughts=N       a request that thinks reports exactly N thinking tokens (0: none); no
                     effect when thinking is off (model without thinking, thinkingBudget 0).
    sources=N        a request with a Google Search tool finds N pages (0: the model does not
                     search; at most grounding.MAX_SOURCES); see the grounding module.
    stamp=1          benchmarks: each streamed chunk's text starts with the time the emulator
                     sent it, `<<sent 1712345678.123456>>` (time.time(), see streaming.STAMP),
                     so a client can tell how long a gateway took to relay it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from gemini_emulator.errors import STATUS_BY_CODE, invalid_argument
from gemini_emulator.grounding import MAX_SOURCES

HTTP_FAULTS = frozenset({"400", "badkey", "403", "404", "429", "500", "503", "504"})
STREAM_FAULTS = frozenset({"midstream", "drop", "block"})
BROKEN_FAULTS = frozenset({"html", "huge", "echokey", "close", "hang", "empty", "unfinished", "notjson", "wrongshape"})
FAULTS = HTTP_FAULTS | STREAM_FAULTS | BROKEN_FAULTS
# Faults that may land after some chunks of a stream (the answer is made long enough).
MID_STREAM_FAULTS = frozenset({"midstream", "drop", "hang", "unfinished", "notjson", "wrongshape"})

_GROUP = re.compile(r'\[emulator\b((?:[^\]"]|"(?:[^"\\]|\\.)*")*)\]')
_PAIR = re.compile(r'\s*([A-Za-z_]+)=("(?:[^"\\]|\\.)*"|[^\s"]+)\s*')
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
_FINISH = re.compile(r"^[A-Z][A-Z_]*$")


@dataclass(frozen=True)
class Directives:
    fault: str | None = None
    code: int | None = None
    after: int | None = None
    times: int | None = None
    retry: int = 7
    finish: str | None = None
    delay: float = 0.0
    ttft: float | None = None
    tps: float | None = None
    tokens: int | None = None
    say: str | None = None
    hear: str | None = None
    thoughts: int | None = None
    sources: int | None = None
    stamp: bool = False
    apikey: str | None = None
    project: str | None = None
    model: str | None = None

    def spent(self) -> Directives:
        """These directives once their fault no longer hits: without it, and with times=N without
        the finish= it limits too (so `finish=MALFORMED_FUNCTION_CALL times=1` fails once)."""
        return replace(self, fault=None, finish=None if self.times is not None else self.finish)

    def applies(self, api_key: str, model_id: str, project: str | None = None) -> bool:
        """Whether the fault (if any) hits a call with this key (or Vertex AI project) to this model."""
        return self.apikey in (None, api_key) and self.project in (None, project) and self.model in (None, model_id)


def _int_from(low: int, high: int | None = None):
    """A parser of whole numbers in low..high (no upper bound without `high`)."""
    def parse(raw: str) -> int:
        value = int(raw)
        if value < low or (high is not None and value > high):
            raise ValueError(f"must be >= {low}" if high is None else f"must be {low}..{high}")
        return value
    return parse


_non_negative_int = _int_from(0)


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if not value >= 0 or value == float("inf"):
        raise ValueError("must be a finite number >= 0")
    return value


def _flag(raw: str) -> bool:
    if raw not in ("0", "1"):
        raise ValueError("0 or 1")
    return raw == "1"


def _fault(raw: str) -> str:
    if raw not in FAULTS:
        raise ValueError(f"one of {sorted(FAULTS)}")
    return raw


def _error_code(raw: str) -> int:
    value = int(raw)
    if value not in STATUS_BY_CODE:
        raise ValueError(f"one of {sorted(STATUS_BY_CODE)}")
    return value


def _finish_reason(raw: str) -> str:
    # CONTINUATION would make the SDK silently re-issue the request (notes §0.9).
    if not _FINISH.match(raw) or raw == "CONTINUATION":
        raise ValueError("an upper-case finishReason other than CONTINUATION")
    return raw


_PARSERS: dict[str, Callable[[str], Any]] = {
    "fault": _fault,
    "code": _error_code,
    "after": _non_negative_int,
    "times": _int_from(1),
    "retry": _non_negative_int,
    "finish": _finish_reason,
    "delay": _non_negative_float,
    "ttft": _non_negative_float,
    "tps": _non_negative_float,
    "tokens": _non_negative_int,
    "say": str,
    "hear": str,
    "thoughts": _non_negative_int,
    "sources": _int_from(0, MAX_SOURCES),
    "stamp": _flag,
    "apikey": str,
    "project": str,
    "model": str,
}


def _unquote(raw: str) -> str:
    if not raw.startswith('"'):
        return raw
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), raw[1:-1])


def _parse_group(body: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    position = 0
    while position < len(body):
        match = _PAIR.match(body, position)
        if match is None or match.end() == position:
            if body[position:].strip():
                raise invalid_argument(f"Invalid emulator directive near {body[position:]!r}")
            break
        key, raw = match.group(1), _unquote(match.group(2))
        if key not in _PARSERS:
            raise invalid_argument(f"Unknown emulator directive key {key!r}")
        try:
            values[key] = _PARSERS[key](raw)
        except ValueError as exc:
            raise invalid_argument(f"Invalid emulator directive {key}={raw!r}: {exc}") from None
        position = match.end()
    return values


def parse_text(text: str) -> tuple[dict[str, Any], str]:
    """The directive values found in text, and the text with the groups removed."""
    if "[emulator" not in text:
        return {}, text
    values: dict[str, Any] = {}
    for match in _GROUP.finditer(text):
        values.update(_parse_group(match.group(1)))
    stripped = _GROUP.sub("", text)
    if "[emulator" in stripped:
        raise invalid_argument("Unterminated or malformed [emulator ...] directive")
    return values, stripped.strip()


def _directive_turn(contents: list[Any]) -> int | None:
    for index in range(len(contents) - 1, -1, -1):
        content = contents[index]
        if not isinstance(content, dict) or content.get("role", "user") not in ("user", ""):
            continue
        if any(isinstance(part, dict) and "text" in part for part in content.get("parts", [])):
            return index
    return None


def last_user_text(contents: list[Any]) -> str:
    """The text of the last user turn that has text ("" if none)."""
    index = _directive_turn(contents)
    if index is None:
        return ""
    return " ".join(part["text"] for part in contents[index].get("parts", [])
                    if isinstance(part, dict) and isinstance(part.get("text"), str)).strip()


def extract(contents: list[Any]) -> tuple[Directives, list[Any]]:
    """Directives of a request, and its contents with the directive groups stripped."""
    index = _directive_turn(contents)
    if index is None:
        return Directives(), contents
    values: dict[str, Any] = {}
    parts = []
    for part in contents[index].get("parts", []):
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            found, text = parse_text(part["text"])
            values.update(found)
            parts.append({**part, "text": text})
        else:
            parts.append(part)
    if not values:
        return Directives(), contents
    stripped = list(contents)
    stripped[index] = {**contents[index], "parts": parts}
    return replace(Directives(), **values), stripped
