"""What Vertex AI answers differently from the Gemini API (notes: vertex-native-media.md §1.2, §2).

Paths: `/{v}/projects/{p}/locations/{l}/publishers/google/models/{m}:{method}` (OAuth bearer token),
express mode `/{v}/publishers/google/models/{m}:{method}` (API key), and the publisher model list
`GET /{v}/publishers/google/models[/{m}]`, which the SDK sends without project or location.
Bodies: embedContent / batchEmbedContents carry their options in `embedContentConfig` (no per-request
`model`), text-embedding models answer `:predict` with `instances[]`, and errors speak of publisher
models and OAuth tokens.
"""

from __future__ import annotations

from typing import Any

from gemini_emulator.catalog import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    MODELS,
    Model,
    decode_page_token,
    encode_page_token,
)
from gemini_emulator.embeddings import embed_request
from gemini_emulator.errors import EmulatorError, invalid_argument
from gemini_emulator.errors import for_code as for_gemini_code
from gemini_emulator.tokens import count_tokens

CREDENTIALS_MESSAGE = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
    "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
)
API_KEY_MESSAGE = (
    "API keys are not supported by this API. Expected OAuth2 access token or other authentication credentials "
    "that assert a principal. See https://cloud.google.com/docs/authentication"
)
_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


def unauthenticated(reason: str, message: str = CREDENTIALS_MESSAGE) -> EmulatorError:
    return EmulatorError(401, message, [{"@type": _ERROR_INFO, "reason": reason, "domain": "googleapis.com",
                                         "metadata": {"service": "aiplatform.googleapis.com"}}])


def publisher_model_not_found(project: str | None, location: str | None, model: str) -> EmulatorError:
    name = f"publishers/google/models/{model}"
    if project is not None:
        name = f"projects/{project}/locations/{location}/{name}"
    return EmulatorError(
        404,
        f"Publisher Model `{name}` was not found or your project does not have access to it. Please ensure you "
        "are using a valid model version. For more information, see: "
        "https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions",
    )


QUOTA_MESSAGE = (
    "Resource exhausted. Please try again later. Please refer to "
    "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details."
)


def for_code(code: int, project: str | None, location: str | None, model: str) -> EmulatorError | None:
    """Vertex's own answer for a fault directive's status (None: the same as the Gemini API's). Its 429 has
    no QuotaFailure or RetryInfo: a client learns no wait from it."""
    if code == 404:
        return publisher_model_not_found(project, location, model)
    if code == 429:
        return EmulatorError(429, QUOTA_MESSAGE)
    return None


def error_for(route: Any, code: int, model: str, version: str, method: str, retry: int) -> EmulatorError:
    """The realistic error of a fault directive, in Vertex's words on a Vertex path."""
    if route.vertex:
        return for_code(code, route.project, route.location, model) or for_gemini_code(
            code, model, version, method, retry)
    return for_gemini_code(code, model, version, method, retry)


def uses_predict(model: Model) -> bool:
    """Whether the SDK embeds with this model through `:predict` (ids without "gemini" or "maas")."""
    return model.is_embedding and "gemini" not in model.id and "maas" not in model.id


def _with_config(request: Any) -> Any:
    """A Vertex EmbedContentRequest with its embedContentConfig lifted to the top, as AI Studio has it."""
    if not isinstance(request, dict) or not isinstance(request.get("embedContentConfig"), dict):
        return request
    return {**request["embedContentConfig"], **{k: v for k, v in request.items() if k != "embedContentConfig"}}


def embed_content(body: dict[str, Any], model: Model) -> dict[str, Any]:
    request = _with_config(body)
    embedding = embed_request(request, model, "EmbedContentRequest")
    tokens = count_tokens(" ".join(p.get("text", "") for p in request["content"]["parts"]))
    return {"embedding": embedding, "usageMetadata": {"promptTokenCount": tokens}, "truncated": False}


def batch_embed(body: dict[str, Any], model: Model, max_batch: int) -> dict[str, Any]:
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        raise invalid_argument("* BatchEmbedContentsRequest.requests: requests is not specified")
    if len(requests) > max_batch:
        raise invalid_argument(f"* BatchEmbedContentsRequest.requests: at most {max_batch} requests can be in one "
                               "batch")
    return {"embeddings": [embed_request(_with_config(r), model, f"BatchEmbedContentsRequest.requests[{i}]")
                           for i, r in enumerate(requests)]}


def predict_embeddings(body: dict[str, Any], model: Model, max_batch: int) -> dict[str, Any]:
    """The `:predict` answer of a text-embedding model: `statistics.token_count` in snake case, as the SDK
    reads it (the REST reference shows tokenCount, which the SDK would drop)."""
    instances = body.get("instances")
    parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
    if not isinstance(instances, list) or not instances:
        raise invalid_argument("instances must not be empty.")
    if len(instances) > max_batch:
        raise invalid_argument(f"at most {max_batch} instances can be in one request")
    predictions, characters = [], 0
    for i, instance in enumerate(instances):
        text = instance.get("content") if isinstance(instance, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise invalid_argument(f"instances[{i}].content must be a non-empty string.")
        request = {"content": {"parts": [{"text": text}]},
                   "outputDimensionality": parameters.get("outputDimensionality")}
        values = embed_request(request, model, f"instances[{i}]")["values"]
        predictions.append({"embeddings": {"values": values,
                                           "statistics": {"token_count": count_tokens(text), "truncated": False}}})
        characters += len(text)
    return {"predictions": predictions, "metadata": {"billableCharacterCount": characters}}


def publisher_model(model: Model) -> dict[str, Any]:
    """A PublisherModel item, as the SDK's models.list/get parse it on Vertex."""
    return {
        "name": f"publishers/google/models/{model.id}",
        "versionId": model.version,
        "displayName": model.display_name,
        "description": model.description,
        "openSourceCategory": "PROPRIETARY",
        "launchStage": "GA",
        "inputTokenLimit": model.input_token_limit,
        "outputTokenLimit": model.output_token_limit,
        "supportedActions": list(model.methods),
    }


def list_publisher_models(page_size: int, page_token: str | None) -> dict[str, Any]:
    size = DEFAULT_PAGE_SIZE if page_size <= 0 else min(page_size, MAX_PAGE_SIZE)
    start = decode_page_token(page_token) if page_token else 0
    page: dict[str, Any] = {"publisherModels": [publisher_model(m) for m in MODELS[start: start + size]]}
    if start + size < len(MODELS):
        page["nextPageToken"] = encode_page_token(start + size)
    return page
