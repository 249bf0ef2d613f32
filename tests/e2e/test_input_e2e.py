"""Bodies and paths as gunicorn hands them to the app (raw sockets, real gunicorn with the
shipped gunicorn.conf.py): malformed chunked bodies, chunked bodies over MAX_BODY_BYTES,
repeated slashes, 405s. Each was a 500, a wrong status or an HTML page."""
import json

import pytest

from tests.support.processes import start_gunicorn
from tests.support.raw_http import exchange, http_request

pytestmark = pytest.mark.e2e

LIMIT = 4096
CHAT = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def gateway(emulator_process):
    server = start_gunicorn(GEMINI_BASE_URL=emulator_process, UPSTREAM_RETRIES="0", MAX_BODY_BYTES=str(LIMIT),
                            WEB_CONCURRENCY="1")
    yield server
    assert server.stop() == 0


def chunked(body: bytes, size: int = 1000) -> bytes:
    pieces = [body[i:i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


CHUNKED = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}


def openai_error(status: int, headers: dict, body: bytes) -> dict:
    assert headers["content-type"] == "application/json", body[:300]
    error = json.loads(body)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


@pytest.mark.parametrize("framing", [
    b"zz\r\n{}\r\n0\r\n\r\n",  # not a hex size
    b"-5\r\n{}\r\n0\r\n\r\n",
    b"2\r\n{}XX0\r\n\r\n",  # chunk not followed by CRLF
    b"2;\x01=\r\n{}\r\n0\r\n\r\n",  # invalid chunk extension
    b"1" * 9000,  # a size line longer than gunicorn reads, never ended
])
def test_a_malformed_chunked_body_is_400_in_openai_s_envelope(gateway, framing):
    status, headers, body = exchange(gateway.url, http_request("POST", "/v1/chat/completions", CHUNKED, framing))
    assert status == 400, body[:300]
    assert "could not be read" in openai_error(status, headers, body)["message"]


def test_a_chunked_body_over_the_limit_is_413_and_one_at_the_limit_is_read_whole(gateway):
    padded = dict(CHAT, user="")
    at_limit = json.dumps(padded).encode()
    padded["user"] = "x" * (LIMIT - len(at_limit))
    at_limit = json.dumps(padded).encode()
    assert len(at_limit) == LIMIT
    status, headers, body = exchange(gateway.url, http_request("POST", "/v1/chat/completions", CHUNKED,
                                                               chunked(at_limit)))
    assert status == 200, body[:300]
    over = at_limit[:-1] + b' }'
    status, headers, body = exchange(gateway.url, http_request("POST", "/v1/chat/completions", CHUNKED, chunked(over)))
    assert status == 413
    assert openai_error(status, headers, body)["code"] == "request_too_large"
    huge = chunked(json.dumps(dict(CHAT, user="x" * 10 * LIMIT)).encode())
    status, headers, body = exchange(gateway.url, http_request("POST", "/v1/chat/completions", CHUNKED, huge))
    assert status == 413


def test_a_chunked_body_within_the_limit_is_served(gateway):
    status, _, body = exchange(gateway.url, http_request("POST", "/v1/chat/completions", CHUNKED,
                                                    chunked(json.dumps(CHAT).encode(), size=7)))
    assert status == 200
    assert json.loads(body)["object"] == "chat.completion"


@pytest.mark.parametrize("path", ["//v1/models", "/v1//models", "//v1//models", "///v1///models"])
def test_repeated_slashes_are_the_one_slash_route_in_json_not_an_html_redirect(gateway, path):
    status, headers, body = exchange(gateway.url, http_request("GET", path))
    assert status == 200, body[:300]
    assert headers["content-type"] == "application/json", body[:300]
    assert json.loads(body)["object"] == "list"


def test_405_is_json_with_allow(gateway):
    status, headers, body = exchange(gateway.url, http_request("GET", "/v1/chat/completions"))
    assert status == 405
    assert headers["allow"] == "OPTIONS, POST"
    assert openai_error(status, headers, body)["code"] == "method_not_allowed"


def test_a_deep_body_is_400_under_gunicorn(gateway):
    deep = b'{"model": "gemini-2.5-flash", "x": ' + b"[" * 1500 + b"]" * 1500 + b"}"
    status, headers, body = exchange(gateway.url, http_request("POST", "/v1/chat/completions",
                                                          {"Content-Type": "application/json",
                                                           "Content-Length": str(len(deep))}, deep))
    assert status == 400
    assert openai_error(status, headers, body)["code"] == "json_too_deep"
