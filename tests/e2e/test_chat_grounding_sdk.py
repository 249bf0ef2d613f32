"""Chat with web_search_options through the official openai SDK against gunicorn and the
emulator: url_citation annotations whose spans index into the returned content."""
import pytest

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-flash"
QUESTION = [{"role": "user", "content": "Which city hosted the 2024 Olympics and who won the most medals?"}]


def assert_citations_fit(message):
    extra = message.model_extra or {}
    supported = {s["segment"]["text"] for s in extra["grounding_metadata"]["groundingSupports"]}
    assert message.annotations
    for annotation in message.annotations:
        citation = annotation.url_citation
        assert annotation.type == "url_citation"
        assert message.content[citation.start_index:citation.end_index] in supported
        assert citation.url.startswith("https://")
        assert citation.title


def test_web_search_options(sdk):
    completion = sdk.chat.completions.create(model=MODEL, messages=QUESTION, web_search_options={
        "user_location": {"type": "approximate", "approximate": {"country": "FR"}}})
    message = completion.choices[0].message
    assert not message.content.isascii()
    assert_citations_fit(message)
    assert completion.usage.model_extra["server_tool_use"]["web_search_requests"] >= 1


def test_web_search_options_streamed(sdk):
    with sdk.chat.completions.stream(model=MODEL, messages=QUESTION, web_search_options={},
                                     stream_options={"include_usage": True}) as events:
        final = events.get_final_completion()
    assert_citations_fit(final.choices[0].message)
    assert final.choices[0].finish_reason == "stop"


def test_raw_stream_chunks_carry_the_annotations(sdk):
    chunks = list(sdk.chat.completions.create(model=MODEL, messages=QUESTION, web_search_options={}, stream=True))
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    annotated = [c.choices[0].delta.model_extra["annotations"] for c in chunks
                 if c.choices and "annotations" in (c.choices[0].delta.model_extra or {})]
    assert len(annotated) == 1
    for annotation in annotated[0]:
        span = annotation["url_citation"]
        assert content[span["start_index"]:span["end_index"]].strip()


def test_service_tier_echoed(sdk):
    completion = sdk.chat.completions.create(model=MODEL, messages=QUESTION, service_tier="flex")
    assert completion.service_tier == "flex"
