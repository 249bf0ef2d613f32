"""Operations through the Flask app: readiness, metrics, request logs, CORS."""
import json
import logging

import requests

from gemini_proxy.app import create_app
from gemini_proxy.config import Settings
from tests.support import gateway_settings

CHAT = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "a secret prompt"}]}


def test_readiness_is_cached(emulator):
    app = create_app(gateway_settings(emulator, ready_cache_seconds=60)).test_client()
    before = requests.get(f"{emulator.url}/emulator/stats", timeout=5).json()["requests"]
    assert [app.get("/readyz").status_code for _ in range(3)] == [200, 200, 200]
    assert requests.get(f"{emulator.url}/emulator/stats", timeout=5).json()["requests"] - before == 1


def test_request_log_line(emulator, caplog):
    client = create_app(gateway_settings(emulator)).test_client()
    logging.getLogger("gemini_proxy").addHandler(caplog.handler)
    try:
        client.post("/v1/chat/completions", json=CHAT, headers={"X-Request-ID": "rid-9"}).close()
    finally:
        logging.getLogger("gemini_proxy").removeHandler(caplog.handler)
    (line,) = [r.fields for r in caplog.records if getattr(r, "fields", {}).get("request_id") == "rid-9"]
    assert line["status"] == 200
    assert line["model"] == "gemini-2.5-flash"
    assert line["completion_tokens"] > 0
    assert "request_body" not in line
    assert "secret" not in json.dumps(line)


def test_prompts_are_logged_only_when_asked(emulator, caplog):
    client = create_app(gateway_settings(emulator, log_prompts=True)).test_client()
    logging.getLogger("gemini_proxy").addHandler(caplog.handler)
    try:
        client.post("/v1/chat/completions", json=CHAT).close()
    finally:
        logging.getLogger("gemini_proxy").removeHandler(caplog.handler)
    assert any("a secret prompt" in json.dumps(getattr(r, "fields", {})) for r in caplog.records)


def _start_warnings(caplog, **settings) -> list[str]:
    logging.getLogger("gemini_proxy").addHandler(caplog.handler)
    try:
        create_app(Settings(gemini_base_url="http://127.0.0.1:9", signature_db="", **settings))
    finally:
        logging.getLogger("gemini_proxy").removeHandler(caplog.handler)
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_rate_limits_in_memory_warn_that_each_worker_counts_its_own(caplog):
    assert any("per worker process" in w for w in _start_warnings(caplog, rate_limit_rpm=60))
    caplog.clear()
    assert any("per worker process" in w for w in _start_warnings(caplog, gateway_api_keys="sk-a team tpm=1000"))
    caplog.clear()
    assert not any("per worker process" in w for w in _start_warnings(caplog, rate_limit_rpm=60, redis_url="redis://127.0.0.1:9/0"))
    caplog.clear()
    assert not any("per worker process" in w for w in _start_warnings(caplog))


def test_metrics_in_one_process(emulator):
    client = create_app(gateway_settings(emulator)).test_client()
    client.post("/v1/chat/completions", json=CHAT).close()
    text = client.get("/metrics").get_data(as_text=True)
    assert ('gemini_proxy_requests_total{key="anonymous",model="gemini-2.5-flash",route="/v1/chat/completions",'
            'status="200"} 1.0') in text


def test_a_whole_answers_tokens_are_charged_before_it_is_sent(emulator):
    """Charged when the response closed, they raced the client's next request (which could get
    in before them); the answer's own x-ratelimit-remaining-tokens now counts them."""
    client = create_app(gateway_settings(emulator, rate_limit_tpm=10_000)).test_client()
    response = client.post("/v1/chat/completions", json=CHAT)
    spent = response.json["usage"]["total_tokens"]
    assert int(response.headers["x-ratelimit-remaining-tokens"]) == 10_000 - spent
    response.close()
    again = client.post("/v1/chat/completions", json={**CHAT, "stream": True})
    assert int(again.headers["x-ratelimit-remaining-tokens"]) == 10_000 - spent  # a stream: charged at its end
    again.get_data()
    again.close()
    assert int(client.get("/v1/models").headers["x-ratelimit-remaining-tokens"]) < 10_000 - spent


def test_metrics_need_the_metrics_token_when_one_is_set(emulator):
    settings = gateway_settings(emulator, metrics_token="mt-secret", gateway_api_keys="sk-client team")
    client = create_app(settings).test_client()
    client.post("/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer sk-client"}).close()
    for headers in ({}, {"Authorization": "Bearer sk-client"}, {"Authorization": "Bearer mt-secre"}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.json["error"]["code"] == "invalid_api_key"
        assert "mt-secret" not in refused.get_data(as_text=True)
    text = client.get("/metrics", headers={"Authorization": "Bearer mt-secret"}).get_data(as_text=True)
    assert 'key="team"' in text
    assert "sk-client" not in text
    assert create_app(gateway_settings(emulator)).test_client().get("/metrics").status_code == 200


def test_cors_is_off_by_default_and_on_for_named_origins(emulator):
    closed = create_app(gateway_settings(emulator)).test_client()
    assert "Access-Control-Allow-Origin" not in closed.get("/v1/models", headers={"Origin": "https://app.example"}).headers
    open_ = create_app(gateway_settings(emulator, cors_origins="https://app.example",
                                        gateway_api_keys="sk-1")).test_client()
    preflight = open_.options("/v1/chat/completions", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
    other = open_.get("/v1/models", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_readiness_names_the_upstream_it_checked(emulator):
    port = emulator.url.rsplit(":", 1)[1]
    for settings, upstream in [(gateway_settings(emulator), f"127.0.0.1:{port}"),
                               (Settings(emulator_port=int(port), signature_db=""), "emulator")]:
        app = create_app(settings)
        answer = app.test_client().get("/readyz")
        assert (answer.status_code, answer.json["status"], answer.json["upstream"]) == (200, "ready", upstream)
        app.extensions["gemini_proxy"].upstream.close()
    down = create_app(Settings(gemini_api_key="k", gemini_base_url="http://127.0.0.1:9", upstream_retries=0,
                               signature_db=""))
    answer = down.test_client().get("/readyz")
    assert (answer.status_code, answer.json["upstream"]) == (503, "127.0.0.1:9")
    down.extensions["gemini_proxy"].upstream.close()
