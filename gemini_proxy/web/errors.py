"""The one error renderer: every failure of a request, in the envelope of the API it speaks.

ApiError (raised anywhere), Werkzeug's HTTPException (routing 404/405, 413) and any other
exception become OpenAI's {"error": {"message", "type", "param", "code"}} with the right status,
by the app-wide handlers registered here; on the routes of Gemini's own API (web/dialect.py)
Gemini's {"error": {"code", "message", "status", "details"}}: Gemini's own object when the error
carries one (Gemini's answer relayed, a client key refused), else one derived from the status.
No view builds an error body.
"""
from __future__ import annotations

import logging

from flask import Flask, Response, g, json, request
from werkzeug.exceptions import HTTPException

from gemini_proxy.errors import ApiError
from gemini_proxy.web.dialect import speaks_gemini

log = logging.getLogger(__name__)

_HTTP_EXCEPTION_CODES = {404: "unknown_url", 405: "method_not_allowed", 413: "request_too_large"}
# HTTP status -> Google's canonical status, for the gateway's own errors on Gemini's routes.
_GEMINI_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                  405: "UNIMPLEMENTED", 409: "ABORTED", 413: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED",
                  499: "CANCELLED", 500: "INTERNAL", 501: "UNIMPLEMENTED", 502: "UNAVAILABLE", 503: "UNAVAILABLE",
                  504: "DEADLINE_EXCEEDED"}


def _from_http_exception(exc: HTTPException) -> ApiError:
    status = exc.code or 500
    if status == 404:
        message = f"Invalid URL ({request.method} {request.path})."
    elif status == 405:
        message = f"Method {request.method} is not allowed for {request.path}."
    elif status == 413:
        limit = request.max_content_length
        message = f"Request body is too large (limit {limit} bytes)." if limit else "Request body is too large."
    else:
        message = exc.description or exc.name
    type_ = "server_error" if status >= 500 else "invalid_request_error"
    # RFC 9110: a 405 says which methods the resource has.
    headers = {"Allow": ", ".join(sorted(exc.valid_methods))} if getattr(exc, "valid_methods", None) else None
    return ApiError(status, message, type_, None, _HTTP_EXCEPTION_CODES.get(status), headers)


def gemini_body(error: ApiError) -> dict:
    """The error in Gemini's envelope; its `code` is the HTTP status to answer with."""
    if error.gemini:
        return {"error": error.gemini}
    status = _GEMINI_STATUS.get(error.status, "INTERNAL" if error.status >= 500 else "FAILED_PRECONDITION")
    return {"error": {"code": error.status, "message": error.message, "status": status}}


def render(error: ApiError) -> Response:
    body, status = error.body(), error.status
    if speaks_gemini():
        body = gemini_body(error)
        status = body["error"]["code"]
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers.update(error.headers)
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        if error.upstream:
            g.upstream_error = error.upstream  # for the request log and metrics
        return render(error)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return render(_from_http_exception(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return render(ApiError(500, "The server had an error while processing your request.", "server_error"))
