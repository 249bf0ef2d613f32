"""Pacing and stream delivery: time to first token, tokens per second, faults, disconnects.

The stream generator only formats plain values (no request object) and keeps the counters:
when the client goes away the server's write fails, the server closes this generator, and
generation stops right there (GeneratorExit at the pending yield), counted as aborted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from .errors import EmulatorError
from .responses import StreamEvent
from .state import Stats
from .wire import sse_event


# The send time (time.time()) put before a chunk's text by the stamp=1 directive.
STAMP = "<<sent {:.6f}>>"


def stamped(body: dict[str, Any], sent: float) -> dict[str, Any]:
    """A copy of a stream event whose first answer text part starts with the send time."""
    candidates = []
    for candidate in body.get("candidates", []):
        parts = list((candidate.get("content") or {}).get("parts", []))
        for position, part in enumerate(parts):
            if "text" in part and not part.get("thought"):
                parts[position] = {**part, "text": STAMP.format(sent) + part["text"]}
                candidate = {**candidate, "content": {**candidate["content"], "parts": parts}}
                break
        candidates.append(candidate)
    return {**body, "candidates": candidates} if candidates else body


class DroppedConnection(ConnectionAbortedError):
    """Raised from the app to make the server drop the TCP connection mid-answer.

    Servers treat a ConnectionError from the application as a dead client: they close the
    socket without writing anything more, so a chunked body is left unfinished.
    """


@dataclass(frozen=True)
class Pace:
    ttft: float = 0.0
    tokens_per_second: float = 0.0

    def gap(self, tokens: int) -> float:
        """Seconds it takes to generate `tokens` after the first chunk."""
        return tokens / self.tokens_per_second if self.tokens_per_second > 0 else 0.0

    def total(self, tokens: int) -> float:
        """How long a non-streamed answer of `tokens` takes."""
        return self.ttft + self.gap(tokens)


@dataclass(frozen=True)
class StreamFault:
    """Interrupt a stream after `after` events: with an error event, or by dropping it."""

    after: int
    error: EmulatorError | None  # None: drop the connection instead


def sleep(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


def paced_stream(events: Iterable[StreamEvent], pace: Pace, fault: StreamFault | None,
                 stats: Stats, stamp: bool = False) -> Iterator[bytes]:
    """SSE bytes of a streamed answer, delivered at the given pace (stamp: see STAMP)."""
    stats.add("streams_started")
    ended = False
    try:
        sleep(pace.ttft)
        sent = 0
        for event in events:
            if fault is not None and sent == fault.after:
                break
            if sent:
                sleep(pace.gap(event.tokens))
            stats.add("tokens_generated", event.tokens)
            yield sse_event(stamped(event.body, time.time()) if stamp else event.body)
            sent += 1
        ended = True
        if fault is None:
            stats.add("streams_completed")
            return
        stats.add("streams_faulted")
        if fault.error is None:
            raise DroppedConnection("emulator fault=drop")
        yield sse_event(fault.error.body())
    finally:
        if not ended:
            stats.add("streams_aborted")
