"""Gemini's own API (AI Studio's request and answer shapes, camelCase REST JSON) on Vertex AI, whose
bodies differ for some calls (docs/vertex.md "What the SDK sends"):
- countTokens: Vertex takes contents, systemInstruction, tools and generationConfig at the top level;
  AI Studio takes `contents` or them inside `generateContentRequest`.
- embedContent / batchEmbedContents: Vertex's gemini embedding models take the same calls with the
  options in `embedContentConfig` (no per-request `model`); its other embedding models (text-embedding-005)
  take `:predict` with `instances[].content`. The answers go back in AI Studio's shape.
- the model list: the gateway's configured Vertex catalog (VERTEX_MODELS) in AI Studio's shape, and a
  publisher model Vertex found as AI Studio's Model.
generateContent and streamGenerateContent have the same bodies on both; Vertex's may carry `labels`
(billing labels; Gemini's API has none), to which the gateway adds VERTEX_LABELS."""
from __future__ import annotations

from collections.abc import Mapping

from gemini_proxy.errors import invalid_request, upstream_bad_response

VERTEX_COUNT_TOKENS_FIELDS = frozenset({"contents", "systemInstruction", "tools", "generationConfig"})
EMBED_CONFIG_FIELDS = ("taskType", "title", "outputDimensionality")
GENERATE_METHODS = ("generateContent", "streamGenerateContent", "countTokens")
EMBED_METHODS = ("embedContent", "batchEmbedContents")
# A publisher model's fields that AI Studio's Model has too (versionId is its `version`).
MODEL_FIELDS = ("displayName", "description", "inputTokenLimit", "outputTokenLimit")


def labelled(body: dict, labels: Mapping[str, str]) -> dict:
    """A generateContent body with the gateway's labels (VERTEX_LABELS) under the body's own: a client's
    label wins over the gateway's of the same key. A `labels` that is no object is left for Vertex to refuse."""
    own = body.get("labels", {})
    return {**body, "labels": {**labels, **own}} if isinstance(own, dict) else body


def count_tokens_body(body: dict) -> dict:
    """An AI Studio countTokens body as Vertex takes it: the request's fields at the top level, only those
    Vertex's countTokens knows (the inner request's `model` and safetySettings, say, it refuses)."""
    inner = body.get("generateContentRequest")
    source = inner if isinstance(inner, dict) else body
    return {name: value for name, value in source.items() if name in VERTEX_COUNT_TOKENS_FIELDS}


def uses_predict(model: str) -> bool:
    """Whether Vertex embeds with `model` through `:predict` (as the SDK decides: ids without
    "gemini" or "maas", such as text-embedding-005)."""
    return "gemini" not in model and "maas" not in model


def embed_call(model: str, action: str, body: dict) -> tuple[str, dict]:
    """Vertex's method and body for an AI Studio embedContent or batchEmbedContents `body`."""
    requests = [body] if action == "embedContent" else _requests_of(body)
    if uses_predict(model):
        return "predict", _predict_body(requests, action != "embedContent")
    if action == "embedContent":
        return action, _embed_request(body)
    return action, {"requests": [_embed_request(request) for request in requests]}


def _requests_of(body: dict) -> list[dict]:
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests or not all(isinstance(r, dict) for r in requests):
        raise invalid_request("requests must be a non-empty list of EmbedContentRequest objects.", "requests")
    return requests


def _embed_request(request: dict) -> dict:
    """AI Studio's EmbedContentRequest as Vertex's: its options in embedContentConfig, no `model`; any
    other field (autoTruncate) passes as it came."""
    config = {name: request[name] for name in EMBED_CONFIG_FIELDS if name in request}
    moved = {"model", *EMBED_CONFIG_FIELDS}
    vertex = {name: value for name, value in request.items() if name not in moved}
    return {**vertex, "embedContentConfig": config} if config else vertex


def _text_of(request: dict, param: str) -> str:
    content = request.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    if not isinstance(parts, list) or not parts or not all(
            isinstance(part, dict) and isinstance(part.get("text"), str) for part in parts):
        raise invalid_request(f"{param}: this model takes text parts only on Vertex AI.", param)
    return " ".join(part["text"] for part in parts)


def _predict_body(requests: list[dict], batch: bool) -> dict:
    """`:predict`'s instances (one per request, task_type and title per instance, in snake case as the
    SDK sends them) and parameters (outputDimensionality, one for the whole call)."""
    instances, dimensions = [], set()
    for index, request in enumerate(requests):
        instance = {"content": _text_of(request, f"requests[{index}].content" if batch else "content")}
        if request.get("taskType") is not None:
            instance["task_type"] = request["taskType"]
        if request.get("title") is not None:
            instance["title"] = request["title"]
        instances.append(instance)
        dimensions.add(request.get("outputDimensionality"))
    if len(dimensions) > 1:
        raise invalid_request("outputDimensionality must be the same for every request of this model on Vertex AI.",
                              "requests")
    dimension = dimensions.pop()
    return {"instances": instances, **({"parameters": {"outputDimensionality": dimension}} if dimension else {})}


def _values(embedding) -> list[float]:
    values = embedding.get("values") if isinstance(embedding, dict) else None
    if not isinstance(values, list):
        raise upstream_bad_response("values")
    return values


def embed_answer(action: str, method: str, answer: dict, expected: int) -> dict:
    """Vertex's answer to `method` in AI Studio's shape for `action`: {"embedding": {"values"}} or
    {"embeddings": [{"values"}]}, `expected` vectors long."""
    answer = answer if isinstance(answer, dict) else {}
    if method == "predict":
        found = [p.get("embeddings") if isinstance(p, dict) else None for p in answer.get("predictions") or ()]
    elif method == "embedContent":
        found = [answer.get("embedding")]
    else:
        found = list(answer.get("embeddings") or ())
    vectors = [_values(embedding) for embedding in found]
    if len(vectors) != expected:
        raise upstream_bad_response("embeddings")
    if action == "embedContent":
        return {"embedding": {"values": vectors[0]}}
    return {"embeddings": [{"values": vector} for vector in vectors]}


def embed_tokens(method: str, answer: dict) -> int | None:
    """The input tokens Vertex counted for an embedding call, when it said (None: it did not)."""
    answer = answer if isinstance(answer, dict) else {}
    if method == "predict":
        counts = [((p.get("embeddings") or {}).get("statistics") or {}).get("token_count")
                  for p in answer.get("predictions") or () if isinstance(p, dict)]
    else:
        counts = [(answer.get("usageMetadata") or {}).get("promptTokenCount")]
    if not counts or not all(isinstance(count, int) for count in counts):
        return None
    return sum(counts)


def expected_embeddings(action: str, body: dict) -> int:
    return 1 if action == "embedContent" else len(_requests_of(body))


def catalog_model(model: str) -> dict:
    """A model of VERTEX_MODELS as AI Studio's Model: its name, and the methods it serves through the
    gateway (by its id: an embedding model's has "embedding" in it)."""
    methods = EMBED_METHODS if "embedding" in model else GENERATE_METHODS
    return {"name": f"models/{model}", "supportedGenerationMethods": list(methods)}


def catalog_list(models: tuple[str, ...]) -> dict:
    return {"models": [catalog_model(model) for model in models]}


def model_from_publisher(found: dict) -> dict:
    """A publisher model Vertex found (`publishers/google/models/x`) as AI Studio's Model (`models/x`)."""
    name = found.get("name") if isinstance(found, dict) else None
    if not isinstance(name, str) or not name:
        raise upstream_bad_response("name")
    model = {"name": "models/" + name.rsplit("/", 1)[-1]}
    if found.get("versionId") is not None:
        model["version"] = found["versionId"]
    return {**model, **{field: found[field] for field in MODEL_FIELDS if field in found}}
