"""POST /v1/embeddings (and /embeddings)."""
from __future__ import annotations

from flask import Blueprint

from gemini_proxy.errors import invalid_model
from gemini_proxy.schemas import load
from gemini_proxy.translate.embeddings import batches, embed_config, embedding_list, prompt_tokens_from, vectors_from
from gemini_proxy.web.hooks import record
from gemini_proxy.services import services
from gemini_proxy.web.body import json_body

bp = Blueprint("embeddings", __name__)


@bp.post("/v1/embeddings")
@bp.post("/embeddings")
def create_embeddings():
    app, current = services(), record()
    body = load(app.embedding_schema, json_body())
    model = app.settings.resolve_embedding_model(body.get("model"))
    if model is None:
        raise invalid_model()
    current.model = body.get("model") or app.settings.default_embedding_model
    texts, config, key = body["input"], embed_config(body), current.client.gemini_key
    responses = [app.upstream.embed(model, batch, config, key)
                 for batch in batches(texts, app.settings.embedding_batch_size)]
    vectors = vectors_from(responses, len(texts))
    tokens = prompt_tokens_from(responses)
    if tokens is None:
        # Gemini's API reports no token counts for embeddings: one countTokens call does.
        tokens = app.upstream.count_tokens(model, texts, key)
    answer = embedding_list(vectors, current.model, body.get("encoding_format"),
                            renormalise=body.get("dimensions") is not None, prompt_tokens=tokens)
    current.add_usage(answer["usage"])
    return answer
