"""Production behaviour against real gunicorn (two workers) with the shipped gunicorn.conf.py:
client keys, rate limits in memory and in Redis, health, metrics, JSON logs, SIGTERM."""
import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
import requests

from tests.support.processes import free_port, start_gunicorn, start_redis

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-flash"
CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def server(emulator_process, request):
    servers = []

    def start(**env):
        servers.append(start_gunicorn(GEMINI_BASE_URL=emulator_process, UPSTREAM_RETRIES="0", **env))
        return servers[-1]

    yield start
    for started in servers:
        started.stop()


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def test_client_keys(server, tmp_path):
    keys_file = tmp_path / "keys"
    keys_file.write_text("# team keys\nsk-file-key  team-file\n")
    gateway = server(GATEWAY_API_KEYS="sk-env-key team-env", GATEWAY_API_KEYS_FILE=str(keys_file))
    url = f"{gateway.url}/v1/chat/completions"
    for headers in (bearer("sk-env-key"), bearer("sk-file-key"), {"api-key": "sk-env-key"},
                    {"x-api-key": "sk-file-key"}):
        assert requests.post(url, json=CHAT, headers=headers, timeout=30).status_code == 200, headers
    for headers in ({}, bearer("sk-wrong"), {"Authorization": "Basic sk-env-key"}):
        response = requests.post(url, json=CHAT, headers=headers, timeout=30)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"
        assert "sk-wrong" not in response.text
    assert requests.get(f"{gateway.url}/healthz", timeout=30).status_code == 200  # operations stay open
    with (openai.OpenAI(base_url=f"{gateway.url}/v1", api_key="sk-wrong", max_retries=0) as client,
          pytest.raises(openai.AuthenticationError)):
        client.models.list()
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key="sk-env-key", max_retries=0) as client:
        assert client.chat.completions.create(**CHAT).choices[0].message.content


def _statuses(url, count, headers=None):
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: requests.post(url, json=CHAT, headers=headers or {}, timeout=30), range(count)))


def test_requests_per_minute_in_memory(server):
    gateway = server(WEB_CONCURRENCY="1", RATE_LIMIT_RPM="5")
    responses = _statuses(f"{gateway.url}/v1/chat/completions", 8)
    assert sorted(r.status_code for r in responses) == [200] * 5 + [429] * 3
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert int(refused.headers["Retry-After"]) >= 1
    ok = next(r for r in responses if r.status_code == 200)
    assert ok.headers["x-ratelimit-limit-requests"] == "5"
    assert int(ok.headers["x-ratelimit-remaining-requests"]) < 5
    assert ok.headers["x-ratelimit-reset-requests"].endswith("s")


def test_two_workers_share_one_budget_in_redis(server, redis_url):
    gateway = server(WEB_CONCURRENCY="2", RATE_LIMIT_RPM="6", REDIS_URL=redis_url,
                     GATEWAY_API_KEYS="sk-a team-a, sk-b team-b rpm=2")
    statuses = sorted(r.status_code for r in _statuses(f"{gateway.url}/v1/chat/completions", 12, bearer("sk-a")))
    assert statuses == [200] * 6 + [429] * 6
    team_b = sorted(r.status_code for r in _statuses(f"{gateway.url}/v1/chat/completions", 4, bearer("sk-b")))
    assert team_b == [200] * 2 + [429] * 2


def test_tokens_per_minute(server, redis_url):
    gateway = server(RATE_LIMIT_TPM="60", REDIS_URL=redis_url, GATEWAY_API_KEYS="sk-t team-tokens")
    url, spent = f"{gateway.url}/v1/chat/completions", []
    for _ in range(10):
        response = requests.post(url, json=CHAT, headers=bearer("sk-t"), timeout=30)
        if response.status_code == 429:
            break
        spent.append(response.json()["usage"]["total_tokens"])
        assert response.headers["x-ratelimit-limit-tokens"] == "60"
    assert response.status_code == 429
    assert response.json()["error"]["type"] == "tokens"
    assert sum(spent) >= 60
    assert sum(spent[:-1]) < 60


def test_pass_through_keys_reach_gemini(tmp_path):
    from gemini_emulator.process import start_process, stop_process
    from tests.support.processes import free_port
    port = free_port()
    emulator = start_process(port, extra_args=("--api-key", "gemini-key-of-the-client"))
    gateway = start_gunicorn(GEMINI_BASE_URL=f"http://127.0.0.1:{port}", GATEWAY_PASS_THROUGH_KEYS="true")
    try:
        url = f"{gateway.url}/v1/chat/completions"
        assert requests.post(url, json=CHAT, headers=bearer("gemini-key-of-the-client"), timeout=30).status_code == 200
        wrong = requests.post(url, json=CHAT, headers=bearer("someone-elses"), timeout=30)
        assert wrong.status_code == 401
        assert "someone-elses" not in wrong.text
    finally:
        gateway.stop()
        stop_process(emulator)


def test_health_and_readiness(server):
    gateway = server()
    assert requests.get(f"{gateway.url}/healthz", timeout=30).json() == {"status": "ok"}
    ready = requests.get(f"{gateway.url}/readyz", timeout=30)
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    down = start_gunicorn(GEMINI_BASE_URL="http://127.0.0.1:9", UPSTREAM_RETRIES="0")
    try:
        response = requests.get(f"{down.url}/readyz", timeout=30)
        assert response.status_code == 503
        assert "502" in response.json()["reason"]
    finally:
        down.stop()


def _metric(text, name, **labels):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_add_up_every_worker(server):
    gateway = server(WEB_CONCURRENCY="2")
    url = f"{gateway.url}/v1/chat/completions"
    _statuses(url, 10)
    for _ in range(2):
        assert requests.post(url, json={**CHAT, "stream": True}, timeout=30).status_code == 200
    requests.post(url, json={**CHAT, "messages": [{"role": "user", "content": "[emulator fault=503]"}]}, timeout=30)
    # A request's duration is recorded once its answer has been sent: the scrape may come first.
    deadline = time.monotonic() + 5
    while True:
        text = requests.get(f"{gateway.url}/metrics", timeout=30).text
        timed = _metric(text, "gemini_proxy_request_duration_seconds_count", route="/v1/chat/completions")
        if timed >= 13 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert _metric(text, "gemini_proxy_requests_total", route="/v1/chat/completions", status="200", model=MODEL) == 12
    assert _metric(text, "gemini_proxy_upstream_errors_total", status="UNAVAILABLE") == 1
    assert _metric(text, "gemini_proxy_time_to_first_token_seconds_count", model=MODEL) == 2
    assert _metric(text, "gemini_proxy_tokens_total", kind="completion", model=MODEL) > 0
    assert _metric(text, "gemini_proxy_streams_in_flight") == 0
    assert _metric(text, "gemini_proxy_request_duration_seconds_count", route="/v1/chat/completions") == 13


def test_logs_are_json_lines_with_request_ids_and_never_keys(emulator_process, tmp_path):
    log = tmp_path / "gunicorn.log"
    with log.open("w") as sink:
        gateway = start_gunicorn(GEMINI_BASE_URL=emulator_process, GATEWAY_API_KEYS="sk-secret-key team-log",
                                 stderr=sink)
        requests.post(f"{gateway.url}/v1/chat/completions", json=CHAT,
                      headers={**bearer("sk-secret-key"), "X-Request-ID": "rid-1"}, timeout=30)
        requests.post(f"{gateway.url}/v1/chat/completions", json=CHAT, headers=bearer("sk-nope"), timeout=30)
        gateway.stop()
    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    (ok,) = [line for line in lines if line.get("request_id") == "rid-1"]
    assert (ok["status"], ok["key"], ok["model"]) == (200, "team-log", MODEL)
    assert (ok["method"], ok["path"]) == ("POST", "/v1/chat/completions")
    assert ok["prompt_tokens"] > 0
    assert ok["duration_ms"] > 0
    assert any(line.get("status") == 401 for line in lines)
    assert "sk-secret-key" not in text
    assert "sk-nope" not in text
    assert "hi" not in [line.get("message") for line in lines]
    assert not any("request_body" in line for line in lines)
    assert not any(line["logger"] == "gunicorn.access" for line in lines), "gunicorn's access log is off by default"


def test_access_log_lines_when_asked_for(emulator_process, tmp_path):
    log = tmp_path / "gunicorn.log"
    with log.open("w") as sink:
        gateway = start_gunicorn(GEMINI_BASE_URL=emulator_process, ACCESS_LOG="-", stderr=sink)
        requests.post(f"{gateway.url}/v1/chat/completions", json=CHAT, headers={"X-Request-ID": "rid-access"},
                      timeout=30)
        gateway.stop()
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    (access,) = [line for line in lines if line["logger"] == "gunicorn.access" and "rid-access" in line["message"]]
    assert '"POST /v1/chat/completions HTTP/1.1" 200' in access["message"]


def test_access_log_never_shows_a_key_put_in_the_url(emulator_process, tmp_path):
    log = tmp_path / "gunicorn.log"
    with log.open("w") as sink:
        gateway = start_gunicorn(GEMINI_BASE_URL=emulator_process, ACCESS_LOG="-", stderr=sink,
                                 ACCESS_LOG_FORMAT='%(r)s %(q)s %({authorization}i)s %({raw_uri}e)s')
        for query in ("key=AIza-in-url", "api_key=sk-in-url&x=1"):
            requests.get(f"{gateway.url}/v1/models?{query}", headers=bearer("sk-in-header"), timeout=30)
        gateway.stop()
    text = log.read_text()
    assert "/v1/models?key=[REDACTED]" in text
    assert "api_key=[REDACTED]&x=1" in text
    assert not any(secret in text for secret in ("AIza-in-url", "sk-in-url", "sk-in-header"))


def test_sigterm_finishes_streams_and_refuses_new_connections(server):
    gateway = server()
    body = {**CHAT, "stream": True, "messages": [{"role": "user", "content": "[emulator tps=40 tokens=80]"}]}
    with requests.post(f"{gateway.url}/v1/chat/completions", json=body, stream=True, timeout=30) as response:
        lines = response.iter_lines()
        assert next(lines).startswith(b"data: ")
        gateway.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{gateway.url}/healthz", timeout=5)
        rest = [line for line in lines if line]
    assert rest[-1] == b"data: [DONE]"
    assert gateway.process.wait(30) == 0


@pytest.mark.parametrize("mode", ["open", "closed"])
def test_redis_outage_is_a_setting_logged_once_and_counted(emulator_process, tmp_path, mode):
    """A real redis-server stopped in the middle of traffic, then started again."""
    port = free_port()
    redis = start_redis(port, tmp_path)
    log = tmp_path / "gunicorn.log"
    try:
        with log.open("w") as sink:
            gateway = start_gunicorn(GEMINI_BASE_URL=emulator_process, WEB_CONCURRENCY="1", RATE_LIMIT_RPM="1000",
                                     REDIS_URL=f"redis://127.0.0.1:{port}/0", RATE_LIMIT_FAILURE_MODE=mode, stderr=sink)
            try:
                url = f"{gateway.url}/v1/models"
                assert requests.get(url, timeout=30).headers["x-ratelimit-limit-requests"] == "1000"
                redis.terminate()
                redis.wait(10)
                during = []
                for _ in range(6):
                    asked = time.monotonic()
                    during.append(requests.get(url, timeout=30))
                    assert time.monotonic() - asked < 1.5  # no request waits on the dead Redis for long
                redis = start_redis(port, tmp_path)
                time.sleep(1.2)  # Redis is tried again once a second
                after = requests.get(url, timeout=30)
                metrics = requests.get(f"{gateway.url}/metrics", timeout=30).text
            finally:
                gateway.stop()
    finally:
        redis.terminate()
        redis.wait(10)
    if mode == "open":
        assert [r.status_code for r in during] == [200] * 6
        assert not any("x-ratelimit-limit-requests" in r.headers for r in during)
    else:
        assert [r.status_code for r in during] == [503] * 6
        assert during[0].json()["error"]["code"] == "rate_limit_unavailable"
        assert during[0].headers["Retry-After"] == "1"
    assert after.status_code == 200
    assert after.headers["x-ratelimit-limit-requests"] == "1000"
    action = "admitted" if mode == "open" else "refused"
    assert _metric(metrics, "gemini_proxy_rate_limit_unavailable_total", action=action) == 6
    messages = [json.loads(line)["message"] for line in log.read_text().splitlines() if line.startswith("{")]
    assert len([m for m in messages if m.startswith("rate limit storage unavailable")]) == 1
    assert len([m for m in messages if m.startswith("rate limit storage is back")]) == 1
