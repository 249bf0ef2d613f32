"""The events of Gemini's streamed answer (`alt=sse`): each event's JSON, as it arrives.

Server-sent events as the HTML standard reads them: a line ends with CRLF, LF or CR; the
`data:` lines of an event (one space after the colon dropped) join with LF; a blank line ends
the event; comments (`:`) and the other fields (event, id, retry) are passed over. As in the
SDK's reader, lines of JSON sent without `data:` (an error body, say) are an event's data too.

This stands in for the SDK's reader (`HttpResponse.segments`) on every chunk of every stream:
that one sends each read through httpx2's decoder and chunker, decodes each line to str, walks
it through three generators and parses it with the standard library's json. This takes the
bytes as the connection gives them and parses them with orjson: a 10-event stream's upstream
call 600-750 -> 520-560 us of CPU (BENCHMARKS.md, "Reading Gemini's stream"). A whole answer is
read the same way (`received`; a generateContent call 276 -> 254 us). An answer Gemini compressed
still goes through httpx2's decoder.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import httpx2
import orjson
from google.genai import errors as genai_errors

_OTHER_FIELDS = (b"event", b"id", b"retry")


def events(response: httpx2.Response) -> Iterator[Any]:
    """The JSON value of each event of `response`, an SSE answer, as each arrives. Data that is
    not JSON raises the SDK's UnknownApiResponseError, as its reader does."""
    return _events(received(response))


def received(response: httpx2.Response) -> Iterable[bytes]:
    """The bytes of an answer (streamed or not) as the connection gives them; through httpx2's
    decoder only when Gemini compressed them."""
    plain = response.headers.get("content-encoding", "identity") == "identity"
    return response.stream if plain else response.iter_bytes()


def _events(received: Iterable[bytes]) -> Iterator[Any]:
    data: list[bytes] = []
    rest = b""  # the start of a line not ended yet, or a line and the CR that may be half a CRLF
    for chunk in received:
        if not chunk:
            continue
        lines = (rest + chunk).splitlines()
        rest = b"" if chunk.endswith(b"\n") else lines.pop() + (b"\r" if chunk.endswith(b"\r") else b"")
        yield from _ended(lines, data)
    yield from _ended([*rest.splitlines(), b""], data)


def _ended(lines: list[bytes], data: list[bytes]) -> Iterator[Any]:
    """The events these whole lines end, `data` holding what is read of the next one."""
    for line in lines:
        if line:
            _take(line, data)
        elif data:
            yield _value(data)


def _take(line: bytes, data: list[bytes]) -> None:
    field, _, value = line.partition(b":")
    if field == b"data":
        data.append(value[1:] if value[:1] == b" " else value)
    elif field and field not in _OTHER_FIELDS:  # not a comment (no field), not another field: JSON
        data.append(line)


def _value(data: list[bytes]) -> Any:
    text = b"\n".join(data)
    data.clear()
    try:
        return orjson.loads(text)  # as a whole answer is read (client.py)
    except orjson.JSONDecodeError as exc:
        # Not the data itself: it is Gemini's, and may be anything.
        raise genai_errors.UnknownApiResponseError(f"Gemini sent an event that is not JSON ({len(text)} bytes)") \
            from exc
