"""Gemini's own API between the view and Gemini: the client's body relayed as it came (no
re-modelling: a Gemini field this gateway has never heard of reaches Gemini, and thought
signatures come back and go out untouched), model aliases resolved and model ids checked,
and the answer's usageMetadata counted for the request log and rate limits. On Vertex AI (GEMINI_BACKEND
vertex or vertex-express) the same routes relay to Vertex: countTokens and embedding bodies fitted to what
Vertex takes and the embeddings answered in AI Studio's shape (translate/vertex_native.py), the model list
the configured VERTEX_MODELS."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from urllib.parse import urlencode

from gemini_proxy.errors import ApiError, invalid_model
from gemini_proxy.observability.telemetry import RequestRecord
from gemini_proxy.services import Services
from gemini_proxy.translate import vertex_native
from gemini_proxy.upstream.errors import upstream_api_error

EMBEDDING_ACTIONS = frozenset({"embedContent", "batchEmbedContents"})
# The query of Gemini's model list passed on (never `key`: the client's key stays here).
LIST_QUERY = ("pageSize", "pageToken", "filter")


def _model(services: Services, record: RequestRecord, asked: str, action: str | None = None) -> str:
    """The Gemini model id for the name in the path (an alias resolved; an id that is valid but
    unknown here passes: Gemini CLI names models before this gateway knows them)."""
    settings = services.settings
    resolve = settings.resolve_embedding_model if action in EMBEDDING_ACTIONS else settings.resolve_model
    model = resolve(asked)
    if model is None:
        raise invalid_model()
    record.model, record.answered_by = asked, model
    return model


def _inner_models(body: dict, asked: str, model: str) -> dict:
    """Bodies that name their model again (batchEmbedContents' requests, countTokens'
    generateContentRequest) name the alias the client asked for: they name the model instead."""
    if asked == model:
        return body
    named, target = f"models/{asked}", f"models/{model}"
    requests = body.get("requests")
    if isinstance(requests, list):
        body["requests"] = [{**item, "model": target} if isinstance(item, dict) and item.get("model") == named
                            else item for item in requests]
    inner = body.get("generateContentRequest")
    if isinstance(inner, dict) and inner.get("model") == named:
        body["generateContentRequest"] = {**inner, "model": target}
    return body


def usage_from(answer) -> dict | None:
    """Gemini's usageMetadata in the request record's terms (thinking counts as completion)."""
    usage = answer.get("usageMetadata") if isinstance(answer, dict) else None
    if not isinstance(usage, dict):
        return None
    counts = {key: usage.get(key) if isinstance(usage.get(key), int) else 0
              for key in ("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount", "totalTokenCount")}
    return {"prompt_tokens": counts["promptTokenCount"],
            "completion_tokens": counts["candidatesTokenCount"] + counts["thoughtsTokenCount"],
            "total_tokens": counts["totalTokenCount"]}


def call(services: Services, record: RequestRecord, version: str, asked: str, action: str, body: dict) -> dict:
    """generateContent, countTokens, embedContent or batchEmbedContents: Gemini's JSON answer."""
    model = _model(services, record, asked, action)
    body = _inner_models(body, asked, model)
    if services.settings.vertex and action in EMBEDDING_ACTIONS:
        return _vertex_embed(services, record, model, action, body)
    if services.settings.vertex and action == "countTokens":
        body = vertex_native.count_tokens_body(body)
    elif services.settings.vertex_labels and action == "generateContent":
        body = vertex_native.labelled(body, services.settings.vertex_labels)
    answer = services.upstream.native(f"models/{model}:{action}", body, record.client.gemini_key,
                                      version=version, model=model)
    record.add_usage(usage_from(answer))
    return answer


def _vertex_embed(services: Services, record: RequestRecord, model: str, action: str, body: dict) -> dict:
    """Vertex's embedding call for the model (:embedContent, :batchEmbedContents or :predict), answered in
    AI Studio's shape."""
    method, vertex_body = vertex_native.embed_call(model, action, body)
    answer = services.upstream.native(f"models/{model}:{method}", vertex_body, record.client.gemini_key, model=model)
    tokens = vertex_native.embed_tokens(method, answer)
    if tokens is not None:
        record.add_usage({"prompt_tokens": tokens, "completion_tokens": 0, "total_tokens": tokens})
    return vertex_native.embed_answer(action, method, answer, vertex_native.expected_embeddings(action, body))


def stream(services: Services, record: RequestRecord, version: str, asked: str, body: dict) -> Iterator[dict]:
    """streamGenerateContent's events as they arrive, the first one already pulled, so that a failure
    to start is the request's own HTTP error."""
    model = _model(services, record, asked)
    if services.settings.vertex_labels:
        body = vertex_native.labelled(body, services.settings.vertex_labels)
    events = services.upstream.native(f"models/{model}:streamGenerateContent?alt=sse", body,
                                      record.client.gemini_key, version=version, model=model, stream=True)
    first = next(events, None)
    if isinstance(first, dict) and "error" in first:  # failed before anything: the request's own HTTP error
        events.close()
        raise _failure(first["error"])
    services.telemetry.stream_opened(record)
    return _relayed(first, events, record)


def _failure(error) -> ApiError:
    """A stream's error event (redacted by upstream/) as the error it is."""
    error = error if isinstance(error, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else 500
    details = error.get("details") if isinstance(error.get("details"), list) else []
    return upstream_api_error(code, error.get("status"), str(error.get("message") or ""), details)


def _relayed(first: dict | None, events: Iterator[dict], record: RequestRecord) -> Iterator[dict]:
    usage = None
    try:
        if first is not None:
            record.mark_first_token()
            usage = usage_from(first)
            yield first
        for event in events:
            if "error" in event:
                error = event["error"] if isinstance(event["error"], dict) else {}
                record.upstream_error = str(error.get("status") or "STREAM_ERROR")
            usage = usage_from(event) or usage  # cumulative: the last one counts
            yield event
    finally:
        events.close()
        record.add_usage(usage)


def list_models(services: Services, record: RequestRecord, version: str, query: Mapping[str, str]) -> dict:
    """Gemini's model list; on Vertex AI, VERTEX_MODELS in its shape, in one page (Vertex's own list is Model
    Garden's, hundreds of models and no methods: catalog.py)."""
    if services.settings.vertex:
        return vertex_native.catalog_list(services.settings.vertex_model_ids)
    passed = urlencode([(name, query[name]) for name in LIST_QUERY if name in query])
    return services.upstream.native("models" + (f"?{passed}" if passed else ""), None, record.client.gemini_key,
                                    version=version)


def get_model(services: Services, record: RequestRecord, version: str, asked: str) -> dict:
    model = _model(services, record, asked)
    if services.settings.vertex:
        if model in services.settings.vertex_model_ids:
            return vertex_native.catalog_model(model)
        found = services.upstream.native(f"models/{model}", None, record.client.gemini_key)
        return vertex_native.model_from_publisher(found)
    return services.upstream.native(f"models/{model}", None, record.client.gemini_key, version=version)
