"""Answers Gemini ended without giving one (translate/endings.py): asked again, at most
EMPTY_ANSWER_RETRIES times, while the client has not had a byte of the answer; then a 502.

A whole answer is simply asked for again. A stream is held back until its first output
(text, a thought, a call) or its end: one that ends with nothing usable is closed and opened
again, still inside the view, so the client only ever sees a good answer or a real HTTP
status. Once output went out, a candidate that still ends as no answer is an error event in
the stream. Gemini's raw finish reasons go to the request record (the x-gemini-finish-reason
header when known before the answer starts, and the request log).
"""
from __future__ import annotations

import logging
from collections.abc import Iterator

from gemini_proxy.observability.telemetry import RequestRecord
from gemini_proxy.relay.fallbacks import ModelChain, Routable
from gemini_proxy.relay.streams import Opened
from gemini_proxy.translate.endings import EndingWatch, broken_answer, ending_error, finish_reasons

log = logging.getLogger(__name__)


def generate_answer(chain: ModelChain, requests: Routable, record: RequestRecord, retries: int) -> dict:
    """A whole Gemini answer that is an answer (or the 502 of one that was not, `retries` + 1 times)."""
    for attempt in range(retries + 1):
        response = chain.generate(requests)
        record.finish_reason = finish_reasons(response)
        if (broken := broken_answer(response)) is None:
            return response
        log.info("Gemini's answer ended as %s (attempt %d of %d)", broken, attempt + 1, retries + 1)
    raise ending_error(broken, retries + 1)


class Watched:
    """An opened stream whose chunks up to its first output were pulled already: iterating gives
    them, then the rest, each checked for a candidate that ends as no answer."""

    def __init__(self, opened: Opened, chunks: Iterator[dict], held: list[dict], watch: EndingWatch,
                 record: RequestRecord):
        self._opened, self._chunks, self._held, self._watch, self._record = opened, chunks, held, watch, record

    def __iter__(self) -> Iterator[dict]:
        held, self._held = self._held, []
        yield from held
        for chunk in self._chunks:
            broken = self._watch.add(chunk)
            self._record.finish_reason = self._watch.reasons()
            if broken is not None:
                raise ending_error(broken, 1)
            yield chunk

    def close(self) -> None:
        self._opened.close()


def open_answer(chain: ModelChain, requests: Routable, record: RequestRecord, retries: int,
                fallback: bool = True) -> Watched:
    """A Gemini stream that has started to answer, or has ended as an answer (blocked, cut by
    MAX_TOKENS...); one that ended as no answer before its first output went to the client is
    opened again, `retries` times at most."""
    for attempt in range(retries + 1):
        opened, kept = chain.open(requests, fallback), False
        try:
            chunks, held, watch, broken = iter(opened), [], EndingWatch(), None
            for chunk in chunks:
                held.append(chunk)
                broken = watch.add(chunk) or broken
                if watch.started:
                    break
            record.finish_reason = watch.reasons()
            if broken is None:
                kept = True
                return Watched(opened, chunks, held, watch, record)
        finally:
            if not kept:  # a failure while peeking, or an answer that is none: the call ends here
                opened.close()
        log.info("Gemini's stream ended as %s before any output (attempt %d of %d)", broken, attempt + 1,
                 retries + 1)
    raise ending_error(broken, retries + 1)
