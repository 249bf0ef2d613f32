"""The bare stack: Flask under the same gunicorn settings, answering a fixed chat.completion.

The ceiling of this stack: a request is read and its JSON parsed, nothing is called upstream,
and the answer has the size of the gateway's (100 tokens of text).
"""
from __future__ import annotations

import time

from flask import Flask, request

ANSWER = ("A number sends the signal together near friends beyond our ready garden quietly. " * 8).strip()

app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.post("/v1/chat/completions")
def chat_completions():
    body = request.get_json(force=True)
    return {
        "id": "chatcmpl-bare", "object": "chat.completion", "created": int(time.time()),
        "model": body.get("model", "gemini-2.5-flash"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER, "refusal": None},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 100, "total_tokens": 109},
    }
