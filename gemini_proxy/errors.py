"""The error vocabulary: ApiError and the constructors of the failures code raises.

Nothing here knows Flask: code anywhere (translate/ included) raises ApiError, and the one
renderer (web/errors.py) turns it, like every other failure, into OpenAI's envelope
{"error": {"message", "type", "param", "code"}} with the right status. How Gemini's own
errors map onto it is the upstream boundary's business (upstream/errors.py).
"""
from __future__ import annotations


class ApiError(Exception):
    """A failure with an OpenAI-shaped body."""

    def __init__(self, status: int, message: str, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None, upstream: str | None = None, gemini: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}
        # Gemini's status (or how the call failed) when the failure came from upstream.
        self.upstream = upstream
        # Gemini's own error object {"code", "message", "status", "details"} for the routes of Gemini's
        # API (Gemini's answer relayed, or a failure Gemini words its own way); None: derived from the rest.
        self.gemini = gemini

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type,
                          "param": self.param, "code": self.code}}


def invalid_request(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, "invalid_request_error", param, code)


def unsupported(param: str, what: str) -> ApiError:
    return invalid_request(f"{what} is not supported by this gateway yet.", param, "unsupported_parameter")


def model_not_found(model: str | None) -> ApiError:
    """None: a name that is not a model id at all (never echoed back)."""
    named = f" `{model}`" if model else ""
    return ApiError(404, f"The model{named} does not exist or you do not have access to it.",
                    "invalid_request_error", "model", "model_not_found")


def invalid_model() -> ApiError:
    return invalid_request(
        "Invalid value for 'model': not a model this gateway knows how to name. Use a Gemini model id "
        "(letters, digits, '-', '.', '_', no '..'; optionally prefixed models/ or tunedModels/) or a configured alias.",
        "model", "invalid_model")


def missing_client_key() -> ApiError:
    """No client key: OpenAI's 401; on Gemini's routes Gemini's 403 for a call without a key."""
    message = ("Method doesn't allow unregistered callers (callers without established identity). Please use API "
               "Key or other form of API consumer identity to call this API.")
    return ApiError(401, "You didn't provide an API key. You need to provide your API key in an Authorization header "
                         "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                    "invalid_request_error", None, "invalid_api_key",
                    gemini={"code": 403, "message": message, "status": "PERMISSION_DENIED"})


def wrong_client_key() -> ApiError:
    """A key that is not a client key: OpenAI's 401; on Gemini's routes Gemini's 400 API_KEY_INVALID."""
    message = "API key not valid. Please pass a valid API key."
    details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}},
               {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": message}]
    return ApiError(401, "Incorrect API key provided.", "invalid_request_error", None, "invalid_api_key",
                    gemini={"code": 400, "message": message, "status": "INVALID_ARGUMENT", "details": details})


def upstream_timeout() -> ApiError:
    return ApiError(504, "Gemini did not answer in time.", "timeout_error", None, "timeout", upstream="TIMEOUT")


def upstream_unreachable(reason: str) -> ApiError:
    return ApiError(502, f"Could not reach Gemini: {reason}", "api_connection_error", None, "upstream_unreachable",
                    upstream="UNREACHABLE")


def upstream_credentials_refused() -> ApiError:
    """Vertex AI's token endpoint refused the gateway's credentials (a RefreshError): the operator's to fix."""
    return ApiError(502, "The gateway could not get an access token for Vertex AI with its credentials "
                    "(VERTEX_CREDENTIALS_FILE or Application Default Credentials); see the gateway's log.",
                    "upstream_error", None, "upstream_credentials_refused", upstream="CREDENTIALS")


def upstream_bad_response(what: str | None = None) -> ApiError:
    """A 200 from Gemini that is not what Gemini sends (`what` names the field, never a value)."""
    detail = f" ({what})" if what else ""
    return ApiError(502, f"Gemini sent a response this gateway could not read{detail}.", "upstream_error", None,
                    "bad_upstream_response", upstream="BAD_RESPONSE")


def upstream_empty() -> ApiError:
    return ApiError(502, "Gemini ended its answer without sending any of it.", "upstream_error", None,
                    "empty_upstream_response", upstream="EMPTY_RESPONSE")


def upstream_incomplete() -> ApiError:
    return ApiError(502, "Gemini's answer ended before it was finished (no finish reason).", "upstream_error", None,
                    "incomplete_upstream_response", upstream="INCOMPLETE_RESPONSE")


def response_not_found(response_id: str) -> ApiError:
    """A stored response that does not exist, was deleted, expired, or belongs to another key."""
    return ApiError(404, f"Response with id '{response_id}' not found.", "invalid_request_error", "response_id")


def previous_response_not_found(response_id: str) -> ApiError:
    return invalid_request(f"Previous response with id '{response_id}' not found.", "previous_response_id",
                           "previous_response_not_found")


def store_unavailable() -> ApiError:
    return ApiError(503, "Stored responses cannot be reached right now. Please retry shortly.",
                    "service_unavailable_error", None, "store_unavailable", {"Retry-After": "1"})


def file_too_large(size: int | None, limit: int, what: str = "The audio file", setting: str = "MAX_AUDIO_BYTES"
                   ) -> ApiError:
    """An upload over MAX_AUDIO_BYTES (or a body over MAX_BODY_BYTES), naming `file`."""
    told = f" is {size} bytes," if size is not None else " is"
    return ApiError(413, f"{what}{told} larger than this gateway takes: {limit} bytes ({setting}; Gemini takes "
                         "audio inline in requests of up to 20 MB, base64-encoded).",
                    "invalid_request_error", "file", "file_too_large")
