"""Draining and reloading real gunicorn (gunicorn.conf.py, the gateway's worker): SIGTERM with
streams in flight, new connections during a drain, SIGHUP then SIGTERM."""
import signal
import socket
import time

import pytest
import requests

from tests.e2e.conftest import free_port, start_gunicorn

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
        assert 'gemini_proxy_requests_total{' in text and metrics_dir.is_dir()
    finally:
        assert server.stop() == 0
    assert refused(emulator_port), "the emulator outlived gunicorn"
    assert list(tmp_path.iterdir()) == [], "the metrics folder outlived gunicorn"
