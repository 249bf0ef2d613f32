"""Draining and reloading real gunicorn (gunicorn.conf.py, the gateway's worker): SIGTERM with
streams in flight, new connections during a drain, SIGHUP then SIGTERM."""
import json
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.processes import free_port, running_nginx, start_gunicorn

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-flash"


def refused(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_sighup_then_sigterm_leaves_no_emulator_and_no_metrics_folder(tmp_path):
    emulator_port = free_port()
    server = start_gunicorn(EMULATOR_PORT=str(emulator_port), EMULATOR_TTFT="0", TMPDIR=str(tmp_path))
    chat = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    try:
        (metrics_dir,) = tmp_path.iterdir()
        assert requests.post(f"{server.url}/v1/chat/completions", json=chat, timeout=30).status_code == 200
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the reload's new workers answer from the same emulator
            time.sleep(0.5)
            if requests.post(f"{server.url}/v1/chat/completions", json=chat, timeout=30).status_code == 200:
                break
        text = requests.get(f"{server.url}/metrics", timeout=30).text
        assert 'gemini_proxy_requests_total{' in text
        assert metrics_dir.is_dir()
    finally:
        assert server.stop() == 0
    assert refused(emulator_port), "the emulator outlived gunicorn"
    assert list(tmp_path.iterdir()) == [], "the metrics folder outlived gunicorn"


def ask(text, **fields):
    return {"model": MODEL, "messages": [{"role": "user", "content": text}], **fields}


def read_stream(url, text, started):
    """The events of one stream (JSON or [DONE]); `started` is set once the first one arrived."""
    events = []
    with requests.post(f"{url}/v1/chat/completions", json=ask(text, stream=True), stream=True, timeout=30) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith(b"data: "):
                events.append("[DONE]" if line == b"data: [DONE]" else json.loads(line[6:]))
                started.set()
    return events


def test_sigterm_ends_every_answer_in_time_and_refuses_new_connections(emulator_process, tmp_path):
    graceful = 6  # answers still open are ended 1.5 s before it is over (gemini_proxy/worker.py)
    log = tmp_path / "gunicorn.log"
    with log.open("w") as sink:
        server = start_gunicorn(GEMINI_BASE_URL=emulator_process, UPSTREAM_RETRIES="0", WEB_CONCURRENCY="1",
                                GUNICORN_GRACEFUL_TIMEOUT=str(graceful), stderr=sink)
        port = int(server.url.rsplit(":", 1)[1])
        streams = {"short": "[emulator ttft=0 tps=40 tokens=40]",  # done in a second
                   "long": "[emulator ttft=0 tps=10 tokens=400]",  # 40 s of steady tokens
                   # then no chunk for 40 s: its thread waits on Gemini
                   "silent": "[emulator ttft=0 tps=0.1 tokens=40]"}
        try:
            kept_alive = requests.Session()
            with ThreadPoolExecutor(8) as pool:
                started = {name: threading.Event() for name in streams}
                running = {name: pool.submit(read_stream, server.url, text, started[name])
                           for name, text in streams.items()}
                waiting = pool.submit(requests.post, f"{server.url}/v1/chat/completions",
                                      json=ask("[emulator delay=40]"), timeout=30)
                assert all(event.wait(20) for event in started.values())
                time.sleep(0.3)  # the non-stream request reached the app
                assert kept_alive.get(f"{server.url}/readyz", timeout=30).status_code == 200

                server.process.send_signal(signal.SIGTERM)
                sigterm = time.monotonic()
                time.sleep(0.3)
                with pytest.raises(requests.ConnectionError):  # refused at once, not queued for the whole drain
                    requests.get(f"{server.url}/healthz", timeout=(1, 1))
                assert refused(port)
                ready = kept_alive.get(f"{server.url}/readyz", timeout=5)  # a kept-alive connection is still answered
                assert ready.status_code == 503
                assert ready.json()["reason"].startswith("draining")
                assert ready.headers["Connection"] == "close"

                results = {name: future.result(timeout=graceful + 5) for name, future in running.items()}
                plain = waiting.result(timeout=graceful + 5)
                exit_code = server.process.wait(graceful + 5)
                stopped = time.monotonic() - sigterm
        finally:
            server.stop(signal.SIGKILL)
    text = log.read_text()
    # The worker exited on its own before the arbiter's SIGKILL (the silent stream's thread still
    # waiting on Gemini did not keep it).
    assert exit_code == 0
    assert "was sent" not in text
    assert stopped < graceful + 2, stopped

    short = results["short"]
    assert short[-1] == "[DONE]"
    assert not any("error" in e for e in short[:-1])
    for name in ("long", "silent"):
        events = results[name]
        assert events[-1] == "[DONE]", name
        assert events[-2]["error"]["code"] == "server_shutting_down", name
        assert any(e.get("choices") for e in events[:-2]), name
    assert plain.status_code == 503
    assert plain.json()["error"]["code"] == "server_shutting_down"
    assert plain.headers["Retry-After"] == "1"

    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    ended = sorted(line["ended_with"] for line in lines if line["message"] == "answer ended by shutdown")
    assert ended == ["503", "error event", "error event"], ended


def test_during_a_drain_nginx_answers_new_requests_at_once(emulator_process, tmp_path):
    graceful = 6
    server = start_gunicorn(GEMINI_BASE_URL=emulator_process, UPSTREAM_RETRIES="0", WEB_CONCURRENCY="1",
                            GUNICORN_GRACEFUL_TIMEOUT=str(graceful))
    try:
        with running_nginx(server.url.removeprefix("http://"), tmp_path) as nginx, ThreadPoolExecutor(2) as pool:
            started = threading.Event()
            stream = pool.submit(read_stream, nginx, "[emulator ttft=0 tps=10 tokens=400]", started)
            assert started.wait(20)
            server.process.send_signal(signal.SIGTERM)
            time.sleep(2.5)  # gunicorn has closed the connections nginx kept alive
            for path in ("/readyz", "/v1/models"):
                asked = time.monotonic()
                response = requests.get(f"{nginx}{path}", timeout=10)
                assert time.monotonic() - asked < 2, path  # was: held for the whole drain, then 503
                assert response.status_code == 503
                assert response.json()["error"]["code"] == "gateway_unavailable"
            events = stream.result(timeout=graceful + 5)
            assert events[-1] == "[DONE]"
            assert events[-2]["error"]["code"] == "server_shutting_down"
    finally:
        server.stop(signal.SIGKILL)
