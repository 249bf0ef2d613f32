"""Per-app observable state: counters and the log of received requests (both lock-guarded)."""

from __future__ import annotations

import copy
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

REQUEST_LOG_SIZE = 100

COUNTERS = (
    "requests",  # every call to the Gemini API routes (successful or not)
    "streams_started",  # streams whose 200 answer began
    "streams_completed",  # streams that sent their last event
    "streams_aborted",  # streams whose client went away: generation stopped there
    "streams_faulted",  # streams ended by a midstream/drop directive
    "tokens_generated",  # candidate tokens handed to the network, streamed or not
    "signatures_issued",  # thoughtSignatures put on function calls (one per calling candidate)
    "signatures_verified",  # emulator-issued signatures that came back valid (current turn)
    "signatures_dummy",  # Gemini's documented dummy signature came back instead (current turn)
)


@dataclass
class Stats:
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._values[name] += amount

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._values)

    def reset(self) -> None:
        with self._lock:
            self._values = dict.fromkeys(COUNTERS, 0)


@dataclass
class RequestLog:
    """The last REQUEST_LOG_SIZE request bodies, as received after key normalisation."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _entries: deque[dict[str, Any]] = field(
        default_factory=lambda: deque(maxlen=REQUEST_LOG_SIZE)
    )

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def last(self, count: int, methods: frozenset[str] | None) -> list[dict[str, Any]]:
        """Up to `count` most recent entries (oldest first), optionally only these methods."""
        with self._lock:
            entries = [e for e in self._entries if methods is None or e["method"] in methods]
        return copy.deepcopy(entries[-count:]) if count > 0 else []

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
