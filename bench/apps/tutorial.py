"""The tutorial's design, reimplemented minimally: ask Gemini for the whole answer, then
"stream" it word by word with a 10 ms sleep between words.

Served by gunicorn with the gateway's own gunicorn.conf.py; the upstream is GEMINI_BASE_URL
(the benchmark's emulator).
"""
from __future__ import annotations

import json
import os
import time

from flask import Flask, Response, request
from google import genai
from google.genai import types

app = Flask(__name__)
client = genai.Client(api_key="bench", http_options=types.HttpOptions(base_url=os.environ["GEMINI_BASE_URL"]))


def chunk(created: int, model: str, delta: dict, finish_reason: str | None = None) -> str:
    return "data: " + json.dumps({
        "id": "chatcmpl-tutorial", "object": "chat.completion.chunk", "created": created, "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}) + "\n\n"


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.post("/v1/chat/completions")
def chat_completions():
    body = request.get_json(force=True)
    model = body.get("model", "gemini-2.5-flash")
    prompt = "\n".join(message["content"] for message in body["messages"])
    answer = client.models.generate_content(model=model, contents=prompt).text or ""
    created = int(time.time())
    if not body.get("stream"):
        return {"id": "chatcmpl-tutorial", "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer},
                             "finish_reason": "stop"}]}

    def words():
        for word in answer.split(" "):
            yield chunk(created, model, {"content": word + " "})
            time.sleep(0.01)
        yield chunk(created, model, {}, "stop")
        yield "data: [DONE]\n\n"

    return Response(words(), mimetype="text/event-stream")
