"""Opening an upstream stream: the call made and its first chunk pulled while the view still
runs, so that a failure to start is a real HTTP status rather than an error inside a 200."""
from __future__ import annotations

from collections.abc import Iterator

from gemini_proxy.observability.telemetry import RequestRecord
from gemini_proxy.services import Services
from gemini_proxy.translate.chat import GeminiRequest


class Opened:
    """An upstream stream whose first chunk has arrived: iterating gives every chunk, that one
    first; close() closes the upstream call (a client that went away stops Gemini too)."""

    def __init__(self, services: Services, gemini: GeminiRequest, record: RequestRecord):
        self._chunks = services.upstream.stream(gemini.model, gemini.contents, gemini.config, record.client.gemini_key)
        self._first = next(self._chunks, None)

    def __iter__(self) -> Iterator[dict]:
        first, self._first = self._first, None
        if first is not None:
            yield first
        yield from self._chunks

    def close(self) -> None:
        self._chunks.close()
