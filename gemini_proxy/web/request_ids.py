"""X-Request-ID: taken from the client (or nginx) when it sends a sane one, else generated,
and echoed on every response, errors included."""
from __future__ import annotations

import re
import uuid

from flask import Flask, g, request

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def current() -> str:
    """The current request's id, made on first use: the log line and the response carry the
    same one, whichever asks first."""
    if "request_id" not in g:
        given = request.headers.get(HEADER, "")
        g.request_id = given if _SANE.fullmatch(given) else f"req_{uuid.uuid4().hex}"
    return g.request_id


def install(app: Flask) -> None:
    @app.after_request
    def _echo(response):
        response.headers[HEADER] = current()
        return response
