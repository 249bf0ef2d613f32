"""Pacing and stream delivery: time to first token, tokens per second, faults, disconnects.

The stream generator only formats plain values (no request object) and keeps the counters:
when the client goes away the server's write fails, the server closes this generator, and
generation stops right there (GeneratorExit at the pending yield), counted as aborted.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from gemini_emulator.errors import EmulatorError
from gemini_emulator.responses import StreamEvent
from gemini_emulator.state import Stats
from gemini_emulator.wire import sse_event

# The send time (time.time()) put before a chunk's text by the stamp=1 directive.
STAMP = "<<sent {:.6f}>>"
HANG_LIMIT = 3600.0  # seconds a fault=hang holds a connection whose client never leaves


def stamped(body: dict[str, Any], sent: float) -> dict[str, Any]:
    """A copy of a stream event whose first answer text part starts with the send time."""
    candidates = []
    for candidate in body.get("candidates", []):
        parts = list((candidate.get("content") or {}).get("parts", []))
        for position, part in enumerate(parts):
            if "text" in part and not part.get("thought"):
                parts[position] = {**part, "text": STAMP.format(sent) + part["text"]}
                candidates.append({**candidate, "content": {**candidate["content"], "parts": parts}})
                break
        else:
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
    """Interrupt a stream after `after` events: with an error event, with `raw` bytes for an
    event, by ending it there (`end`), by waiting for `hang` to return then dropping it, or
    (none of these) by dropping it."""

    after: int
    error: EmulatorError | None = None
    raw: bytes | None = None
    end: bool = False
    hang: Callable[[], None] | None = None


def client_leaves(connection: socket.socket | None, limit: float = HANG_LIMIT) -> Callable[[], None]:
    """A wait that returns once the client closed `connection` (or after `limit` seconds): the
    request body is read whole before the app runs, so anything readable now is the end."""
    def wait() -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if connection is None:
                time.sleep(0.05)
                continue
            try:
                poller = select.poll()  # not select.select: descriptors may be above 1024
                poller.register(connection, select.POLLIN)
                readable = bool(poller.poll(50))
                if readable and not connection.recv(1, socket.MSG_PEEK):
                    return
            except (OSError, ValueError):  # reset, or closed by the server on stop
                return
            if readable:
                time.sleep(0.05)  # bytes of a next request: not gone, and not ours to read
    return wait


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
        for sent, event in enumerate(events):
            if fault is not None and sent == fault.after:
                break
            if sent:
                sleep(pace.gap(event.tokens))
            stats.add("tokens_generated", event.tokens)
            yield sse_event(stamped(event.body, time.time()) if stamp else event.body)
        ended = True
        if fault is None:
            stats.add("streams_completed")
            return
        stats.add("streams_faulted")
        if fault.end:
            return
        if fault.error is not None:
            yield sse_event(fault.error.body())
        elif fault.raw is not None:
            yield fault.raw
        else:
            if fault.hang is not None:
                yield b""  # the status line and headers go out now, then nothing
                fault.hang()
            raise DroppedConnection("emulator fault")
    finally:
        if not ended:
            stats.add("streams_aborted")
