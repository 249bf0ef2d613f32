"""CPU per Gemini call, by the way the call is made: `.venv/bin/python bench/upstream_cost.py`.

What one generateContent call (100-token answer) and one streamGenerateContent call
(200 tokens in 10 events) cost the calling process, measured in process (time.process_time
over N calls, after a warm-up) against the emulator at zero pace on 127.0.0.1:

- the google-genai SDK's typed methods (generate_content / generate_content_stream), what an
  application calling Gemini through the SDK pays;
- the gateway's Upstream on httpx2's default transport (httpcore2 + h11);
- the gateway's Upstream as shipped (upstream/pool.py's pool of http.client connections);
- a bare http.client request with json.loads, the floor of any Python client.

Prints a Markdown table (BENCHMARKS.md quotes it; bench/results/*-upstream-cost.md keeps a run).
"""
from __future__ import annotations

import http.client
import json
import sys
import tempfile
import time
from pathlib import Path

from google import genai
from google.genai import types

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import targets  # bench/, this script's folder, is on sys.path as it runs
from gemini_proxy.config import Settings
from gemini_proxy.upstream import client as upstream

MODEL = "gemini-2.5-flash"
CALLS = 1000


def per_call_ms(call, calls: int = CALLS) -> float:
    for _ in range(50):
        call()
    started = time.process_time()
    for _ in range(calls):
        call()
    return round(1000 * (time.process_time() - started) / calls, 3)


def prompt(tokens: int) -> str:
    return f"Tell me a story. [emulator tokens={tokens} thoughts=0]"


def main() -> None:
    emulator = targets.start_emulator(Path(tempfile.mkdtemp(prefix="upstream-cost-")), "emulator", 0.0, 0.0, 20)
    try:
        settings = Settings.from_env({"GEMINI_BASE_URL": emulator.url})
        contents = {tokens: [{"role": "user", "parts": [{"text": prompt(tokens)}]}] for tokens in (100, 200)}
        sdk = genai.Client(api_key="bench", http_options=types.HttpOptions(base_url=emulator.url, api_version="v1beta"))
        shipped = upstream.Upstream(settings)
        shipped_args, upstream.client_args = upstream.client_args, lambda *args: {}
        try:
            httpx_default = upstream.Upstream(settings)  # the SDK's own httpx2 client and transport
        finally:
            upstream.client_args = shipped_args
        host, port = emulator.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port))

        def raw(tokens: int, stream: bool) -> None:
            method = "streamGenerateContent?alt=sse" if stream else "generateContent"
            connection.request("POST", f"/v1beta/models/{MODEL}:{method}", json.dumps({"contents": contents[tokens]}),
                               {"Content-Type": "application/json", "x-goog-api-key": "bench"})
            response = connection.getresponse()
            if stream:
                for line in response:
                    if line.startswith(b"data: "):
                        json.loads(line[6:])
            else:
                json.loads(response.read())

        rows = [
            ("google-genai typed methods (an application calling Gemini directly)",
             lambda: sdk.models.generate_content(model=MODEL, contents=prompt(100)),
             lambda: list(sdk.models.generate_content_stream(model=MODEL, contents=prompt(200)))),
            ("gateway Upstream, httpx2's default transport",
             lambda: httpx_default.generate(MODEL, contents[100], {}),
             lambda: list(httpx_default.stream(MODEL, contents[200], {}))),
            ("gateway Upstream as shipped (pool.py's ConnectionPool)",
             lambda: shipped.generate(MODEL, contents[100], {}),
             lambda: list(shipped.stream(MODEL, contents[200], {}))),
            ("bare http.client + json.loads (floor)", lambda: raw(100, False), lambda: raw(200, True)),
        ]
        print("| Call made by | generateContent, 100 tokens (ms CPU) | streamGenerateContent, 10 events (ms CPU) |")
        print("|---|---|---|")
        for name, generate, stream in rows:
            print(f"| {name} | {per_call_ms(generate)} | {per_call_ms(stream, CALLS // 2)} |", flush=True)
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
