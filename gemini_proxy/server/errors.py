"""gunicorn's own answers (a malformed request, headers too large, a request that did not
arrive in time) in OpenAI's JSON envelope instead of gunicorn's HTML page."""
from __future__ import annotations

import json
import ssl
from http import HTTPStatus

from gunicorn.http import errors as http_errors

from gemini_proxy.errors import ApiError
from gemini_proxy.server.arrival import RequestReadTimeout

# gunicorn's parse failures -> (status, message); the first match wins (InvalidResponseHeader,
# the app's fault, is a subclass of InvalidHeader and is checked before it).
_SERVER_FAULTS = (http_errors.InvalidResponseHeader, http_errors.InvalidResponseHeaderName,
                  http_errors.ConfigurationProblem)
_CLIENT_FAULTS = (
    (http_errors.LimitRequestLine, 414, "The request line is too long."),
    (http_errors.LimitRequestHeaders, 431, "The request's header fields are too large or too many."),
    (http_errors.UnsupportedTransferCoding, 501, "The request's Transfer-Encoding is not supported."),
    (http_errors.ExpectationFailed, 417, "The request's Expect header cannot be met."),
    (http_errors.ForbiddenProxyRequest, 403, "Requests through this proxy are not allowed."),
    ((http_errors.InvalidChunkSize, http_errors.ChunkMissingTerminator, http_errors.InvalidChunkExtension),
     400, "The request's chunked body is malformed."),
    ((http_errors.InvalidRequestLine, http_errors.InvalidRequestMethod, http_errors.InvalidHTTPVersion),
     400, "The request line is malformed."),
    ((http_errors.InvalidHeader, http_errors.InvalidHeaderName, http_errors.ObsoleteFolding),
     400, "A request header is malformed."),
    ((http_errors.InvalidProxyLine, http_errors.InvalidProxyHeader, http_errors.InvalidSchemeHeaders,
      http_errors.InvalidH2CPreface), 400, "The request is malformed."),
    (ssl.SSLError, 400, "The TLS connection failed."),
)
_CODES = {408: "request_timeout", 414: "request_line_too_long", 431: "request_headers_too_large"}


def error_for(exc: BaseException) -> ApiError | None:
    """The answer to a failure gunicorn met before (or outside) the app; None: not the client's."""
    if isinstance(exc, RequestReadTimeout):
        return ApiError(408, exc.description, "invalid_request_error", None, _CODES[408])
    if isinstance(exc, _SERVER_FAULTS):
        return None
    for kinds, status, message in _CLIENT_FAULTS:
        if isinstance(exc, kinds):
            return ApiError(status, message, "invalid_request_error", None, _CODES.get(status, "invalid_request"))
    return None


def raw_response(error: ApiError) -> bytes:
    """`error` as a whole HTTP/1.1 response that closes the connection."""
    body = json.dumps(error.body()).encode()
    head = [f"HTTP/1.1 {error.status} {HTTPStatus(error.status).phrase}", "Connection: close",
            "Content-Type: application/json", f"Content-Length: {len(body)}",
            *(f"{name}: {value}" for name, value in error.headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
