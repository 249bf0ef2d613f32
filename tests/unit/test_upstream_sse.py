"""upstream/sse.py: the events of a streamed Gemini answer, read as the SDK's reader reads them."""
from __future__ import annotations

import gzip
import random

import httpx2
import pytest
from google.genai import errors as genai_errors
from google.genai._api_client import HttpResponse

from gemini_proxy.upstream import sse
from tests.support import RECORDINGS

RECORDED = ["streaming/response.txt", "streaming_long/response.json", "streaming_function_calling/response_0.json",
            "streaming_function_calling/response_1.json"]


class Pieces(httpx2.SyncByteStream):
    """A body that arrives in the given pieces, as reads of a connection return them."""

    def __init__(self, pieces: list[bytes]):
        self.pieces = pieces

    def __iter__(self):
        yield from self.pieces


def answer(pieces: list[bytes], headers: dict | None = None) -> httpx2.Response:
    return httpx2.Response(200, stream=Pieces(pieces), headers={"content-type": "text/event-stream", **(headers or {})})


def read(pieces: list[bytes], headers: dict | None = None) -> list:
    return list(sse.events(answer(pieces, headers)))


def sdk_read(body: bytes) -> list:
    return list(HttpResponse({}, answer([body])).segments())


def cut(body: bytes, seed: int) -> list[bytes]:
    """`body` in pieces of random sizes, 1 to 40 bytes."""
    rng, pieces, at = random.Random(seed), [], 0
    while at < len(body):
        size = rng.randint(1, 40)
        pieces.append(body[at:at + size])
        at += size
    return pieces


@pytest.mark.parametrize("name", RECORDED)
def test_recorded_streams_read_as_the_sdk_reads_them_however_they_arrive(name):
    body = (RECORDINGS / "gemini" / name).read_bytes()
    expected = sdk_read(body)
    assert expected
    assert all("candidates" in event for event in expected)
    assert read([body]) == expected
    assert read([body[i:i + 1] for i in range(len(body))]) == expected
    for seed in range(5):
        assert read(cut(body, seed)) == expected


@pytest.mark.parametrize("end", [b"\r\n", b"\n", b"\r"], ids=["crlf", "lf", "cr"])
def test_every_line_ending_of_the_standard_ends_lines_and_events(end):
    body = end.join([b'data: {"a": 1}', b"", b'data: {"b": 2}', b"", b""])
    assert read([body]) == [{"a": 1}, {"b": 2}]
    for split in range(1, len(body)):  # a CRLF cut in two is one line end, a lone CR is one too
        assert read([body[:split], body[split:]]) == [{"a": 1}, {"b": 2}], split


def test_data_lines_join_and_other_lines_are_passed_over():
    body = (b': a comment\nevent: message\nid: 7\nretry: 100\ndata:{"x":\ndata: [1,\ndata: 2]}\n\n'
            b'data: {"y": true}\n\n')
    assert read([body]) == [{"x": [1, 2]}, {"y": True}]
    assert read([b'data: [1,\ndata\ndata: 2]\n\n']) == [[1, 2]]  # a field without a colon: an empty value
    assert sdk_read(b'data: {"x":\ndata: [1,\ndata: 2]}\n\n') == [{"x": [1, 2]}]


def test_json_sent_without_data_lines_is_an_event_too():
    error = b'{\n  "error": {\n    "code": 500,\n    "status": "INTERNAL"\n  }\n}\n'
    body = b'data: {"candidates": []}\n\n' + error
    assert read([body]) == sdk_read(body) == [{"candidates": []}, {"error": {"code": 500, "status": "INTERNAL"}}]


def test_the_last_event_counts_without_its_blank_line():
    assert read([b'data: {"a": 1}\n\ndata: {"b": 2}']) == [{"a": 1}, {"b": 2}]
    assert read([b'data: {"a": 1}\r']) == [{"a": 1}]
    assert read([]) == read([b""]) == read([b"\n\n: nothing\n\n"]) == []


def test_data_that_is_not_json_is_the_sdks_error_after_the_events_before_it():
    events = sse.events(answer([b'data: {"a": 1}\n\n', b"data: the key AIzaSECRET is wrong\n\n"]))
    assert next(events) == {"a": 1}
    with pytest.raises(genai_errors.UnknownApiResponseError) as raised:
        next(events)
    assert "SECRET" not in str(raised.value)
    with pytest.raises(genai_errors.UnknownApiResponseError):
        sdk_read(b"data: the key AIzaSECRET is wrong\n\n")


def test_a_compressed_answer_is_decoded_first():
    body = gzip.compress(b'data: {"a": 1}\r\n\r\ndata: {"b": 2}\r\n\r\n')
    assert read([body[:9], body[9:]], {"content-encoding": "gzip"}) == [{"a": 1}, {"b": 2}]


def test_a_whole_answer_is_its_bytes_as_they_came_or_decoded():
    whole = b'{"candidates": [{"index": 0}]}'
    assert b"".join(sse.received(answer([whole[:5], whole[5:]]))) == whole
    compressed = gzip.compress(whole)
    assert b"".join(sse.received(answer([compressed[:7], compressed[7:]], {"content-encoding": "gzip"}))) == whole
