"""SSE framing and the streaming Response.

The generator given to stream_response() yields plain dicts (OpenAI chunks). Framing,
headers, the error event, [DONE] and closing the source all happen here, so every streaming
endpoint behaves the same on the wire.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator

from flask import Response

from gemini_proxy.errors import ApiError

log = logging.getLogger(__name__)

DONE = b"data: [DONE]\n\n"
HEADERS = {
    "Cache-Control": "no-cache",
    # nginx buffers proxied responses unless told otherwise; a buffered stream is no stream.
    "X-Accel-Buffering": "no",
}

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def event(payload: dict) -> bytes:
    return b"data: " + _encode(payload).encode() + b"\n\n"


def _frames(chunks: Iterable[dict]) -> Iterator[bytes]:
    try:
        for chunk in chunks:
            yield event(chunk)
    except ApiError as error:
        # The status line is long gone: OpenAI's SDKs raise on an event carrying "error".
        log.warning("stream failed after it started: %s %s", error.status, error.message)
        yield event(error.body())
    except Exception:
        log.exception("stream failed after it started")
        yield event(ApiError(500, "The server had an error while processing your request.", "server_error").body())
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()
    yield DONE


def stream_response(chunks: Iterable[dict], headers: dict[str, str] | None = None) -> Response:
    """A text/event-stream Response; WSGI's close() on disconnect closes `chunks` too."""
    return Response(_frames(chunks), status=200, mimetype="text/event-stream", headers={**HEADERS, **(headers or {})})
