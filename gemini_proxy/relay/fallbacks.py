"""Model fallbacks (MODEL_FALLBACKS): which Gemini model answers a generation request.

The model the client asked for is called first. When that call fails before anything reached
the client (a stream: before its first chunk was pulled, which happens while the view still
runs) with Gemini's 503 (overloaded), 500 (after the upstream's own retries) or 429 (a quota,
or with a key pool every key cooling down for that model, while the next may still have quota
on them), the next model of its chain is asked, with the request translated again for it
(families differ: thinking config, thought signatures).
Anything else (a 400, a timeout, an unreachable Gemini) would fail the same way on another
model, or has already cost the client the wait: it is the client's answer.

When every model failed, the client gets the last model's error (docs/faults.md). The answer's
`model` stays the name the client asked for; the model that answered is the request record's
`answered_by` (the x-gemini-model header, the request log), and each answer given by a fallback
is counted in gemini_proxy_model_fallbacks_total{requested, answered}.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from gemini_proxy.errors import ApiError
from gemini_proxy.observability.telemetry import RequestRecord
from gemini_proxy.relay.streams import Opened
from gemini_proxy.services import Services
from gemini_proxy.translate.chat import GeminiRequest

log = logging.getLogger(__name__)

# Gemini statuses (as ApiError gives them) after which the next model is asked.
FALLBACK_STATUSES = frozenset({429, 500, 503})

T = TypeVar("T")


class Routable(NamedTuple):
    """A request's Gemini request for the model it named, and how to make it for another model."""
    first: GeminiRequest
    again: Callable[[str], GeminiRequest]

    @property
    def dropped(self) -> tuple[str, ...]:
        # Schema keywords are dropped the same way for every model.
        return self.first.dropped


def worth_another_model(error: ApiError) -> bool:
    """Whether Gemini failed this call in a way another model may not. Only the upstream
    boundary raises inside a call (the key pool's "every key cooling down" included)."""
    return error.status in FALLBACK_STATUSES


class ModelChain:
    """The models one client request may be answered by, asked in order. Its calls share the
    chain: once a model has failed, the request's later calls (the other prompts of a legacy
    completion) start at the model that answered."""

    def __init__(self, services: Services, record: RequestRecord, model: str):
        self._services = services
        self._models = services.settings.model_chain(model)
        self._fallbacks = services.telemetry.metrics.model_fallbacks
        self._record = record
        self._at = 0

    @property
    def model(self) -> str:
        """The model that answered the last call (before any call: the one asked for)."""
        return self._models[self._at]

    def generate(self, routable: Routable) -> dict:
        """A whole Gemini answer (with the client's key, in pass-through mode)."""
        key, upstream = self._record.client.gemini_key, self._services.upstream

        def generated(gemini: GeminiRequest) -> dict:
            return upstream.generate(gemini.model, gemini.contents, gemini.config, key)
        return self.answer(routable, generated)

    def open(self, routable: Routable, fallback: bool = True) -> Opened:
        """A Gemini stream whose first chunk has arrived; without `fallback`, from the current
        model only (the client already has the first byte of the answer)."""
        return self.answer(routable, lambda gemini: Opened(self._services, gemini, self._record), fallback)

    def answer(self, routable: Routable, call: Callable[[GeminiRequest], T], fallback: bool = True) -> T:
        """`call(request)` for the current model, then (with `fallback`) for each next one while
        the one before failed with a FALLBACK_STATUSES error; the last failure is raised."""
        last = len(self._models) - 1 if fallback else self._at
        failure: ApiError | None = None
        for index in range(self._at, last + 1):
            model = self._models[index]
            try:
                gemini = routable.first if model == routable.first.model else routable.again(model)
            except ApiError as refused:
                if failure is None:
                    raise
                # Valid for the model the client named, not for this one (a reasoning effort it lacks).
                log.info("fallback model %s skipped: %s", model, refused.message)
                continue
            try:
                result = call(gemini)
            except ApiError as error:
                if index == last or not worth_another_model(error):
                    raise
                failure = error
                log.info("model %s failed (%s %s): falling back to %s", model, error.status, error.upstream,
                         self._models[index + 1])
                continue
            if index != self._at:
                self._fallbacks.labels(self._models[0], model).inc()
            self._at = index
            self._record.answered_by = model
            return result
        # Reached only past a skipped model, which needs a failure before it.
        raise failure
