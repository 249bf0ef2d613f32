"""The bare stack: Flask under the same gunicorn settings, the floor the gateway is measured against.

Non-streamed, the ceiling of this stack: a request is read and its JSON parsed, nothing is called
upstream, and the answer has the size of the gateway's (100 tokens of text).

Streamed (`stream: true`), the thinnest relay this stack allows: one `http.client` connection to
GEMINI_BASE_URL (the benchmark's emulator) per stream, Gemini's SSE events read line by line, and
each event's text sent on at once as a minimal `chat.completion.chunk`, then `[DONE]`. No
validation, no SDK, no translation beyond the text: what a relay costs before it does anything.
"""
from __future__ import annotations

import http.client
import json
import os
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

from flask import Flask, Response, request

ANSWER = ("A number sends the signal together near friends beyond our ready garden quietly. " * 8).strip()
UPSTREAM = urlsplit(os.environ.get("GEMINI_BASE_URL", "http://127.0.0.1:8089"))

app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


def chunk(created: int, model: str, delta: dict, finish_reason: str | None = None) -> bytes:
    return b"data: " + json.dumps({
        "id": "chatcmpl-bare", "object": "chat.completion.chunk", "created": created, "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}).encode() + b"\n\n"


def relayed(prompt: str, model: str) -> Iterator[bytes]:
    """The emulator's stream of `prompt` as chat.completion.chunk events."""
    connection = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=60)
    try:
        connection.request("POST", f"/v1beta/models/{model}:streamGenerateContent?alt=sse",
                           json.dumps({"contents": [{"role": "user", "parts": [{"text": prompt}]}]}),
                           {"Content-Type": "application/json", "x-goog-api-key": "bench"})
        upstream = connection.getresponse()
        created = int(time.time())
        yield chunk(created, model, {"role": "assistant", "content": ""})
        for line in upstream:
            if line.startswith(b"data:"):
                candidate = json.loads(line[5:])["candidates"][0]
                text = "".join(part.get("text", "") for part in candidate.get("content", {}).get("parts", ()))
                yield chunk(created, model, {"content": text}, candidate.get("finishReason") and "stop")
        yield b"data: [DONE]\n\n"
    finally:
        connection.close()


@app.post("/v1/chat/completions")
def chat_completions():
    body = request.get_json(force=True)
    model = body.get("model", "gemini-2.5-flash")
    if body.get("stream"):
        return Response(relayed(body["messages"][-1]["content"], model), mimetype="text/event-stream")
    return {
        "id": "chatcmpl-bare", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER, "refusal": None},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 100, "total_tokens": 109},
    }
