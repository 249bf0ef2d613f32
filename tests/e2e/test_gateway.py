"""The gateway as users run it: gunicorn + gunicorn.conf.py, the emulator as its own process,
the official openai SDK as the client."""
import re
import signal
import time

import openai
import pytest
import requests

from gemini_emulator.process import start_process, stop_process
from tests.support import collect
from tests.support.processes import ROOT, free_port, start_gunicorn

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-flash"


def user(text):
    return [{"role": "user", "content": text}]


def readme_snippets() -> list[str]:
    """The README's client snippets, as a user would copy them."""
    readme = (ROOT / "README.md").read_text()
    return [block for block in re.findall(r"```python\n(.*?)```", readme, re.S) if "base_url=" in block]


@pytest.mark.parametrize("index", [0, 1], ids=["non-stream", "stream"])
def test_readme_tutorial_snippets_run_unchanged(gateway, index, tmp_path, capsys):
    snippet = readme_snippets()[index]
    assert 'base_url="http://localhost:8000"' in snippet
    assert '"gemini-1.5-flash"' in snippet
    # Only the port differs: the test gateway listens on a free one.
    code = snippet.replace("http://localhost:8000", gateway.url.replace("127.0.0.1", "localhost"))
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert len(printed.split()) >= 5


def test_sdk_create_and_raw_response(sdk):
    completion = sdk.chat.completions.create(model=MODEL, messages=user("Say hello"))
    assert completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    raw = sdk.chat.completions.with_raw_response.create(model=MODEL, messages=user("Say hello"))
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("application/json")
    assert raw.parse().choices[0].message.content == completion.choices[0].message.content


def test_sdk_stream_with_usage(sdk):
    chunks = list(sdk.chat.completions.create(model=MODEL, messages=user("Count"), stream=True,
                                              stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices == []
    assert chunks[-1].usage.total_tokens > 0
    assert [c.choices[0].finish_reason for c in chunks[:-1] if c.choices[0].finish_reason] == ["stop"]


def test_sdk_stream_helper_accumulates_the_answer(sdk):
    with sdk.chat.completions.stream(model=MODEL, messages=user("Say hello")) as stream:
        final = stream.get_final_completion()
    plain = sdk.chat.completions.create(model=MODEL, messages=user("Say hello"))
    assert final.choices[0].message.content == plain.choices[0].message.content


def test_streaming_is_real(sdk):
    """With a slow upstream the first words arrive long before the answer is complete."""
    started = time.monotonic()
    arrivals = []
    stream = sdk.chat.completions.create(model=MODEL, stream=True,
                                         messages=user("[emulator ttft=0.2 tps=20 tokens=60]"))
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.monotonic() - started)
    assert len(arrivals) >= 10
    assert arrivals[0] < 1.0, f"first content after {arrivals[0]:.2f}s"
    assert arrivals[-1] - arrivals[0] > 2.0, "content arrived all at once: the stream was buffered"


def test_client_disconnect_stops_generation():
    """On an emulator of its own: the tokens it counts are this stream's only (the session's
    emulator also serves what other tests leave running)."""
    port = free_port()
    emulator = start_process(port)
    gateway = start_gunicorn(GEMINI_BASE_URL=f"http://127.0.0.1:{port}", UPSTREAM_RETRIES="0")
    try:
        def stats() -> dict:
            return requests.get(f"http://127.0.0.1:{port}/emulator/stats", timeout=5).json()
        body = {"model": MODEL, "stream": True, "messages": user("[emulator tps=20 tokens=400]")}
        with requests.post(f"{gateway.url}/v1/chat/completions", json=body, stream=True, timeout=30) as response:
            lines = response.iter_lines()
            received = [next(lines) for _ in range(6)]
            assert any(b'"content"' in line for line in received)
        deadline = time.monotonic() + 10
        while stats()["streams_aborted"] == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        after = stats()
        assert after["streams_aborted"] == 1
        time.sleep(1.0)
        assert stats()["tokens_generated"] == after["tokens_generated"], "still generating"
        assert after["tokens_generated"] < 200
    finally:
        assert gateway.stop() == 0
        stop_process(emulator)


FAULT_EXCEPTIONS = {
    "400": openai.BadRequestError, "badkey": openai.AuthenticationError, "403": openai.PermissionDeniedError,
    "404": openai.NotFoundError, "429": openai.RateLimitError, "500": openai.InternalServerError,
    "503": openai.InternalServerError, "504": openai.InternalServerError,
}


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("fault", FAULT_EXCEPTIONS)
def test_sdk_raises_the_right_error_for_each_fault(sdk, fault, stream):
    with pytest.raises(FAULT_EXCEPTIONS[fault]) as caught:  # a status, before any chunk
        sdk.chat.completions.create(model=MODEL, messages=user(f"[emulator fault={fault}]"), stream=stream)
    assert caught.value.body["message"]
    assert caught.value.status_code in (400, 401, 403, 404, 429, 500, 503, 504)


@pytest.mark.parametrize("fault", ["midstream", "drop"])
def test_fault_mid_stream_reaches_the_sdk_after_content(sdk, fault):
    chunks = sdk.chat.completions.create(model=MODEL, stream=True,
                                         messages=user(f"[emulator fault={fault} after=2 tokens=40]"))
    received = []
    with pytest.raises(openai.APIError):
        collect(chunks, received)
    assert any(c.choices and c.choices[0].delta.content for c in received)


def test_models_through_the_sdk(sdk):
    ids = [m.id for m in sdk.models.list()]
    assert MODEL in ids
    assert "gpt-4o-mini" in ids
    assert sdk.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"
    with pytest.raises(openai.NotFoundError):
        sdk.models.retrieve("no-such-model")


def test_sigterm_lets_a_running_stream_finish(emulator_process):
    server = start_gunicorn(GEMINI_BASE_URL=emulator_process, UPSTREAM_RETRIES="0")
    body = {"model": MODEL, "stream": True, "messages": user("[emulator tps=40 tokens=80]")}
    with requests.post(f"{server.url}/v1/chat/completions", json=body, stream=True, timeout=30) as response:
        lines = response.iter_lines()
        assert next(lines).startswith(b"data: ")
        server.process.send_signal(signal.SIGTERM)
        rest = [line for line in lines if line]
    assert rest[-1] == b"data: [DONE]"
    assert server.stop() == 0


def test_plain_gunicorn_without_a_key_starts_the_emulator(tmp_path):
    emulator_port = free_port()
    server = start_gunicorn(EMULATOR_PORT=str(emulator_port), EMULATOR_TTFT="0", EMULATOR_TOKENS_PER_SECOND="0")
    try:
        answer = requests.post(f"{server.url}/v1/chat/completions", timeout=30,
                               json={"model": "gemini-1.5-flash", "messages": user("Say hello")})
        assert answer.status_code == 200
        assert answer.json()["choices"][0]["message"]["content"]
        assert requests.get(f"http://127.0.0.1:{emulator_port}/emulator/stats", timeout=5).ok
    finally:
        assert server.stop() == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{emulator_port}/emulator/stats", timeout=2)


def test_default_configuration_holds_256_concurrent_streams(emulator_process):
    """gunicorn.conf.py's defaults (4 workers x 512 threads) serve 256 streams at once."""
    from concurrent.futures import ThreadPoolExecutor
    server = start_gunicorn(GEMINI_BASE_URL=emulator_process, UPSTREAM_RETRIES="0",
                            WEB_CONCURRENCY=None, GUNICORN_THREADS=None)
    body = {"model": MODEL, "stream": True, "messages": user("[emulator ttft=8 tokens=8]")}

    def one_stream(_):
        with requests.post(f"{server.url}/v1/chat/completions", json=body, stream=True, timeout=60) as response:
            return [line for line in response.iter_lines() if line][-1]

    try:
        started = time.monotonic()
        with ThreadPoolExecutor(256) as pool:
            endings = list(pool.map(one_stream, range(256)))
        elapsed = time.monotonic() - started
    finally:
        assert server.stop() == 0
    assert endings == [b"data: [DONE]"] * 256
    # Each stream waits 8 s upstream: with too few threads on a worker some would wait for a
    # free thread and the whole batch would take two rounds (16 s or more). The margin is for
    # starting 256 client threads on a busy 2-CPU machine.
    assert elapsed < 14, f"256 streams took {elapsed:.1f}s"
