"""Embeddings between the view and Gemini: Gemini's batches, and a token count when Gemini
reports none."""
from __future__ import annotations

from gemini_proxy.errors import invalid_model
from gemini_proxy.observability.telemetry import RequestRecord
from gemini_proxy.services import Services
from gemini_proxy.translate.embeddings import batches, embed_config, embedding_list, prompt_tokens_from, vectors_from


def embeddings(services: Services, body: dict, record: RequestRecord) -> dict:
    """The embedding list for a loaded embeddings request, in Gemini's batches."""
    settings = services.settings
    model = settings.resolve_embedding_model(body.get("model"))
    if model is None:
        raise invalid_model()
    record.model = body.get("model") or settings.default_embedding_model
    texts, config, key = body["input"], embed_config(body), record.client.gemini_key
    responses = [services.upstream.embed(model, batch, config, key)
                 for batch in batches(texts, settings.embedding_batch_size)]
    vectors = vectors_from(responses, len(texts))
    tokens = prompt_tokens_from(responses)
    if tokens is None:
        # Gemini's API reports no token counts for embeddings: one countTokens call does.
        tokens = services.upstream.count_tokens(model, texts, key)
    answer = embedding_list(vectors, record.model, body.get("encoding_format"),
                            renormalise=body.get("dimensions") is not None, prompt_tokens=tokens)
    record.add_usage(answer["usage"])
    return answer
