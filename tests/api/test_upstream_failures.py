"""Upstream failures told honestly (docs/faults.md): what an upstream error message may carry,
the deadline across attempts, the first chunk's wait, and the retry rule itself."""
import json
import logging
import time

import httpx2
import pytest
import requests
from google.genai import errors as genai_errors

from gemini_proxy.app import create_app
from gemini_proxy.upstream.errors import (
    MAX_RETRY_AFTER,
    MAX_UPSTREAM_MESSAGE,
    clean_upstream_message,
    upstream_api_error,
)
from gemini_proxy.upstream.failures import retry_wait, retryable
from tests.support import gateway_settings, sse_events

AIZA_KEY = "AIzaSyD-fake0key0for0tests0only0123456"  # shaped like a Google API key, 39 characters
GATEWAY_KEY = "gateway-secret-gemini-key-0001"
CLIENT_KEY = "client-own-gemini-key-0002"


def ask(text, stream=False):
    return {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": text}], "stream": stream}


def error_message(response) -> str:
    raw = response.get_data(as_text=True)
    if response.mimetype == "text/event-stream":
        return json.loads(sse_events(response.get_data())[-2])["error"]["message"]
    return json.loads(raw)["error"]["message"]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_an_html_error_page_is_relayed_as_its_text(client, stream):
    response = client.post("/v1/chat/completions", json=ask("[emulator fault=html]", stream))
    message = error_message(response)
    assert response.status_code == 503
    assert "<" not in message
    assert "window.onload" not in message
    assert "502. That\u2019s an error. The server encountered a temporary error" in message


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_a_huge_error_message_is_cut(client, stream):
    response = client.post("/v1/chat/completions", json=ask("[emulator fault=huge]", stream))
    message = error_message(response)
    assert len(response.get_data()) < 2 * MAX_UPSTREAM_MESSAGE
    assert len(message) == MAX_UPSTREAM_MESSAGE
    assert message.startswith("Request contains an invalid argument.")


@pytest.mark.parametrize("key", [GATEWAY_KEY, AIZA_KEY])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_the_gateways_key_echoed_by_upstream_is_never_relayed_nor_logged(emulator, caplog, key, stream):
    client = create_app(gateway_settings(emulator, gemini_api_key=key)).test_client()
    with caplog.at_level(logging.DEBUG):
        response = client.post("/v1/chat/completions", json=ask("[emulator fault=echokey]", stream))
    message = error_message(response)
    assert response.status_code == 400  # a stream too: the error came before its first chunk
    assert key not in response.get_data(as_text=True)
    assert key not in caplog.text
    assert message.count("[redacted]") == 4
    assert "Bearer [redacted]" in message
    assert "key=[redacted]" in message


def test_a_pass_through_key_echoed_by_upstream_is_never_relayed(emulator, caplog):
    client = create_app(gateway_settings(emulator, pass_through_keys=True)).test_client()
    with caplog.at_level(logging.DEBUG):
        response = client.post("/v1/chat/completions", json=ask("[emulator fault=echokey]"),
                               headers={"Authorization": f"Bearer {CLIENT_KEY}"})
    assert response.status_code == 400
    assert "[redacted]" in error_message(response)
    assert CLIENT_KEY not in response.get_data(as_text=True)
    assert CLIENT_KEY not in caplog.text


@pytest.mark.parametrize("message, secrets, relayed", [
    (f"bad key {AIZA_KEY}.", (), "bad key [redacted]."),
    ("token ya29.a0AfH6SMBx-abc_def in use", (), "token [redacted] in use"),
    ("Authorization: Bearer sk-abc.def rejected", (), "Authorization: Bearer [redacted] rejected"),
    ('{"x-goog-api-key": "s3cr3t-value"}', (), '{"x-goog-api-key": "[redacted]"}'),
    ("GET /v1beta/models?alt=sse&key=EVIL&x=1 failed", (), "GET /v1beta/models?alt=sse&key=[redacted]&x=1 failed"),
    ("my key gateway-secret-gemini-key-0001 again", (GATEWAY_KEY,), "my key [redacted] again"),
    ("short keys like abc are left alone", ("abc",), "short keys like abc are left alone"),
    ("<p>a &amp; b</p>\n\n  <script>alert(1)</script><b>c</b>", (), "a & b c"),
    ("Invalid value at 'contents[0]': 5 < 6 and 7 > 3, basic checks", (),
     "Invalid value at 'contents[0]': 5 < 6 and 7 > 3, basic checks"),
])
def test_upstream_messages_are_cleaned(message, secrets, relayed):
    assert clean_upstream_message(message, secrets) == relayed


def test_a_key_cut_in_half_by_the_scan_limit_is_dropped_not_half_relayed():
    message = "x " * 32767 + AIZA_KEY + " tail"  # the key straddles the 65536th character
    assert "AIza" not in clean_upstream_message(message)


@pytest.mark.parametrize("message", ["x" * 60000 + " y" * 3000, "<script " * 10000, "<a " * 30000,
                                     "authorization" + " " * 60000, "a " * 3_000_000])
def test_cleaning_hostile_messages_takes_linear_time(message):
    started = time.process_time()
    assert len(clean_upstream_message(message)) <= MAX_UPSTREAM_MESSAGE
    assert time.process_time() - started < 0.5


@pytest.mark.parametrize("delay, header", [("7s", "7"), ("1.5s", "2"), ("0.2s", "1"), ("99999999999s", "3600"),
                                           ("9" * 400 + "s", "3600"), ("soon", None)])
def test_retry_after_comes_from_retry_info_and_is_capped(delay, header):
    details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}]
    error = upstream_api_error(429, "RESOURCE_EXHAUSTED", "quota", details)
    assert error.headers.get("Retry-After") == header
    assert MAX_RETRY_AFTER == 3600


def test_malformed_upstream_error_fields_are_no_500():
    error = upstream_api_error(500, {"not": "a status"}, "m", [])
    assert (error.status, error.code) == (500, "internal_error")


def test_the_first_chunk_may_take_the_whole_deadline_then_gaps_the_chunk_timeout(emulator):
    client = create_app(gateway_settings(emulator, upstream_timeout=3.0, upstream_chunk_timeout=0.5)).test_client()
    response = client.post("/v1/chat/completions", json=ask("[emulator ttft=1 tokens=12] go", stream=True))
    events = sse_events(response.get_data())
    assert events[-1] == "[DONE]"
    assert all("error" not in json.loads(event) for event in events[:-1])


def test_no_retry_starts_that_would_end_after_the_deadline(emulator):
    # Waits: 0.5-1 s before the first retry, 1-2 s before the second: the second would end too late.
    client = create_app(gateway_settings(emulator, upstream_retries=5, upstream_retry_delay=1.0,
                                         upstream_timeout=1.5)).test_client()
    before = requests.get(f"{emulator.url}/emulator/stats", timeout=5).json()["requests"]
    started = time.monotonic()
    assert client.post("/v1/chat/completions", json=ask("[emulator fault=503] deadline")).status_code == 503
    assert time.monotonic() - started < 1.5
    assert requests.get(f"{emulator.url}/emulator/stats", timeout=5).json()["requests"] - before == 2


def test_retry_waits_double_up_to_four_seconds_and_are_jittered_down_to_half():
    assert [retry_wait(n, 0.25, lambda: 1.0) for n in (1, 2, 3, 4, 5, 6)] == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0]
    assert [retry_wait(n, 0.25, lambda: 0.0) for n in (1, 2)] == [0.125, 0.25]
    assert retry_wait(1, 10.0, lambda: 1.0) == 10.0  # a longer configured delay is its own cap


def server_error(code: int) -> genai_errors.APIError:
    return genai_errors.APIError(code, {"error": {"code": code, "message": "m", "status": "X"}})


@pytest.mark.parametrize("failure, retried", [
    (server_error(500), True), (server_error(502), True), (server_error(503), True), (server_error(504), True),
    (server_error(429), False), (server_error(400), False), (server_error(404), False),
    (httpx2.ConnectError("refused"), True), (httpx2.ConnectTimeout("slow to connect"), True),
    (httpx2.RemoteProtocolError("closed before the headers"), True), (httpx2.ReadError("reset"), True),
    (httpx2.WriteError("broken pipe"), True),
    (httpx2.ReadTimeout("generation still running"), False), (httpx2.WriteTimeout("slow"), False),
    (httpx2.PoolTimeout("no free connection"), False),
])
def test_the_retry_rule(failure, retried):
    assert retryable(failure) is retried


def test_each_attempt_tells_gemini_what_is_left_of_the_deadline(emulator, emulator_requests):
    client = create_app(gateway_settings(emulator, upstream_retries=1, upstream_retry_delay=1.0,
                                         upstream_timeout=2.5)).test_client()
    response = client.post("/v1/chat/completions", json=ask("[emulator fault=503 times=1] what is left?"))
    assert response.status_code == 200
    first, second = emulator_requests(2)
    assert (first["headers"]["x-server-timeout"], second["headers"]["x-server-timeout"]) == ("3", "2")
