"""POST /v1/embeddings through the Flask test client, with the emulator behind the real SDK."""
import math

import pytest
import requests

from gemini_proxy.app import create_app
from gemini_proxy.translate.embeddings import floats_from_base64
from tests.support import assert_openai, gateway_settings

PATHS = ["/v1/embeddings", "/embeddings"]
MODEL = "gemini-embedding-001"


@pytest.fixture
def embed_requests(emulator):
    """The batchEmbedContents / countTokens request bodies the emulator received, newest last."""
    def last(n: int = 1, method: str = "batchEmbedContents") -> list[dict]:
        return requests.get(f"{emulator.url}/emulator/requests", params={"last": n, "method": method}, timeout=5).json()
    return last


def embed(client, **fields):
    response = client.post("/v1/embeddings", json={"model": MODEL, **fields})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def norm(vector):
    return math.sqrt(sum(v * v for v in vector))


@pytest.mark.parametrize("path", PATHS)
def test_float_embedding_is_an_openai_list(client, path):
    response = client.post(path, json={"model": MODEL, "input": "The quick brown fox.", "encoding_format": "float"})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert_openai("CreateEmbeddingResponse", body)
    assert body["object"] == "list"
    assert body["model"] == MODEL
    [item] = body["data"]
    assert item["object"] == "embedding"
    assert item["index"] == 0
    assert len(item["embedding"]) == 3072
    assert math.isclose(norm(item["embedding"]), 1.0, abs_tol=1e-6)


def test_default_is_float_and_model_defaults_to_gemini_embedding(client, embed_requests):
    body = client.post("/v1/embeddings", json={"input": "hello"}).get_json()
    assert body["model"] == "gemini-embedding-001"
    assert isinstance(body["data"][0]["embedding"], list)
    assert embed_requests()[0]["model"] == "gemini-embedding-001"


def test_base64_is_the_float_vector_as_little_endian_float32(client):
    floats = embed(client, input="The quick brown fox.", encoding_format="float")["data"][0]["embedding"]
    packed = embed(client, input="The quick brown fox.", encoding_format="base64")["data"][0]["embedding"]
    assert isinstance(packed, str)
    decoded = floats_from_base64(packed)
    assert len(decoded) == len(floats)
    assert max(abs(a - b) for a, b in zip(floats, decoded, strict=True)) < 1e-6


@pytest.mark.parametrize("dimensions", [8, 256, 768])
def test_dimensions_truncate_upstream_and_vectors_have_unit_length(client, embed_requests, dimensions):
    body = embed(client, input=["first text", "second text"], dimensions=dimensions)
    assert [len(item["embedding"]) for item in body["data"]] == [dimensions, dimensions]
    assert all(math.isclose(norm(item["embedding"]), 1.0, abs_tol=1e-9) for item in body["data"])
    assert [r["outputDimensionality"] for r in embed_requests()[0]["body"]["requests"]] == [dimensions, dimensions]


def test_250_inputs_go_in_batches_of_100_and_come_back_in_order(client, embed_requests):
    inputs = [f"sentence number {i} about topic {i % 7}" for i in range(250)]
    body = embed(client, input=inputs, dimensions=16)
    sent = embed_requests(3)
    assert [len(r["body"]["requests"]) for r in sent] == [100, 100, 50]
    firsts = [r["body"]["requests"][0]["content"]["parts"][0]["text"] for r in sent]
    assert firsts == [inputs[0], inputs[100], inputs[200]]
    assert [item["index"] for item in body["data"]] == list(range(250))
    for position in (0, 99, 100, 137, 249):
        alone = embed(client, input=inputs[position], dimensions=16)["data"][0]["embedding"]
        assert body["data"][position]["embedding"] == alone


def test_batch_size_is_a_setting(emulator, embed_requests):
    client = create_app(gateway_settings(emulator, embedding_batch_size=2)).test_client()
    assert len(embed(client, input=["a", "b", "c", "d", "e"])["data"]) == 5
    assert [len(r["body"]["requests"]) for r in embed_requests(3)] == [2, 2, 1]


@pytest.mark.parametrize("alias", ["text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002"])
def test_openai_model_names_are_aliases_reported_as_asked(client, embed_requests, alias):
    body = embed(client, model=alias, input="hello")
    assert body["model"] == alias
    assert len(body["data"][0]["embedding"]) == 3072
    assert embed_requests()[0]["model"] == "gemini-embedding-001"


def test_embedding_aliases_are_listed_as_models(client):
    ids = [m["id"] for m in client.get("/v1/models").get_json()["data"]]
    assert {"text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002"} <= set(ids)
    assert client.get("/v1/models/text-embedding-3-small").get_json()["id"] == "text-embedding-3-small"


def test_other_gemini_embedding_models_are_reachable(client):
    body = embed(client, model="text-embedding-004", input="hello")
    assert len(body["data"][0]["embedding"]) == 768


@pytest.mark.parametrize("model", ["no-such-embedding-model", "gemini-2.5-flash"])
def test_unknown_or_non_embedding_model_is_404_model_not_found(client, model):
    response = client.post("/v1/embeddings", json={"model": model, "input": "x"})
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", "model_not_found", "model")


def test_usage_counts_the_prompt_tokens(client, embed_requests):
    body = embed(client, input=["one two three", "four, five"])
    assert body["usage"] == {"prompt_tokens": 6, "total_tokens": 6}
    counted = embed_requests(1, method="countTokens")[0]["body"]["contents"]
    assert [c["parts"][0]["text"] for c in counted] == ["one two three", "four, five"]


@pytest.mark.parametrize("options", [
    {"task_type": "RETRIEVAL_DOCUMENT", "title": "A title"},
    {"google": {"task_type": "RETRIEVAL_DOCUMENT", "title": "A title"}},
    {"extra_body": {"google": {"task_type": "RETRIEVAL_DOCUMENT", "title": "A title"}}},
])
def test_gemini_task_type_and_title_pass_through(client, embed_requests, options):
    embed(client, input=["a", "b"], **options)
    assert [(r["taskType"], r["title"]) for r in embed_requests()[0]["body"]["requests"]] == [
        ("RETRIEVAL_DOCUMENT", "A title")] * 2


@pytest.mark.parametrize("fields, param, fragment", [
    ({"input": ""}, "input", "empty"),
    ({"input": "   "}, "input", "empty"),
    ({"input": []}, "input", "non-empty"),
    ({"input": ["fine", ""]}, "input", "item 1"),
    ({"input": [1, 2, 3]}, "input", "token arrays"),
    ({"input": [[1, 2], [3]]}, "input", "token arrays"),
    ({"input": 5}, "input", "string or an array of strings"),
    ({"input": ["a", 1]}, "input", "string or an array of strings"),
    ({}, "input", "Missing required parameter"),
    ({"input": "x", "encoding_format": "bits"}, "encoding_format", "Must be one of"),
    ({"input": "x", "dimensions": 0}, "dimensions", "greater than or equal to 1"),
    ({"input": "x", "dimensions": "8"}, "dimensions", "integer"),
    ({"input": "x", "dimensions": True}, "dimensions", "integer"),
    ({"input": "x", "model": 5}, "model", "string"),
    ({"input": ["x"] * 2049}, "input", "at most 2048"),
    ({"input": "x", "task_type": "CLUSTERING", "google": {"task_type": "CLUSTERING"}}, "task_type", "not both"),
])
def test_invalid_requests_are_400_naming_the_param(client, fields, param, fragment):
    body = {"model": MODEL, **fields} if "model" not in fields else fields
    response = client.post("/v1/embeddings", json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert fragment in error["message"]


def test_dimensions_beyond_the_model_are_gemini_s_400(client):
    response = client.post("/v1/embeddings", json={"model": "text-embedding-004", "input": "x", "dimensions": 1000})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_request"
