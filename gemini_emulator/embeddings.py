"""Deterministic embeddings from hashed text features.

Features are lower-cased words, word bigrams and character trigrams of words; each is hashed to
a sign and to one dimension at each of several scales (the first 8, 64, 512 dimensions and the
whole vector). Texts sharing words therefore point the same way, and, like Gemini's
Matryoshka-style embeddings, a truncated vector (outputDimensionality) keeps most of the
signal. Vectors are L2-normalised after truncation.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from typing import Any

from gemini_emulator.catalog import Model
from gemini_emulator.errors import invalid_argument

_WORD = re.compile(r"\w+")
_SCALES = (8, 64, 512)
# Weights of the feature kinds: whole words carry most of the meaning.
_WORD_WEIGHT, _BIGRAM_WEIGHT, _TRIGRAM_WEIGHT = 1.0, 0.5, 0.2


def _features(text: str) -> list[tuple[str, float]]:
    words = _WORD.findall(text.lower())
    features = [("w:" + word, _WORD_WEIGHT) for word in words]
    features += [(f"b:{a} {b}", _BIGRAM_WEIGHT) for a, b in itertools.pairwise(words)]
    for word in words:
        padded = f"<{word}>"
        features += [("c:" + padded[i : i + 3], _TRIGRAM_WEIGHT) for i in range(len(padded) - 2)]
    return features


def embed_text(text: str, dimensions: int, output_dimensionality: int | None = None
               ) -> list[float]:
    """The unit-length embedding of text (full `dimensions`, then truncated)."""
    vector = [0.0] * dimensions
    for feature, weight in _features(text):
        digest = hashlib.blake2b(feature.encode(), digest_size=32).digest()
        sign = 1.0 if digest[0] & 1 else -1.0
        for slot, scale in enumerate((*_SCALES, dimensions)):
            position = int.from_bytes(digest[4 + 4 * slot : 8 + 4 * slot], "big")
            vector[position % min(scale, dimensions)] += sign * weight
    if output_dimensionality:
        vector = vector[:output_dimensionality]
    norm = math.sqrt(sum(value * value for value in vector))
    if norm == 0.0:
        # A text whose features all fell outside a tiny truncation still gets a unit vector.
        vector[0], norm = 1.0, 1.0
    return [round(value / norm, 8) for value in vector]


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (
        math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    )


def _content_text(request: Any, where: str) -> str:
    content = request.get("content") if isinstance(request, dict) else None
    parts = content.get("parts") if isinstance(content, dict) else None
    if not isinstance(parts, list) or not parts:
        raise invalid_argument(f"* {where}.content.parts: contents.parts must not be empty.")
    texts = [part.get("text") for part in parts if isinstance(part, dict)]
    if not all(isinstance(text, str) for text in texts) or len(texts) != len(parts):
        raise invalid_argument(f"* {where}.content.parts: only text parts can be embedded")
    text = " ".join(texts)
    if not text.strip():
        raise invalid_argument(f"* {where}.content: the text content is empty.")
    return text


def _dimensionality(request: dict[str, Any], model: Model, where: str) -> int | None:
    wanted = request.get("outputDimensionality")
    if wanted is None:
        return None
    if isinstance(wanted, bool) or not isinstance(wanted, int) or not (
        1 <= wanted <= model.embedding_dimensions
    ):
        raise invalid_argument(
            f"* {where}.output_dimensionality: must be between 1 and "
            f"{model.embedding_dimensions}, got {wanted!r}"
        )
    return wanted


def embed_request(request: Any, model: Model, where: str) -> dict[str, list[float]]:
    """One ContentEmbedding {"values": [...]} for an EmbedContentRequest."""
    text = _content_text(request, where)
    dims = _dimensionality(request, model, where)
    return {"values": embed_text(text, model.embedding_dimensions, dims)}


def batch_embed(body: dict[str, Any], model: Model, max_batch: int) -> dict[str, Any]:
    """The batchEmbedContents answer: one embedding per request, in order."""
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        raise invalid_argument("* BatchEmbedContentsRequest.requests: requests is not specified")
    if len(requests) > max_batch:
        raise invalid_argument(
            f"* BatchEmbedContentsRequest.requests: at most {max_batch} requests can be in one "
            "batch"
        )
    return {
        "embeddings": [
            embed_request(request, model, f"BatchEmbedContentsRequest.requests[{i}]")
            for i, request in enumerate(requests)
        ]
    }
