"""The emulator's faults of a broken upstream (HTML pages, huge or key-echoing errors, closed
and hanging connections, empty, unfinished and malformed 200s), over real HTTP: through the
real google-genai SDK where it can express the case, raw HTTP where the bytes matter."""
from __future__ import annotations

import http.client
import json
import re
import socket
import threading

import httpx2
import pytest
import requests
from google.genai import errors

from tests.support import collect
from tests.support.emulator import sdk_client

pytestmark = pytest.mark.e2e

FLASH = "gemini-2.5-flash"
GENERATE = f"/v1beta/models/{FLASH}:generateContent"
STREAM = f"/v1beta/models/{FLASH}:streamGenerateContent?alt=sse"


def body(prompt: str) -> bytes:
    return json.dumps({"contents": [{"role": "user", "parts": [{"text": prompt}]}]}).encode()


def post(server, path: str, prompt: str, timeout: float = 5) -> requests.Response:
    return requests.post(server.url + path, data=body(prompt), headers={"x-goog-api-key": "k"}, timeout=timeout)


def events(response: requests.Response) -> list[str]:
    return [event[len("data: "):] for event in re.split(r"\r?\n\r?\n", response.text) if event]


def generate(client, prompt: str, stream: bool):
    if stream:
        return list(client.models.generate_content_stream(model=FLASH, contents=prompt))
    return client.models.generate_content(model=FLASH, contents=prompt)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_html_fault_is_a_502_page(client, server, stream):
    with pytest.raises(errors.ServerError) as caught:
        generate(client, "[emulator fault=html]", stream)
    assert caught.value.code == 502
    assert caught.value.status.lower() == "bad gateway"
    assert "<title>Error 502 (Server Error)!!1</title>" in caught.value.message
    raw = post(server, STREAM if stream else GENERATE, "[emulator fault=html]")
    assert raw.headers["Content-Type"].startswith("text/html")


def test_huge_fault_sends_a_5_mib_message(client):
    with pytest.raises(errors.ClientError) as caught:
        generate(client, "[emulator fault=huge]", stream=False)
    assert caught.value.code == 400
    assert len(caught.value.message) >= 5 * 1024 * 1024
    with pytest.raises(errors.ServerError) as caught:
        generate(client, "[emulator fault=huge code=503]", stream=True)
    assert caught.value.code == 503


def test_echokey_fault_quotes_the_callers_key(server):
    echoing = sdk_client(server.url, key="the-callers-own-key")
    with pytest.raises(errors.ClientError) as caught:
        generate(echoing, "[emulator fault=echokey]", stream=True)
    assert caught.value.message.count("the-callers-own-key") == 4
    assert "Bearer the-callers-own-key" in caught.value.message


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_close_fault_answers_nothing_at_all(client, server, stream):
    with pytest.raises(httpx2.RemoteProtocolError, match="without sending a response"):
        generate(client, "[emulator fault=close]", stream)
    connection = http.client.HTTPConnection(server.host, server._server.server_port, timeout=5)
    connection.request("POST", STREAM if stream else GENERATE, body("[emulator fault=close]"), {"x-goog-api-key": "k"})
    with pytest.raises(http.client.RemoteDisconnected):
        connection.getresponse()


def handler_of(connection: socket.socket) -> threading.Thread | None:
    """The emulator thread serving `connection` (socketserver starts each handler thread with
    (request socket, client address) as its arguments; the address is this end's)."""
    here = connection.getsockname()
    for thread in threading.enumerate():
        arguments = getattr(thread, "_args", None) or ()
        if len(arguments) == 2 and arguments[1] == here:
            return thread
    return None


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_hang_fault_holds_the_connection_until_the_client_leaves(server, stream):
    payload = body("[emulator fault=hang]")
    path = (STREAM if stream else GENERATE).encode()
    with socket.create_connection((server.host, server._server.server_port)) as connection:
        connection.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nx-goog-api-key: k\r\nContent-Type: application/json\r\n"
                           b"Content-Length: %d\r\n\r\n%s" % (path, len(payload), payload))
        connection.settimeout(0.5)
        received = b""
        try:
            while True:
                data = connection.recv(65536)
                if not data:
                    break
                received += data
        except TimeoutError:
            pass
        if stream:  # the 200 and its headers, then nothing
            assert received.startswith(b"HTTP/1.1 200")
            assert received.endswith(b"\r\n\r\n")
        else:
            assert received == b""
        handler = handler_of(connection)
        assert handler is not None, "no emulator thread holds the connection"
        assert handler.is_alive()
    handler.join(timeout=3)
    assert not handler.is_alive(), "the emulator kept waiting after the client left"


def test_hang_fault_after_some_chunks(server):
    received = []
    with (requests.post(server.url + STREAM, data=body("[emulator fault=hang after=2]"),
                        headers={"x-goog-api-key": "k"}, stream=True, timeout=(5, 0.5)) as response,
          pytest.raises(requests.exceptions.ConnectionError, match="Read timed out")):
        collect(response.iter_lines(), received)
    assert len([line for line in received if line]) == 2


def test_empty_fault_is_a_200_with_nothing_in_it(client, server):
    assert generate(client, "[emulator fault=empty]", stream=True) == []
    assert generate(client, "[emulator fault=empty]", stream=False).candidates is None
    raw = post(server, STREAM, "[emulator fault=empty]")
    assert (raw.status_code, raw.content) == (200, b"")
    assert post(server, GENERATE, "[emulator fault=empty]").json() == {}


def test_unfinished_fault_has_no_finish_reason(client):
    chunks = generate(client, "[emulator fault=unfinished tokens=40]", stream=True)
    assert len(chunks) > 2
    assert all(chunk.candidates[0].finish_reason is None for chunk in chunks)
    assert "".join(chunk.text for chunk in chunks) == generate(client, "[emulator tokens=40]", stream=False).text
    assert len(generate(client, "[emulator fault=unfinished after=2]", stream=True)) == 2
    answer = generate(client, "[emulator fault=unfinished]", stream=False)
    assert answer.text
    assert answer.candidates[0].finish_reason is None


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_notjson_fault(client, server, stream):
    with pytest.raises(errors.UnknownApiResponseError if stream else json.JSONDecodeError):
        generate(client, "[emulator fault=notjson]", stream)
    raw = post(server, STREAM if stream else GENERATE, "[emulator fault=notjson]")
    assert raw.status_code == 200
    assert "this is not JSON" in raw.text


def test_notjson_and_wrongshape_faults_after_some_chunks(server):
    sent = events(post(server, STREAM, "[emulator fault=notjson after=2]"))
    assert len(sent) == 3
    assert [json.loads(event)["candidates"] for event in sent[:2]]
    assert "not JSON" in sent[2]
    sent = events(post(server, STREAM, "[emulator fault=wrongshape after=1]"))
    assert len(sent) == 2
    assert json.loads(sent[1]) == {"candidates": [
        {"content": "not a Content object", "finishReason": "STOP", "index": 0}]}
    answer = post(server, GENERATE, "[emulator fault=wrongshape]").json()
    assert answer["candidates"][0]["content"] == "not a Content object"


def test_times_limits_a_fault_to_the_first_identical_requests(client):
    prompt = "[emulator fault=503 times=2] once more"
    for _ in range(2):
        with pytest.raises(errors.ServerError):
            generate(client, prompt, stream=False)
    assert generate(client, prompt, stream=False).text
    with pytest.raises(errors.ServerError):
        generate(client, prompt, stream=True)  # another method: its own count
    with pytest.raises(errors.ServerError):
        generate(client, prompt + "!", stream=False)  # another body: its own count
