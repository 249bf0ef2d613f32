"""The one error renderer: every failure of a request, as OpenAI's envelope.

ApiError (raised anywhere), Werkzeug's HTTPException (routing 404/405, 413) and any other
exception become {"error": {"message", "type", "param", "code"}} with the right status, by
the app-wide handlers registered here. No view builds an error body.
"""
from __future__ import annotations

import logging

from flask import Flask, Response, g, json, request
from werkzeug.exceptions import HTTPException

from gemini_proxy.errors import ApiError

log = logging.getLogger(__name__)

_HTTP_EXCEPTION_CODES = {404: "unknown_url", 405: "method_not_allowed", 413: "request_too_large"}


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


def render(error: ApiError) -> Response:
    response = Response(json.dumps(error.body()), status=error.status, mimetype="application/json")
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
