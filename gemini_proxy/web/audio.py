"""Audio answers: a whole file, or encoded audio streamed as it is made (chunked).

A streamed audio body has no way to carry an error: one after the start is logged and the
connection is cut (the chunked body never ends), so the client sees a failed download instead of
a short file it would take for the whole answer.
"""
from __future__ import annotations

import errno
import logging
from collections.abc import Callable, Generator, Iterator

from flask import Response

from gemini_proxy.errors import ApiError
from gemini_proxy.web.sse import HEADERS

log = logging.getLogger(__name__)


def audio_response(data: bytes, content_type: str) -> Response:
    return Response(data, status=200, content_type=content_type)


def audio_stream_response(chunks: Generator[bytes], content_type: str, close: Callable[[], None]) -> Response:
    """A chunked audio Response; `close` runs when the server is done with it (a client that went
    away closes the upstream call too)."""
    def body() -> Iterator[bytes]:
        try:
            for data in chunks:
                if data:
                    yield data
        except ApiError as error:
            log.warning("audio stream failed after it started, connection cut: %s %s", error.status, error.message)
            raise BrokenPipeError(errno.EPIPE, "audio stream failed after it started") from None
        finally:
            chunks.close()  # a generator: its own cleanup (the usage it counted) runs now, not when collected
            close()
    response = Response(body(), status=200, content_type=content_type, headers=HEADERS)
    response.call_on_close(close)
    return response
