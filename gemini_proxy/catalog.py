"""The models a client can name: upstream models (cached briefly) plus the configured aliases.

On Vertex AI the list is VERTEX_MODELS: Vertex's own (Model Garden's publisher models) names hundreds of
models, most of them no Gemini, and carries no methods a model serves (the SDK's Model has no
supported_actions there), so it cannot say what answers chat or embeddings. A single model is still asked
of Vertex when it is not in the list."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from gemini_proxy.config import Settings
from gemini_proxy.errors import ApiError, model_not_found
from gemini_proxy.translate.models import (
    ALIAS_OWNER,
    EMULATOR_OWNER,
    OWNER,
    USEFUL_ACTIONS,
    gemini_model_id,
    model_id_of,
    model_object,
    models_from_gemini,
)
from gemini_proxy.upstream.client import Upstream


class ModelCatalog:
    def __init__(self, upstream: Upstream, settings: Settings, clock: Callable[[], float] = time.monotonic):
        self._upstream = upstream
        self._aliases = {**settings.model_aliases, **settings.embedding_model_aliases,
                         **settings.speech_model_aliases, **settings.image_model_aliases}
        self._owner = EMULATOR_OWNER if settings.uses_emulator else OWNER
        self._ttl = settings.models_cache_seconds
        self._configured = [{"name": f"models/{model}", "supported_actions": list(USEFUL_ACTIONS)}
                            for model in settings.vertex_model_ids] if settings.vertex else None
        self._clock = clock
        self._lock = threading.Lock()
        self._models: list[dict] = []
        self._expires = float("-inf")

    def list(self) -> list[dict]:
        with self._lock:
            if self._clock() >= self._expires:
                listed = self._upstream.list_models() if self._configured is None else self._configured
                self._models = models_from_gemini(listed, self._aliases, self._owner)
                self._expires = self._clock() + self._ttl
            return self._models

    def get(self, model_id: str) -> dict:
        if model_id in self._aliases:
            return model_object(model_id, ALIAS_OWNER)
        gemini_id = gemini_model_id(model_id)
        if gemini_id is None:
            raise model_not_found(None)
        for model in self.list():
            if model["id"] == model_id:
                return model
        # Not listed is not proof of absence (listing is filtered): ask upstream.
        try:
            found = self._upstream.get_model(gemini_id)
        except ApiError as error:
            if error.status in (400, 404):
                raise model_not_found(model_id) from error
            raise
        return model_object(model_id_of(found), self._owner)
