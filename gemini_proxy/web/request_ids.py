"""X-Request-ID: taken from the client (or nginx) when it sends a sane one, else generated,
and echoed on every response, errors included."""
from __future__ import annotations

import re
import uuid

from flask import Flask, g, request

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def current() -> str:
    return g.get("request_id", "")


def install(app: Flask) -> None:
    @app.before_request
    def _assign():
        given = request.headers.get(HEADER, "")
        g.request_id = given if _SANE.fullmatch(given) else f"req_{uuid.uuid4().hex}"

    @app.after_request
    def _echo(response):
        response.headers[HEADER] = current() or f"req_{uuid.uuid4().hex}"
        return response
