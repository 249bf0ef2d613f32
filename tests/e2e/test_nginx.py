"""gunicorn behind real nginx, configured with the shipped deploy/nginx.conf."""
import http.client
import json
import re
import time

import pytest
import requests

from tests.support.processes import ROOT, running_nginx

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-flash"


@pytest.fixture(scope="module")
def nginx(gateway, tmp_path_factory):
    with running_nginx(gateway.url.removeprefix("http://"), tmp_path_factory.mktemp("nginx"),
                       **{"client_max_body_size 20m;": "client_max_body_size 64k;"}) as url:
        yield url


def ask(text, **fields):
    return {"model": MODEL, "messages": [{"role": "user", "content": text}], **fields}


def test_stream_events_pass_through_nginx_as_they_are_produced(nginx):
    started, arrivals = time.monotonic(), []
    with requests.post(f"{nginx}/v1/chat/completions", json=ask("[emulator ttft=0.1 tps=20 tokens=48]", stream=True),
                       stream=True, timeout=30) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith(b"data: {") and b'"content":"' in line and b'"content":""' not in line:
                arrivals.append(time.monotonic() - started)
    assert len(arrivals) >= 10
    # 48 tokens at 20/s take 2.4 s to produce: relayed one by one, the first comes early.
    assert arrivals[0] < 0.8, arrivals
    assert arrivals[-1] - arrivals[0] > 1.5, arrivals


@pytest.mark.parametrize("fault, status", [("429", 429), ("404", 404), ("503", 503)])
def test_errors_are_the_same_through_nginx(gateway, nginx, fault, status):
    direct = requests.post(f"{gateway.url}/v1/chat/completions", json=ask(f"[emulator fault={fault}]"), timeout=30)
    proxied = requests.post(f"{nginx}/v1/chat/completions", json=ask(f"[emulator fault={fault}]"), timeout=30)
    assert direct.status_code == proxied.status_code == status
    assert direct.json() == proxied.json()
    assert direct.headers.get("Retry-After") == proxied.headers.get("Retry-After")


def test_body_over_nginx_limit_is_an_openai_413(nginx):
    response = requests.post(f"{nginx}/v1/chat/completions", json=ask("x" * 100_000), timeout=30)
    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "request_too_large"


def test_request_ids_are_kept_or_made_by_nginx(nginx):
    mine = requests.get(f"{nginx}/v1/models", headers={"X-Request-ID": "trace-42"}, timeout=30)
    assert mine.headers["X-Request-ID"] == "trace-42"
    made = requests.get(f"{nginx}/v1/models", timeout=30).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made), made  # nginx's $request_id, not the gateway's own


def test_client_disconnect_through_nginx_stops_generation(nginx, emulator_stats):
    before = emulator_stats()
    with requests.post(f"{nginx}/v1/chat/completions", json=ask("[emulator tps=20 tokens=400]", stream=True),
                       stream=True, timeout=30) as response:
        lines = response.iter_lines()
        assert any(b'"content"' in next(lines) for _ in range(6))
    deadline = time.monotonic() + 10
    while emulator_stats()["streams_aborted"] == before["streams_aborted"] and time.monotonic() < deadline:
        time.sleep(0.1)
    after = emulator_stats()
    assert after["streams_aborted"] == before["streams_aborted"] + 1
    assert after["tokens_generated"] - before["tokens_generated"] < 200


def test_stream_through_nginx_ends_with_done(nginx):
    body = requests.post(f"{nginx}/v1/chat/completions", json=ask("hi", stream=True), timeout=30).text
    events = [e for e in body.split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    assert all(json.loads(e[6:]) for e in events[:-1])


@pytest.mark.parametrize("path", ["/metrics", "//metrics", "/%6Detrics", "/v1/../metrics", "/metrics?x=1"])
def test_metrics_are_not_on_the_public_port(nginx, path):
    host, port = nginx.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 404
    assert json.loads(body)["error"]["code"] == "unknown_url"
    assert b"gemini_proxy_requests_total" not in body


def test_the_metrics_server_in_the_config_serves_them(gateway, tmp_path):
    """The commented metrics server, uncommented on a loopback port."""
    from tests.support.processes import free_port
    port = free_port()
    shipped = (ROOT / "deploy" / "nginx.conf").read_text()
    block = shipped[shipped.index("# server {"):]
    uncommented = "\n".join(line.removeprefix("# ") for line in block.splitlines())
    enabled = uncommented.replace("10.0.0.5:9180", f"127.0.0.1:{port}")
    requests.get(f"{gateway.url}/v1/models", timeout=30)  # something to count
    with running_nginx(gateway.url.removeprefix("http://"), tmp_path, **{block: enabled}):
        assert "gemini_proxy_requests_total" in requests.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
        assert requests.get(f"http://127.0.0.1:{port}/v1/models", timeout=30).status_code == 404
