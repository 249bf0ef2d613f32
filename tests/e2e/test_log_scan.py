"""With a known Gemini key and known client keys, real gunicorn at debug level with access lines
on is driven through successes, failures and tricks; no log line, metric or answer contains a key."""
import pytest
import requests

from tests.support.processes import start_gunicorn

pytestmark = pytest.mark.e2e

GEMINI_KEY = "AIzaSyLogScanGeminiKey0123456789abcdefg"
CLIENT_KEY = "sk-log-scan-client-key-7f3a"
FILE_KEY = "sk-log-scan-file-key-91c2"
UNNAMED_KEY = "sk-log-scan-unnamed-key-55d0"
WRONG_KEY = "sk-log-scan-wrong-key-0e1b"
SECRETS = (GEMINI_KEY, CLIENT_KEY, FILE_KEY, UNNAMED_KEY, WRONG_KEY)
MODEL = "gemini-2.5-flash"


def chat(text, **fields):
    return {"model": MODEL, "messages": [{"role": "user", "content": text}], **fields}


def drive(url: str, metrics_headers: dict) -> list[str]:
    """Every kind of request a client can make, well or badly; the answers' texts."""
    good = {"Authorization": f"Bearer {CLIENT_KEY}"}
    calls = [
        ("post", "/v1/chat/completions", chat("hi"), good),
        ("post", "/v1/chat/completions", chat("hi", stream=True), {"Authorization": f"Bearer {FILE_KEY}"}),
        ("post", "/v1/chat/completions", chat("hi"), {"api-key": UNNAMED_KEY}),
        ("post", "/v1/embeddings", {"input": "hi"}, good),
        ("post", "/v1/completions", {"model": MODEL, "prompt": "hi"}, good),
        ("get", "/v1/models", None, good),
        ("get", "/v1/models/no-such-model", None, good),
        ("post", "/v1/chat/completions", chat("hi"), {"Authorization": f"Bearer {WRONG_KEY}"}),
        ("post", "/v1/chat/completions", chat("hi"), {"x-api-key": WRONG_KEY}),
        ("post", f"/v1/chat/completions?key={CLIENT_KEY}", chat("hi"), {}),
        ("post", f"/v1/chat/completions?api_key={WRONG_KEY}&key={GEMINI_KEY}", chat("hi"), good),
        ("get", f"/healthz?key={GEMINI_KEY}", None, {}),
        ("post", "/v1/chat/completions", chat("[emulator fault=badkey]"), good),
        ("post", "/v1/chat/completions", chat("[emulator fault=429]"), good),
        ("post", "/v1/chat/completions", chat("[emulator fault=500]", stream=True), good),
        ("post", "/v1/chat/completions", chat("[emulator fault=midstream after=1]", stream=True), good),
        ("post", "/v1/chat/completions", {"messages": "not a list"}, good),
        ("post", "/v1/nowhere", {}, good),
        ("get", "/readyz", None, {}),
        ("get", "/metrics", None, metrics_headers),
    ]
    answers = []
    for method, path, body, headers in calls:
        response = requests.request(method, url + path, json=body, headers=headers, timeout=30)
        answers.append(f"{response.status_code} {dict(response.headers)} {response.text}")
    return answers


def test_no_key_in_logs_metrics_or_answers(emulator_process, tmp_path):
    keys_file = tmp_path / "keys"
    keys_file.write_text(f"{FILE_KEY} team-file\n{UNNAMED_KEY}\n")
    log = tmp_path / "gunicorn.log"
    with log.open("w") as sink:
        gateway = start_gunicorn(
            stderr=sink, GEMINI_BASE_URL=emulator_process, GEMINI_API_KEY=GEMINI_KEY, UPSTREAM_RETRIES="0",
            GATEWAY_API_KEYS=f"{CLIENT_KEY} team", GATEWAY_API_KEYS_FILE=str(keys_file), ACCESS_LOG="-",
            LOG_LEVEL="debug")
        try:
            answers = drive(gateway.url, {})
        finally:
            gateway.stop()
    text = log.read_text()
    assert "gunicorn.access" in text
    assert "team-file" in text
    for secret in SECRETS:
        assert secret not in text, f"a key is in the log: {secret}"
        leaked = [answer[:200] for answer in answers if secret in answer]
        assert not leaked, f"a key is in an answer: {leaked}"


def test_no_client_key_in_pass_through_logs(emulator_process, tmp_path):
    log = tmp_path / "gunicorn.log"
    with log.open("w") as sink:
        gateway = start_gunicorn(stderr=sink, GEMINI_BASE_URL=emulator_process, GATEWAY_PASS_THROUGH_KEYS="true",
                                 UPSTREAM_RETRIES="0", ACCESS_LOG="-", LOG_LEVEL="debug")
        try:
            good = {"Authorization": f"Bearer {GEMINI_KEY}"}
            answers = [requests.post(f"{gateway.url}/v1/chat/completions", json=body, headers=good, timeout=30).text
                       for body in (chat("hi"), chat("[emulator fault=badkey]"), chat("hi", stream=True))]
            answers.append(requests.get(f"{gateway.url}/metrics", timeout=30).text)
        finally:
            gateway.stop()
    text = log.read_text()
    assert "passthrough" in text
    assert GEMINI_KEY not in text
    assert not [answer for answer in answers if GEMINI_KEY in answer]
