"""Embeddings and legacy completions as users run them: gunicorn + the emulator process, the
official openai SDK as the client."""
import math

import openai
import pytest
import requests

from gemini_proxy.translate.embeddings import floats_from_base64

pytestmark = pytest.mark.e2e

EMBEDDING_MODEL = "text-embedding-3-small"
MODEL = "gemini-2.5-flash"


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def norm(vector):
    return math.sqrt(sum(v * v for v in vector))


@pytest.mark.parametrize("encoding_format", [None, "float", "base64"], ids=["default-base64", "float", "base64"])
@pytest.mark.parametrize("dimensions", [None, 256], ids=["full", "dims256"])
def test_sdk_embeddings_in_every_format(sdk, encoding_format, dimensions):
    options = {k: v for k, v in {"encoding_format": encoding_format, "dimensions": dimensions}.items() if v}
    result = sdk.embeddings.create(model=EMBEDDING_MODEL, input="The quick brown fox.", **options)
    assert result.model == EMBEDDING_MODEL
    assert result.object == "list"
    [item] = result.data
    # The SDK decodes base64 only when it chose the format itself; asked for, the string is the caller's.
    vector = floats_from_base64(item.embedding) if encoding_format == "base64" else item.embedding
    assert item.index == 0
    assert all(isinstance(v, float) for v in vector)
    assert len(vector) == (dimensions or 3072)
    assert math.isclose(norm(vector), 1.0, abs_tol=1e-5)
    assert result.usage.prompt_tokens == result.usage.total_tokens > 0


def test_sdk_default_base64_matches_float(sdk):
    packed = sdk.embeddings.create(model=EMBEDDING_MODEL, input=["alpha", "beta"]).data
    floats = sdk.embeddings.create(model=EMBEDDING_MODEL, input=["alpha", "beta"], encoding_format="float").data
    for a, b in zip(packed, floats, strict=True):
        assert max(abs(x - y) for x, y in zip(a.embedding, b.embedding, strict=True)) < 1e-6


def test_sdk_250_inputs_in_order(sdk, emulator_process, emulator_stats):
    inputs = [f"document {i} on subject {i % 11}" for i in range(250)]
    before = emulator_stats()["requests"]
    result = sdk.embeddings.create(model=EMBEDDING_MODEL, input=inputs, dimensions=64)
    # Three batchEmbedContents calls (100 + 100 + 50) and one countTokens.
    assert emulator_stats()["requests"] - before == 4
    batched = requests.get(f"{emulator_process}/emulator/requests",
                           params={"last": 3, "method": "batchEmbedContents"}, timeout=5).json()
    assert [len(r["body"]["requests"]) for r in batched] == [100, 100, 50]
    assert [item.index for item in result.data] == list(range(250))
    assert all(len(item.embedding) == 64 for item in result.data)
    alone = sdk.embeddings.create(model=EMBEDDING_MODEL, input=inputs[173], dimensions=64).data[0].embedding
    assert result.data[173].embedding == pytest.approx(alone, abs=1e-6)


def test_similar_sentences_are_closer_through_the_whole_gateway(sdk):
    cat, cat_too, tax = (item.embedding for item in sdk.embeddings.create(
        model=EMBEDDING_MODEL,
        input=["the cat sat on the mat", "a cat on a mat", "quarterly tax filing deadline"]).data)
    assert cosine(cat, cat_too) > cosine(cat, tax)
    assert cosine(cat, cat_too) > 0.3


def test_sdk_unknown_embedding_model_is_not_found(sdk):
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.embeddings.create(model="no-such-embedding-model", input="x")
    assert caught.value.code == "model_not_found"


def test_sdk_completion(sdk):
    completion = sdk.completions.create(model=MODEL, prompt="Say this is a test", max_tokens=200)
    assert completion.object == "text_completion"
    assert completion.id.startswith("cmpl-")
    [choice] = completion.choices
    assert choice.text
    assert choice.finish_reason == "stop"
    assert choice.index == 0
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens


def test_sdk_completion_stream_matches_the_plain_answer(sdk):
    plain = sdk.completions.create(model=MODEL, prompt=["Count to five", "Name a colour"], temperature=0)
    chunks = list(sdk.completions.create(model=MODEL, prompt=["Count to five", "Name a colour"], temperature=0,
                                         stream=True, stream_options={"include_usage": True}))
    texts = {}
    for chunk in chunks[:-1]:
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + choice.text
    assert texts == {choice.index: choice.text for choice in plain.choices}
    assert [c.choices[0].finish_reason for c in chunks[:-1] if c.choices[0].finish_reason] == ["stop", "stop"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage.total_tokens == plain.usage.total_tokens
