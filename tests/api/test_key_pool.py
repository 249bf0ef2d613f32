"""A pool of Gemini keys (GEMINI_API_KEYS) through the Flask app, against the real emulator over
HTTP: calls spread over the keys (counted by the emulator per key), a key rate-limited (for one
model) or refused by the emulator's scoped faults is put aside while the clients see answers, the
pool's own answer when no key is left for a model, a model fallback past a model rate-limited on
every key, pass-through clients bypass the pool, Redis shares cooldowns, and no key is ever shown."""
import hashlib
import json
import logging
import uuid
from contextlib import contextmanager

import pytest
import redis
import requests

from gemini_emulator import EmulatorConfig, EmulatorServer
from gemini_proxy.app import create_app
from gemini_proxy.config_parsing import parse_fallbacks
from gemini_proxy.web.hooks import ANSWERED_BY_HEADER
from tests.support import gateway_settings, sse_events
from tests.support.processes import free_port

PRO, FLASH = "gemini-2.5-pro", "gemini-2.5-flash"


def ask(text="Hello", stream=False, model=FLASH) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": text}], "stream": stream}


def new_keys(n: int = 2) -> list[str]:
    """Keys no other test uses (the session's emulator counts calls per key)."""
    run = uuid.uuid4().hex[:12]
    return [f"pool-{run}-secret-{i}" for i in range(1, n + 1)]


def by_key(emulator) -> dict[str, int]:
    return requests.get(f"{emulator.url}/emulator/stats", timeout=5).json()["requests_by_key"]


def metric(client, line_start: str) -> float | None:
    for line in client.get("/metrics").get_data(as_text=True).splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def post(client, text="Hello", stream=False, model=FLASH):
    response = client.post("/v1/chat/completions", json=ask(text, stream, model))
    response.get_data()  # a stream is read to its end (and closed) here
    return response


@contextmanager
def app_log():
    """Every record of the gateway's loggers (they do not propagate to the root, see logs.py)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler, logger = Keep(level=logging.DEBUG), logging.getLogger("gemini_proxy")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def test_calls_spread_over_the_keys_by_weight(client_with, emulator):
    k1, k2 = new_keys()
    client = client_with(gemini_api_keys=f"{k1} one, {k2} two weight=2")
    assert all(post(client).status_code == 200 for _ in range(6))
    assert {key: by_key(emulator).get(key) for key in (k1, k2)} == {k1: 2, k2: 4}
    assert metric(client, 'gemini_proxy_upstream_key_requests_total{key="one"}') == 2
    assert metric(client, 'gemini_proxy_upstream_key_requests_total{key="two"}') == 4
    assert client.get("/readyz").json["keys"] == {"usable": 2, "total": 2}


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_a_rate_limited_key_cools_down_and_its_call_moves_to_another(client_with, emulator, stream):
    k1, k2 = new_keys()
    client = client_with(gemini_api_keys=f"{k1} one, {k2} two")
    fault = f"[emulator fault=429 retry=30 apikey={k1}] Hello"
    first = post(client, fault, stream)  # a fresh pool's first call takes the first key
    assert first.status_code == 200
    if stream:
        events = sse_events(first.get_data())
        assert events[-1] == "[DONE]"
        assert not any('"error"' in event for event in events)
    assert (by_key(emulator)[k1], by_key(emulator)[k2]) == (1, 1)  # k1 refused it, k2 answered
    assert [post(client, fault, stream).status_code for _ in range(4)] == [200] * 4
    assert (by_key(emulator)[k1], by_key(emulator)[k2]) == (1, 5)  # k1 cooling for flash: left alone
    assert [post(client, stream=stream, model=PRO).status_code for _ in range(2)] == [200] * 2
    assert by_key(emulator)[k1] == 2  # ... but not for pro: Gemini's quotas are per model
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json["keys"]) == (200, {"usable": 2, "total": 2})  # none disabled
    assert metric(client, 'gemini_proxy_upstream_key_rate_limited_total{key="one"}') == 1
    assert metric(client, 'gemini_proxy_upstream_key_usable{key="one"}') == 1
    assert metric(client, 'gemini_proxy_upstream_key_usable{key="two"}') == 1


def test_a_refused_key_is_disabled_reported_and_the_others_keep_answering(client_with):
    k1, k2, k3 = new_keys(3)
    # This emulator accepts k1 and k2 only: k3 gets Gemini's 400 API_KEY_INVALID.
    with EmulatorServer(EmulatorConfig(api_keys=(k1, k2)), host="127.0.0.1", port=0) as strict, app_log() as records:
        app = create_app(gateway_settings(strict, gemini_api_keys=f"{k1} a, {k2} b, {k3} c"))
        try:
            client = app.test_client()
            assert [post(client, stream=n % 2 == 1).status_code for n in range(6)] == [200] * 6
            assert set(by_key(strict)) == {k1, k2}
            ready = client.get("/readyz")
            assert (ready.status_code, ready.json["keys"]) == (200, {"usable": 2, "total": 3})
            assert metric(client, 'gemini_proxy_upstream_key_usable{key="c"}') == 0
        finally:
            app.extensions["gemini_proxy"].upstream.close()
    refused = [r.getMessage() for r in records if r.getMessage().startswith("Gemini refused upstream key")]
    assert refused == ["Gemini refused upstream key c (401 INVALID_ARGUMENT): left out for 600 s, calls go to the "
                       "other keys"]


def test_when_every_key_is_cooling_for_a_model_its_clients_get_429_with_the_soonest_retry_after(client_with,
                                                                                                 emulator):
    k1, k2 = new_keys()
    client = client_with(gemini_api_keys=f"{k1} one, {k2} two")
    both = post(client, "[emulator fault=429 retry=30] Hello")  # every key rate-limited
    assert (both.status_code, both.json["error"]["code"], both.json["error"]["type"]) == (
        429, "rate_limit_exceeded", "rate_limit_error")
    assert 29 <= int(both.headers["Retry-After"]) <= 30
    calls = (by_key(emulator)[k1], by_key(emulator)[k2])
    later = post(client)
    assert (later.status_code, later.json["error"]["code"]) == (429, "rate_limit_exceeded")
    assert 1 <= int(later.headers["Retry-After"]) <= 30
    assert (by_key(emulator)[k1], by_key(emulator)[k2]) == calls == (1, 1)  # the pool answered: Gemini not asked
    assert post(client, model=PRO).status_code == 200  # another model's quota
    ready = client.get("/readyz")  # a model lookup: cooldowns are for generations
    assert (ready.status_code, ready.json["keys"]) == (200, {"usable": 2, "total": 2})


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_a_model_rate_limited_on_every_key_falls_back_and_leaves_the_other_model_to_gemini(client_with, emulator,
                                                                                           stream):
    k1, k2 = new_keys()
    client = client_with(gemini_api_keys=f"{k1} one, {k2} two", model_fallbacks=parse_fallbacks(f"{PRO}>{FLASH}"))

    def calls() -> int:
        return by_key(emulator).get(k1, 0) + by_key(emulator).get(k2, 0)
    fell_back = post(client, f"[emulator fault=429 retry=30 model={PRO}] Hello", stream, model=PRO)
    assert (fell_back.status_code, fell_back.headers[ANSWERED_BY_HEADER]) == (200, FLASH)
    assert (by_key(emulator)[k1], by_key(emulator)[k2]) in {(2, 1), (1, 2)}  # pro on each key, then flash
    direct = post(client, stream=stream)  # flash: no pool 429, Gemini answers
    assert (direct.status_code, direct.headers[ANSWERED_BY_HEADER]) == (200, FLASH)
    assert calls() == 4
    again = post(client, stream=stream, model=PRO)  # pro cooling on both keys: the pool answers it, flash is asked
    assert (again.status_code, again.headers[ANSWERED_BY_HEADER]) == (200, FLASH)
    assert calls() == 5
    assert client.get("/readyz").json["keys"] == {"usable": 2, "total": 2}


def test_when_every_key_is_refused_the_client_gets_503(client_with):
    k1, k2 = new_keys()
    with EmulatorServer(EmulatorConfig(api_keys=("another-accepted-key",)), host="127.0.0.1", port=0) as strict:
        app = create_app(gateway_settings(strict, gemini_api_keys=f"{k1}, {k2}", key_cooldown_seconds=2))
        try:
            client = app.test_client()
            for answer in (post(client), post(client, stream=True)):
                assert (answer.status_code, answer.json["error"]["code"], answer.json["error"]["type"],
                        answer.headers["Retry-After"]) == (503, "upstream_keys_unavailable",
                                                            "service_unavailable_error", "20")
            assert requests.get(f"{strict.url}/emulator/stats", timeout=5).json()["requests"] == 2  # once per key
        finally:
            app.extensions["gemini_proxy"].upstream.close()


def test_pass_through_clients_bypass_the_pool(client_with, emulator):
    k1, k2 = new_keys()
    client_key = f"client-own-{uuid.uuid4().hex}"
    client = client_with(gemini_api_keys=f"{k1} one, {k2} two", pass_through_keys=True)
    headers = {"Authorization": f"Bearer {client_key}"}
    ok = client.post("/v1/chat/completions", json=ask(), headers=headers)
    limited = client.post("/v1/chat/completions", json=ask(f"[emulator fault=429 apikey={client_key}] Hello"),
                          headers=headers)
    assert ok.status_code == 200
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "7")  # Gemini's own, no other key tried
    assert (by_key(emulator)[client_key], by_key(emulator).get(k1), by_key(emulator).get(k2)) == (2, None, None)
    assert metric(client, 'gemini_proxy_upstream_key_requests_total{key="one"}') == 0
    assert client.get("/readyz").json["keys"] == {"usable": 2, "total": 2}


def test_two_gateways_share_a_cooldown_per_model_through_redis(client_with, emulator, redis_url):
    k1, k2 = new_keys()
    first = client_with(gemini_api_keys=f"{k1} one, {k2} two", redis_url=redis_url)
    assert post(first, f"[emulator fault=429 retry=30 apikey={k1}] Hello").status_code == 200
    entry = f"gemini-proxy:upstream-key:{hashlib.sha256(k1.encode()).hexdigest()}:cooldowns"
    with redis.Redis.from_url(redis_url) as shared:
        (seconds, microseconds), cooldowns = shared.time(), shared.hgetall(entry)
        assert list(cooldowns) == [FLASH.encode()]
        assert 25_000 < int(cooldowns[FLASH.encode()]) - (seconds * 1000 + microseconds // 1000) <= 30_000
        assert 25_000 < shared.pttl(entry) <= 30_000  # the hash ends with its latest cooldown
        assert not [name for name in shared.keys("gemini-proxy:upstream-key:*") if b"pool-" in name]
    second = client_with(gemini_api_keys=f"{k1} first-key, {k2} second-key", redis_url=redis_url)  # names may differ
    before = by_key(emulator)[k1]
    assert [post(second).status_code for _ in range(4)] == [200] * 4
    assert by_key(emulator)[k1] == before  # the second gateway knew k1 was cooling for flash without asking Gemini
    assert [post(second, model=PRO).status_code for _ in range(4)] == [200] * 4
    assert by_key(emulator)[k1] == before + 2  # not for pro: the keys took pro's calls in turn
    assert second.get("/readyz").json["keys"] == {"usable": 2, "total": 2}


def test_an_unreachable_redis_fails_no_call_and_is_logged_once(client_with, emulator):
    k1, k2 = new_keys()
    with app_log() as records:
        client = client_with(gemini_api_keys=f"{k1}, {k2}", redis_url=f"redis://127.0.0.1:{free_port()}/0")
        answers = [post(client, f"[emulator fault=429 apikey={k1}] Hello", stream=n % 2 == 1) for n in range(4)]
        ready = client.get("/readyz")
    assert [answer.status_code for answer in answers] == [200] * 4
    assert by_key(emulator)[k1] == 1  # cooled down locally all the same
    assert ready.json["keys"] == {"usable": 2, "total": 2}
    assert len([r for r in records if "Redis unavailable" in r.getMessage()]) == 1


def test_no_key_shows_in_logs_metrics_or_error_bodies(client_with, emulator):
    k1, k2 = new_keys()
    shown = []
    with app_log() as records:
        client = client_with(gemini_api_keys=f"{k1} one, {k2} two", log_level="debug")
        for text in (f"[emulator fault=429 apikey={k1}] Hello", "[emulator fault=echokey] Hello",
                     f"[emulator fault=403 apikey={k2}] Hello", "[emulator fault=429] Hello", "Hello"):
            for stream in (False, True):
                shown.append(post(client, text, stream).get_data(as_text=True))
        shown += [client.get("/metrics").get_data(as_text=True), json.dumps(client.get("/readyz").json)]
    assert any("rate_limit_exceeded" in body for body in shown)  # the scenarios did fail where meant to
    assert any('"invalid_request"' in body for body in shown)
    logged = [r.getMessage() + json.dumps(getattr(r, "fields", {}), default=str) for r in records]
    assert any("upstream key one" in line for line in logged)
    leaks = [text for text in shown + logged if k1 in text or k2 in text or "secret-" in text]
    assert leaks == []
