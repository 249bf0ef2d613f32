"""Embeddings translation: batching, options, base64, normalisation, the OpenAI list."""
import base64
import math
import struct

import pytest

from gemini_proxy.errors import ApiError
from gemini_proxy.translate.embeddings import (
    base64_from,
    batches,
    embed_config,
    embedding_list,
    floats_from_base64,
    normalised,
    prompt_tokens_from,
    vectors_from,
)
from tests.support import assert_openai


def texts(count):
    return [f"text {i}" for i in range(count)]


@pytest.mark.parametrize("count, size, sizes", [
    (1, 100, [1]), (100, 100, [100]), (101, 100, [100, 1]), (250, 100, [100, 100, 50]), (5, 2, [2, 2, 1]),
])
def test_batches_keep_the_order_within_the_limit(count, size, sizes):
    cut = list(batches(texts(count), size))
    assert [len(batch) for batch in cut] == sizes
    assert [text for batch in cut for text in batch] == texts(count)


def test_a_batch_size_below_one_is_refused():
    with pytest.raises(ValueError, match="batch size must be at least 1"):
        list(batches(["a"], 0))


@pytest.mark.parametrize("request_, config", [
    ({}, {}),
    ({"dimensions": 256}, {"output_dimensionality": 256}),
    ({"task_type": "RETRIEVAL_QUERY"}, {"task_type": "RETRIEVAL_QUERY"}),
    ({"google": {"task_type": "RETRIEVAL_DOCUMENT", "title": "Doc"}},
     {"task_type": "RETRIEVAL_DOCUMENT", "title": "Doc"}),
    ({"google": {"task_type": "CLUSTERING"}, "dimensions": 8},
     {"task_type": "CLUSTERING", "output_dimensionality": 8}),
    ({"task_type": "CLASSIFICATION", "google": {"title": "T"}}, {"task_type": "CLASSIFICATION", "title": "T"}),
])
def test_embed_config_from_openai_and_google_options(request_, config):
    assert embed_config(request_) == config


def test_vectors_are_reassembled_in_input_order():
    responses = [{"embeddings": [{"values": [1.0]}, {"values": [2.0]}]}, {"embeddings": [{"values": [3.0]}]}]
    assert vectors_from(responses, 3) == [[1.0], [2.0], [3.0]]


@pytest.mark.parametrize("responses", [
    [{"embeddings": [{"values": [1.0]}]}],
    [{"embeddings": [{"values": [1.0]}, {"values": []}]}],
    [{}],
])
def test_a_short_or_empty_upstream_answer_is_a_bad_upstream_response(responses):
    with pytest.raises(ApiError) as caught:
        vectors_from(responses, 2)
    assert caught.value.status == 502
    assert caught.value.code == "bad_upstream_response"


def test_prompt_tokens_only_when_every_embedding_has_statistics():
    assert prompt_tokens_from([{"embeddings": [{"values": [1.0], "statistics": {"token_count": 3.0}}]},
                               {"embeddings": [{"values": [1.0], "statistics": {"token_count": 4}}]}]) == 7
    assert prompt_tokens_from([{"embeddings": [{"values": [1.0], "statistics": {"token_count": 3}},
                                               {"values": [1.0]}]}]) is None
    assert prompt_tokens_from([{"embeddings": [{"values": [1.0]}], "metadata": {}}]) is None


@pytest.mark.parametrize("vector", [[3.0, 4.0], [0.1] * 768, [1e-3, -2e-3, 5e-4], [-7.0]])
def test_normalised_vectors_have_unit_length_and_keep_their_direction(vector):
    unit = normalised(vector)
    assert math.isclose(math.sqrt(sum(v * v for v in unit)), 1.0, rel_tol=1e-12)
    scale = vector[0] / unit[0]
    assert scale > 0
    assert all(math.isclose(v, u * scale, rel_tol=1e-9) for v, u in zip(vector, unit, strict=True))


def test_a_zero_vector_is_left_alone():
    assert normalised([0.0, 0.0]) == [0.0, 0.0]


def test_base64_is_little_endian_float32():
    assert base64_from([1.0, -2.0]) == base64.b64encode(b"\x00\x00\x80\x3f\x00\x00\x00\xc0").decode()
    assert struct.unpack("<2f", base64.b64decode(base64_from([0.5, 0.25]))) == (0.5, 0.25)


def test_base64_round_trip_keeps_float32_precision():
    vector = normalised([math.sin(i) for i in range(3072)])
    decoded = floats_from_base64(base64_from(vector))
    assert len(decoded) == 3072
    assert max(abs(a - b) for a, b in zip(vector, decoded, strict=True)) < 1e-7


def test_embedding_list_is_openai_shaped_with_the_asked_model():
    body = embedding_list([[0.6, 0.8], [1.0, 0.0]], "text-embedding-3-small", None, renormalise=False, prompt_tokens=5)
    assert_openai("CreateEmbeddingResponse", body)
    assert body == {"object": "list", "model": "text-embedding-3-small",
                    "data": [{"object": "embedding", "index": 0, "embedding": [0.6, 0.8]},
                             {"object": "embedding", "index": 1, "embedding": [1.0, 0.0]}],
                    "usage": {"prompt_tokens": 5, "total_tokens": 5}}


def test_embedding_list_renormalises_truncated_vectors_and_encodes_base64():
    body = embedding_list([[3.0, 4.0]], "m", "base64", renormalise=True, prompt_tokens=1)
    assert isinstance(body["data"][0]["embedding"], str)
    assert floats_from_base64(body["data"][0]["embedding"]) == pytest.approx([0.6, 0.8], abs=1e-7)
    plain = embedding_list([[3.0, 4.0]], "m", "float", renormalise=True, prompt_tokens=1)
    assert plain["data"][0]["embedding"] == pytest.approx([0.6, 0.8])
