"""Google's own options (schemas/google.py): `google` or `extra_body.google`, loaded as one
`google` object with the options of the endpoint."""
import pytest

from gemini_proxy.errors import ApiError
from gemini_proxy.schemas import ChatCompletionSchema, load
from gemini_proxy.schemas.completions import CompletionSchema
from gemini_proxy.schemas.embeddings import EmbeddingSchema

CHAT = ChatCompletionSchema(max_messages=10)
COMPLETION = CompletionSchema(max_prompts=4)
EMBEDDING = EmbeddingSchema(max_inputs=4)
THINKING = {"thinking_config": {"thinking_budget": 64}}


def chat(**fields):
    return load(CHAT, {"messages": [{"role": "user", "content": "hi"}], **fields})


@pytest.mark.parametrize("fields, google", [
    ({}, None),
    ({"google": THINKING}, THINKING),
    ({"extra_body": {"google": THINKING}}, THINKING),
    # The top level wins when it has anything; an empty one does not hide extra_body's.
    ({"google": {"cached_content": "c"}, "extra_body": {"google": THINKING}}, {"cached_content": "c"}),
    ({"google": {}, "extra_body": {"google": THINKING}}, THINKING),
    ({"google": None, "extra_body": None}, None),
    # Options of another endpoint are tolerated and left out, like any field not modelled.
    ({"extra_body": {"google": {**THINKING, "task_type": 5}}}, THINKING),
])
def test_chat_loads_one_google_object(fields, google):
    loaded = chat(**fields)
    assert "extra_body" not in loaded
    assert loaded.get("google") == google


def test_legacy_completions_load_it_the_same_way():
    loaded = load(COMPLETION, {"prompt": "hi", "extra_body": {"google": {"cached_content": "c"}}})
    assert loaded["google"] == {"cached_content": "c"}
    assert "extra_body" not in loaded


@pytest.mark.parametrize("fields, google", [
    ({"extra_body": {"google": {"task_type": "CLUSTERING", "title": "T"}}}, {"task_type": "CLUSTERING", "title": "T"}),
    ({"google": {"title": "T", "thinking_config": "not an object", "safety_settings": [{}] * 100}}, {"title": "T"}),
])
def test_embeddings_load_only_their_options(fields, google):
    loaded = load(EMBEDDING, {"input": "x", **fields})
    assert loaded["google"] == google
    assert "extra_body" not in loaded


@pytest.mark.parametrize("schema, body, param", [
    (CHAT, {"messages": [{"role": "user", "content": "x"}], "extra_body": {"google": {"cached_content": 1}}},
     "extra_body.google.cached_content"),
    (CHAT, {"messages": [{"role": "user", "content": "x"}], "google": {"safety_settings": [{}] * 33}},
     "google.safety_settings"),
    (EMBEDDING, {"input": "x", "extra_body": {"google": {"task_type": ""}}}, "extra_body.google.task_type"),
])
def test_a_bad_option_is_refused_where_it_was_sent(schema, body, param):
    with pytest.raises(ApiError) as refused:
        load(schema, body)
    assert refused.value.param == param
