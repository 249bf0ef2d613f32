"""Which API a request speaks: OpenAI's (the default) or Gemini's own, whose routes answer
errors in Gemini's envelope and take Google's forms of a client key.

Gemini's routes are the `gemini` blueprint's, every path under /v1beta/ and /v1alpha/
(an unknown one is Gemini's 404), and every /v1/models/...:<method> path, whether or not a route
takes it (a wrong method is Gemini's 405, a model id with a `:` in it Gemini's 404, as on
/v1beta/). The rest of /v1/ is shared: OpenAI's /v1/models answers a Gemini client (Google's SDKs
send x-goog-api-client and x-goog-api-key, REST users ?key=) in Gemini's shape.
"""
from __future__ import annotations

from flask import has_request_context, request

GEMINI_BLUEPRINT = "gemini"
GEMINI_VERSIONS = ("v1", "v1beta", "v1alpha")
# The methods of Gemini's models (POST /{version}/models/{model}:<method>).
GEMINI_METHODS = ("generateContent", "streamGenerateContent", "countTokens", "embedContent", "batchEmbedContents")
_GEMINI_ONLY_PREFIXES = ("/v1beta/", "/v1alpha/")
_GEMINI_CLIENT_HEADERS = ("x-goog-api-client", "x-goog-api-key")


def gemini_client() -> bool:
    """Whether the caller is a Gemini client (by what Google's SDKs and REST users send)."""
    return "key" in request.args or any(header in request.headers for header in _GEMINI_CLIENT_HEADERS)


def speaks_gemini() -> bool:
    if not has_request_context():
        return False
    if request.blueprint == GEMINI_BLUEPRINT or request.path.startswith(_GEMINI_ONLY_PREFIXES):
        return True
    if request.path.startswith("/v1/models/") and request.path.rpartition(":")[2] in GEMINI_METHODS:
        return True
    shared = request.blueprint in (None, "models")  # an unknown /v1/ path, or /v1/models
    return shared and request.path.startswith("/v1/") and gemini_client()
