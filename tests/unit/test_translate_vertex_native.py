"""translate/vertex_native.py: Gemini's own API bodies fitted to Vertex AI, and Vertex's answers in AI
Studio's shape (docs/vertex.md)."""
import pytest

from gemini_proxy.errors import ApiError
from gemini_proxy.translate.vertex_native import (
    catalog_list,
    count_tokens_body,
    embed_answer,
    embed_call,
    embed_tokens,
    expected_embeddings,
    model_from_publisher,
    uses_predict,
)

CONTENTS = [{"role": "user", "parts": [{"text": "hi"}]}]
SYSTEM = {"parts": [{"text": "Be brief."}]}


def content(text):
    return {"parts": [{"text": text}]}


def test_count_tokens_keeps_contents_as_they_are():
    assert count_tokens_body({"contents": CONTENTS}) == {"contents": CONTENTS}


def test_count_tokens_flattens_generate_content_request_to_vertex_s_fields():
    inner = {"model": "models/gemini-2.5-flash", "contents": CONTENTS, "systemInstruction": SYSTEM,
             "tools": [{"googleSearch": {}}], "generationConfig": {"temperature": 0},
             "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
             "cachedContent": "cachedContents/x"}
    assert count_tokens_body({"generateContentRequest": inner}) == {
        "contents": CONTENTS, "systemInstruction": SYSTEM, "tools": [{"googleSearch": {}}],
        "generationConfig": {"temperature": 0}}


@pytest.mark.parametrize(("model", "predict"), [("gemini-embedding-001", False), ("text-embedding-005", True),
                                                ("text-multilingual-embedding-002", True), ("x-maas", False)])
def test_which_models_use_predict(model, predict):
    assert uses_predict(model) is predict


def test_embed_content_for_a_gemini_model_moves_its_options_into_embed_content_config():
    body = {"model": "models/gemini-embedding-001", "content": content("a"), "taskType": "RETRIEVAL_DOCUMENT",
            "title": "A doc", "outputDimensionality": 8, "autoTruncate": True}
    assert embed_call("gemini-embedding-001", "embedContent", body) == ("embedContent", {
        "content": content("a"), "autoTruncate": True,
        "embedContentConfig": {"taskType": "RETRIEVAL_DOCUMENT", "title": "A doc", "outputDimensionality": 8}})
    assert embed_call("gemini-embedding-001", "embedContent", {"content": content("a")}) == (
        "embedContent", {"content": content("a")})


def test_batch_embed_contents_for_a_gemini_model_drops_the_per_request_model():
    body = {"requests": [{"model": "models/gemini-embedding-001", "content": content(t), "taskType": "CLUSTERING"}
                         for t in ("a", "b")]}
    assert embed_call("gemini-embedding-001", "batchEmbedContents", body) == ("batchEmbedContents", {"requests": [
        {"content": content(t), "embedContentConfig": {"taskType": "CLUSTERING"}} for t in ("a", "b")]})


def test_other_models_predict_with_one_instance_per_text():
    body = {"requests": [{"model": "models/text-embedding-005", "content": {"parts": [{"text": "a"}, {"text": "b"}]},
                          "taskType": "RETRIEVAL_DOCUMENT", "title": "T", "outputDimensionality": 8},
                         {"content": content("c"), "outputDimensionality": 8}]}
    assert embed_call("text-embedding-005", "batchEmbedContents", body) == ("predict", {
        "instances": [{"content": "a b", "task_type": "RETRIEVAL_DOCUMENT", "title": "T"}, {"content": "c"}],
        "parameters": {"outputDimensionality": 8}})
    assert embed_call("text-embedding-005", "embedContent", {"content": content("a")}) == (
        "predict", {"instances": [{"content": "a"}]})


@pytest.mark.parametrize(("action", "body", "param"), [
    ("embedContent", {"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": "AA=="}}]}},
     "content"),
    ("batchEmbedContents", {"requests": [{"content": content("a")}, {"content": {}}]}, "requests[1].content"),
    ("batchEmbedContents", {"requests": [{"content": content("a"), "outputDimensionality": 8},
                                         {"content": content("b")}]}, "requests"),
    ("batchEmbedContents", {"requests": []}, "requests"),
    ("batchEmbedContents", {}, "requests"),
])
def test_what_predict_cannot_take_is_a_400(action, body, param):
    with pytest.raises(ApiError) as caught:
        embed_call("text-embedding-005", action, body)
    assert (caught.value.status, caught.value.param) == (400, param)


def test_answers_in_ai_studio_s_shape():
    predicted = {"predictions": [{"embeddings": {"values": [0.1, 0.2], "statistics": {"token_count": 3}}},
                                 {"embeddings": {"values": [0.3, 0.4], "statistics": {"token_count": 4}}}],
                 "metadata": {"billableCharacterCount": 9}}
    assert embed_answer("batchEmbedContents", "predict", predicted, 2) == {
        "embeddings": [{"values": [0.1, 0.2]}, {"values": [0.3, 0.4]}]}
    assert embed_tokens("predict", predicted) == 7
    single = {"embedding": {"values": [0.5]}, "usageMetadata": {"promptTokenCount": 2}, "truncated": False}
    assert embed_answer("embedContent", "embedContent", single, 1) == {"embedding": {"values": [0.5]}}
    assert embed_tokens("embedContent", single) == 2
    assert embed_answer("embedContent", "predict", {"predictions": [{"embeddings": {"values": [1.0]}}]}, 1) == {
        "embedding": {"values": [1.0]}}
    batch = {"embeddings": [{"values": [1.0]}, {"values": [2.0]}]}
    assert embed_answer("batchEmbedContents", "batchEmbedContents", batch, 2) == batch
    assert embed_tokens("batchEmbedContents", batch) is None


@pytest.mark.parametrize("answer", [{}, {"embeddings": [{"values": [1.0]}]}, {"embeddings": [{}, {}]}, None])
def test_an_answer_without_the_embeddings_asked_for_is_a_502(answer):
    with pytest.raises(ApiError) as caught:
        embed_answer("batchEmbedContents", "batchEmbedContents", answer, 2)
    assert caught.value.status == 502


def test_expected_embeddings():
    assert expected_embeddings("embedContent", {"content": content("a")}) == 1
    assert expected_embeddings("batchEmbedContents", {"requests": [{}, {}, {}]}) == 3


def test_the_catalog_in_ai_studio_s_shape():
    assert catalog_list(("gemini-2.5-flash", "text-embedding-005")) == {"models": [
        {"name": "models/gemini-2.5-flash",
         "supportedGenerationMethods": ["generateContent", "streamGenerateContent", "countTokens"]},
        {"name": "models/text-embedding-005", "supportedGenerationMethods": ["embedContent", "batchEmbedContents"]}]}


def test_a_publisher_model_as_ai_studio_s_model():
    found = {"name": "publishers/google/models/gemini-2.5-pro", "versionId": "001", "launchStage": "GA",
             "displayName": "Gemini 2.5 Pro", "inputTokenLimit": 1048576, "openSourceCategory": "PROPRIETARY"}
    assert model_from_publisher(found) == {"name": "models/gemini-2.5-pro", "version": "001",
                                           "displayName": "Gemini 2.5 Pro", "inputTokenLimit": 1048576}
    with pytest.raises(ApiError):
        model_from_publisher({"versionId": "001"})
