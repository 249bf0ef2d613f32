"""Embeddings: an OpenAI request -> Gemini batches and config; Gemini embeddings -> OpenAI's list."""
from __future__ import annotations

import base64
import math
import struct
from collections.abc import Iterator

from gemini_proxy.errors import upstream_bad_response

# OpenAI-side option (top level or Google's options) -> EmbedContentConfig field.
GOOGLE_OPTIONS = {"task_type": "task_type", "title": "title"}


def batches(texts: list[str], size: int) -> Iterator[list[str]]:
    """The texts in order, cut into upstream calls of at most `size` (Gemini's per-call limit)."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, not {size}")
    for start in range(0, len(texts), size):
        yield texts[start:start + size]


def embed_config(request: dict) -> dict:
    google = request.get("google") or {}
    config = {}
    for option, field in GOOGLE_OPTIONS.items():
        value = request[option] if request.get(option) is not None else google.get(option)
        if value is not None:
            config[field] = value
    if request.get("dimensions") is not None:
        config["output_dimensionality"] = request["dimensions"]
    return config


def vectors_from(responses: list[dict], expected: int) -> list[list[float]]:
    """The vectors of every upstream batch, in input order."""
    vectors = [embedding.get("values") or []
               for response in responses for embedding in response.get("embeddings") or ()]
    if len(vectors) != expected or not all(vectors):
        raise upstream_bad_response()
    return vectors


def prompt_tokens_from(responses: list[dict]) -> int | None:
    """Token counts when Gemini reported them for every text (Vertex does, AI Studio does not)."""
    counts = [(embedding.get("statistics") or {}).get("token_count")
              for response in responses for embedding in response.get("embeddings") or ()]
    if not counts or any(count is None for count in counts):
        return None
    return int(sum(counts))


def normalised(vector: list[float]) -> list[float]:
    """The vector scaled to unit length. Gemini normalises only full-size vectors; a
    truncated one (output_dimensionality) is re-normalised so cosine = dot product holds."""
    norm = math.sqrt(math.fsum(value * value for value in vector))
    return [value / norm for value in vector] if norm else list(vector)


def base64_from(vector: list[float]) -> str:
    """Little-endian float32, base64-encoded: what OpenAI sends for encoding_format=base64."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def floats_from_base64(text: str) -> list[float]:
    raw = base64.b64decode(text)
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


ENCODERS = {"float": list, "base64": base64_from}


def embedding_list(vectors: list[list[float]], model: str, encoding_format: str | None, renormalise: bool,
                   prompt_tokens: int) -> dict:
    """OpenAI's CreateEmbeddingResponse; `model` is the name the client asked for."""
    encode = ENCODERS[encoding_format or "float"]
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": index, "embedding": encode(normalised(v) if renormalise else v)}
                 for index, v in enumerate(vectors)],
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }
