"""SSE framing and the streaming Response.

The generator given to stream_response() / event_stream_response() yields plain dicts. Framing,
headers, the failure at the end, [DONE] and closing the source all happen here, so every
streaming endpoint behaves the same on the wire. Two framings:

- chat and legacy completions: `data: <chunk>` events, then `data: [DONE]`; a failure after the
  start is one `data: {"error": ...}` event (OpenAI's SDKs raise on it), then [DONE].
- the Responses API: `event: <type>` + `data: <event>`, ending with its terminal event and no
  [DONE]; a failure after the start is the events the stream's own `failed` gives (a
  response.failed carrying OpenAI's error object), since an `error` key would make the SDKs raise
  before they see the final Response.
- OpenAI's speech SSE: `data: <event>` events ending with speech.audio.done; a failure after the
  start is one `data: {"error": ...}` event.
- Gemini's own API: `data: <chunk>` events and nothing else; a failure after the start is one
  `data: {"error": {"code", ...}}` event in Gemini's envelope (Google's SDKs raise on it).

Each streaming Response leaves in the WSGI environ (STREAM_END) how it is to be ended by someone
else: the worker that drains at shutdown (server/worker.py) writes those bytes instead of
leaving the client with a cut stream.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from flask import Response, has_request_context, request

from gemini_proxy.encoding import json_bytes
from gemini_proxy.errors import ApiError
from gemini_proxy.web.errors import gemini_body

log = logging.getLogger(__name__)

DONE = b"data: [DONE]\n\n"
HEADERS = {
    "Cache-Control": "no-cache",
    # nginx buffers proxied responses unless told otherwise; a buffered stream is no stream.
    "X-Accel-Buffering": "no",
}
# environ key: a callable(ApiError) -> bytes that end the stream being served.
STREAM_END = "gemini_proxy.stream_end"

Failed = Callable[[ApiError], Iterable[dict]]


def event(payload: dict) -> bytes:
    return b"data: " + json_bytes(payload) + b"\n\n"


def named_event(payload: dict) -> bytes:
    """A Responses API event: `event: <type>` repeats the type its data carries."""
    return b"event: " + payload["type"].encode() + b"\ndata: " + json_bytes(payload) + b"\n\n"


def chat_end(error: ApiError) -> bytes:
    return event(error.body()) + DONE


def server_error() -> ApiError:
    return ApiError(500, "The server had an error while processing your request.", "server_error")


def _close(source) -> None:
    close = getattr(source, "close", None)
    if close:
        close()


def _frames(items: Iterable[dict], frame: Callable[[dict], bytes], end: Callable[[ApiError], bytes],
            done: bytes = b"") -> Iterator[bytes]:
    """Each item framed, then `done`; a failure after the start ends the stream with `end(error)`
    instead (the status line is long gone: every framing's SDKs raise on what `end` sends)."""
    try:
        for item in items:
            yield frame(item)
    except ApiError as error:
        log.warning("stream failed after it started: %s %s", error.status, error.message)
        yield end(error)
        return
    except Exception:
        log.exception("stream failed after it started")
        yield end(server_error())
        return
    finally:
        _close(items)
    if done:
        yield done


def _streaming(frames: Iterator[bytes], end: Callable[[ApiError], bytes], headers: dict[str, str] | None) -> Response:
    if has_request_context():
        request.environ[STREAM_END] = end
    return Response(frames, status=200, mimetype="text/event-stream", headers={**HEADERS, **(headers or {})})


def gemini_end(error: ApiError) -> bytes:
    """Gemini's SSE ends on a failure with one event carrying its error object (its SDKs raise on it)."""
    return event(gemini_body(error))


def gemini_stream_response(chunks: Iterable[dict]) -> Response:
    """Gemini's framing: `data: <chunk>` events, no [DONE] (Gemini's SDKs refuse anything else)."""
    return _streaming(_frames(chunks, event, gemini_end), gemini_end, None)


def speech_end(error: ApiError) -> bytes:
    return event(error.body())


def speech_stream_response(events: Iterable[dict]) -> Response:
    """OpenAI's speech SSE (stream_format "sse"): `data: <event>` ending with speech.audio.done, no
    [DONE]; a failure after the start is one `data: {"error": ...}` event."""
    return _streaming(_frames(events, event, speech_end), speech_end, None)


def stream_response(chunks: Iterable[dict], headers: dict[str, str] | None = None) -> Response:
    """A chat-framed text/event-stream Response; WSGI's close() on disconnect closes `chunks` too."""
    return _streaming(_frames(chunks, event, chat_end, DONE), chat_end, headers)


def event_stream_response(events: Iterable[dict], failed: Failed, headers: dict[str, str] | None = None) -> Response:
    """A Responses-framed text/event-stream Response: `failed(error)` gives the events that end
    the stream when it fails after its start (or is ended by the server)."""
    def end(error: ApiError) -> bytes:
        return b"".join(map(named_event, failed(error)))
    return _streaming(_frames(events, named_event, end), end, headers)
