"""The routes of Gemini's own API (api/gemini.py) in the OpenAPI document. Bodies are Gemini's
REST JSON, relayed without re-modelling: the document names them, Google's reference describes
them (https://ai.google.dev/api). Errors are Gemini's envelope."""
from __future__ import annotations

from gemini_proxy.openapi.operations import JSON, SSE, Operation, query
from gemini_proxy.openapi.responses import ref

_OBJECT = {"type": "object", "description": "Gemini's REST JSON, as Gemini sends it."}
_ERRORS = {"400": "GeminiError", "403": "GeminiError", "404": "GeminiError", "413": "GeminiError",
           "429": "GeminiError", "default": "GeminiError"}
# Client keys in the forms Google's SDKs and CLI send them (Bearer too: bearerAuth).
AUTH = ("bearerAuth", "googApiKey", "googKeyQuery")
_KEY = "A key of GATEWAY_API_KEYS."
SECURITY_SCHEMES = {
    "googApiKey": {"type": "apiKey", "in": "header", "name": "x-goog-api-key", "description": _KEY},
    "googKeyQuery": {"type": "apiKey", "in": "query", "name": "key", "description": _KEY},
}

COMPONENTS = {
    "GeminiRequest": {"type": "object", "description": "Gemini's REST JSON for the method (https://ai.google.dev/api), "
                                                        "relayed as it came."},
    "GeminiError": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message", "status"], "properties": {
            "code": {"type": "integer", "description": "The HTTP status."},
            "message": {"type": "string"},
            "status": {"type": "string", "description": "Google's canonical status: INVALID_ARGUMENT, "
                                                        "PERMISSION_DENIED, NOT_FOUND, RESOURCE_EXHAUSTED..."},
            "details": {"type": "array", "items": {"type": "object"}}}}}},
}
RESPONSES = {
    "GeminiError": {"description": "Gemini's error envelope: Gemini's own (secrets redacted), or the gateway's "
                                   "(missing key 403 PERMISSION_DENIED, wrong key 400 API_KEY_INVALID, rate limit "
                                   "429 RESOURCE_EXHAUSTED, body too large 413).",
                    "content": {JSON: {"schema": ref("GeminiError")}}},
}


def _relayed(operation_id: str, summary: str, description: str, ok: dict | None = None, **extra) -> Operation:
    return Operation(operation_id, summary, "Gemini API", ok or {JSON: {"schema": _OBJECT}}, description,
                     errors=_ERRORS, api=True, auth=AUTH, **extra)


def _posted(operation_id: str, summary: str, description: str, ok: dict | None = None, **extra) -> Operation:
    return _relayed(operation_id, summary, description, ok, request="GeminiRequest", **extra)


OPERATIONS = {
    "gemini.generateContent": _posted(
        "geminiGenerateContent", "Gemini generateContent",
        "The body relayed to Gemini as it came (model aliases resolved), the answer as Gemini sent it."),
    "gemini.streamGenerateContent": _posted(
        "geminiStreamGenerateContent", "Gemini streamGenerateContent (SSE)",
        "Server-sent events `data: <GenerateContentResponse>`, each relayed as Gemini sends it (always SSE, "
        "as with `alt=sse`). A failure after the start is one `data: {\"error\": ...}` event.",
        {SSE: {"schema": _OBJECT}}, query=(query("alt", {"type": "string", "enum": ["sse"]}, "Always SSE."),)),
    "gemini.countTokens": _posted("geminiCountTokens", "Gemini countTokens", "Relayed as it came."),
    "gemini.embedContent": _posted("geminiEmbedContent", "Gemini embedContent",
                                    "Relayed as it came (EMBEDDING_MODEL_ALIASES resolved)."),
    "gemini.batchEmbedContents": _posted("geminiBatchEmbedContents", "Gemini batchEmbedContents",
                                          "Relayed as it came (EMBEDDING_MODEL_ALIASES resolved)."),
    "gemini.list_models": _relayed(
        "geminiListModels", "Gemini models.list", "Gemini's model list. GET /v1/models answers this to Gemini "
        "clients (x-goog-api-client, x-goog-api-key or ?key=), OpenAI's list otherwise.",
        query=(query("pageSize", {"type": "integer"}, "Models per page."),
               query("pageToken", {"type": "string"}, "The previous page's nextPageToken."))),
    "gemini.get_model": _relayed("geminiGetModel", "Gemini models.get", "Gemini's model resource."),
}
