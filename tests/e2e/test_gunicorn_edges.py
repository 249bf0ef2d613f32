"""What gunicorn answers before the app runs, with the gateway's worker: OpenAI's JSON envelope
for malformed requests, and a bound on how long a client may take to send its request."""
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.processes import start_gunicorn
from tests.support.raw_http import exchange

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(emulator_process, tmp_path_factory):
    log = tmp_path_factory.mktemp("edges") / "gunicorn.log"
    with log.open("w") as sink:
        started = start_gunicorn(GEMINI_BASE_URL=emulator_process, WEB_CONCURRENCY="1", GUNICORN_THREADS="4",
                                 REQUEST_READ_TIMEOUT="1", stderr=sink)
        started.log = log
        yield started
        started.stop()


@pytest.mark.parametrize("raw, status, code", [
    (b"GARBAGE\r\n\r\n", 400, "invalid_request"),
    (b"GET /v1/models?key=sk-in-the-url HTTP/9.9\r\nHost: x\r\n\r\n", 400, "invalid_request"),
    (b"GET /v1/models HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n", 400, "invalid_request"),
    (b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431, "request_headers_too_large"),
    (b"GET /v1/models HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(120)) + b"\r\n",
     431, "request_headers_too_large"),
    (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "request_line_too_long"),
    (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: bogus\r\n\r\n", 501, "invalid_request"),
])
def test_gunicorns_own_errors_are_openai_json(server, raw, status, code):
    answer_status, headers, body = exchange(server.url, raw, timeout=10)
    assert answer_status == status
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    error = json.loads(body)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code
    assert error["type"] == "invalid_request_error"
    assert "<" not in error["message"]
    assert "sk-in-the-url" not in server.log.read_text()


def test_a_request_must_arrive_within_the_read_timeout(server):
    """Slow clients, and clients that send nothing, hold no thread; a request still arriving
    after REQUEST_READ_TIMEOUT (1 s here) gets a 408, however it trickles."""
    host, port = server.url.removeprefix("http://").split(":")
    partial = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
    stop = threading.Event()

    def slow_client(trickle: bool):
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(partial)
            started = time.monotonic()
            try:
                while trickle and not stop.is_set():  # a byte every 0.2 s: never idle for long
                    sock.sendall(b"X")
                    time.sleep(0.2)
                answer = sock.recv(65536)
            except OSError:  # the gateway closed the connection while we still wrote
                answer = b""
            return time.monotonic() - started, answer

    idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(8)]  # never send a byte
    with ThreadPoolExecutor(9) as pool:
        slow = [pool.submit(slow_client, trickle=i % 2 == 0) for i in range(8)]  # twice as many as threads
        time.sleep(0.3)
        asked = time.monotonic()
        assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
        waited = time.monotonic() - asked
        stop.set()
        results = [future.result(timeout=10) for future in slow]
    for sock in idle:
        sock.close()
    assert waited < 1.5, waited  # was: never, all four threads waited on slow clients
    for took, answer in results:
        assert took < 4, took
        if answer:
            assert answer.startswith(b"HTTP/1.1 408 ")
            assert b'"request_timeout"' in answer


@pytest.mark.parametrize("length", [200, 100_000])  # waited for in the poller; read by the app in a thread
def test_a_slow_body_is_a_408(server, length):
    head = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % length)
    started = time.monotonic()
    status, headers, body = exchange(server.url, head + b'{"model": "gemini-2.5-flash", ', timeout=10)
    assert status == 408
    assert headers["connection"] == "close"
    assert time.monotonic() - started < 3
    assert json.loads(body)["error"]["type"] == "invalid_request_error"
