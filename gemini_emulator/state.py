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
    _by_key: dict[str, int] = field(default_factory=dict)  # calls per API key (a test's keys, not secrets)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._values[name] += amount

    def add_key(self, key: str) -> None:
        with self._lock:
            self._by_key[key] = self._by_key.get(key, 0) + 1

    def snapshot(self) -> dict:
        """The counters, and `requests_by_key`: the calls each API key made."""
        with self._lock:
            return {**self._values, "requests_by_key": dict(self._by_key)}

    def reset(self) -> None:
        with self._lock:
            self._values = dict.fromkeys(COUNTERS, 0)
            self._by_key = {}


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
