"""Legacy completions <-> the chat machinery: requests, answers, logprobs and stream chunks."""
import pytest

from gemini_proxy.config import Settings
from gemini_proxy.relay import chat_model
from gemini_proxy.translate.chat import AnswerContext, completion_from_response, gemini_request
from gemini_proxy.translate.completions import (
    CompletionContext,
    TextCompletionStream,
    chat_request_from,
    legacy_logprobs_from,
    text_completion_from,
)
from gemini_proxy.translate.stream import ChatStream
from tests.support import assert_openai

HEAD = {"completion_id": "cmpl-test", "created": 1700000000, "model": "gpt-3.5-turbo-instruct"}
USAGE = {"prompt_token_count": 3, "candidates_token_count": 4, "total_token_count": 7}


def assert_text_chunk(chunk):
    """The spec shares one schema between answers and chunks; like OpenAI's own streams, a chunk
    that does not finish a choice says finish_reason null, which that schema does not allow."""
    assert_openai("CreateCompletionResponse", {
        **chunk, "choices": [{**c, "finish_reason": c["finish_reason"] or "stop"} for c in chunk["choices"]]})


def gemini_answer(*texts, finish="STOP", logprobs=None):
    candidates = [{"index": i, "content": {"role": "model", "parts": [{"text": t}]}, "finish_reason": finish}
                  for i, t in enumerate(texts)]
    if logprobs:
        candidates[0]["logprobs_result"] = logprobs
    return {"candidates": candidates, "usage_metadata": USAGE}


LOGPROBS = {
    "chosen_candidates": [{"token": "Hi", "log_probability": -0.5}, {"token": " there", "log_probability": -1.0}],
    "top_candidates": [
        {"candidates": [{"token": "Hi", "log_probability": -0.5}, {"token": "Hello", "log_probability": -1.5}]},
        {"candidates": [{"token": " there", "log_probability": -1.0}, {"token": "!", "log_probability": -2.0}]},
    ],
}


@pytest.mark.parametrize("legacy, expected", [
    ({"prompt": ["Hi"]}, {}),
    ({"prompt": ["Hi"], "model": "m", "max_tokens": 7, "temperature": 0, "top_p": 0.5, "stop": ["x"], "n": 2,
      "seed": 1, "presence_penalty": 0.1, "frequency_penalty": -0.1, "echo": True, "user": "u", "stream": True},
     {"model": "m", "max_tokens": 7, "temperature": 0, "top_p": 0.5, "stop": ["x"], "n": 2, "seed": 1,
      "presence_penalty": 0.1, "frequency_penalty": -0.1}),
    ({"prompt": ["Hi"], "logprobs": 3}, {"logprobs": True, "top_logprobs": 3}),
    ({"prompt": ["Hi"], "logprobs": 0, "temperature": None}, {"logprobs": True, "top_logprobs": 0}),
    ({"prompt": ["Hi"], "reasoning_effort": "none", "google": {"cached_content": "c"}},
     {"reasoning_effort": "none", "google": {"cached_content": "c"}}),
])
def test_a_prompt_becomes_one_user_message_of_a_chat_request(legacy, expected):
    assert chat_request_from(legacy, "Say it") == {
        **expected, "messages": [{"role": "user", "content": [{"type": "text", "text": "Say it"}]}]}


def test_the_chat_mapping_is_the_one_that_reaches_gemini():
    chat = chat_request_from({"prompt": ["Hi"], "model": "gpt-3.5-turbo", "max_tokens": 9, "n": 3, "logprobs": 2,
                              "stop": ["END"], "temperature": 0.3}, "Hi")
    gemini = gemini_request(chat, chat_model(Settings(), chat["model"]))
    assert gemini.model == "gemini-2.5-flash-lite"
    assert gemini.contents == [{"role": "user", "parts": [{"text": "Hi"}]}]
    assert gemini.config == {"temperature": 0.3, "stop_sequences": ["END"], "max_output_tokens": 9,
                             "candidate_count": 3, "response_logprobs": True, "logprobs": 2}


def test_chat_logprobs_become_the_legacy_shape_with_offsets():
    chat = completion_from_response(gemini_answer("Hi there", logprobs=LOGPROBS), AnswerContext("c", 0, "m"), {})
    assert legacy_logprobs_from(chat["choices"][0]["logprobs"], offset=4) == {
        "tokens": ["Hi", " there"],
        "token_logprobs": [-0.5, -1.0],
        "top_logprobs": [{"Hi": -0.5, "Hello": -1.5}, {" there": -1.0, "!": -2.0}],
        "text_offset": [4, 6],
    }
    assert legacy_logprobs_from(None) is None


def chat_completions(*answers, n=1):
    return [completion_from_response(answer, AnswerContext("chatcmpl-x", 1, "m", n), {}) for answer in answers]


def test_choices_of_several_prompts_are_numbered_like_openai():
    context = CompletionContext(**HEAD, prompts=("P0", "P1"), n=2)
    body = text_completion_from(chat_completions(gemini_answer("a", "b"), gemini_answer("c", "d", finish="MAX_TOKENS"),
                                                 n=2), context)
    assert_openai("CreateCompletionResponse", body)
    assert {k: body[k] for k in ("id", "object", "created", "model")} == {
        "id": "cmpl-test", "object": "text_completion", "created": 1700000000, "model": "gpt-3.5-turbo-instruct"}
    assert [(c["index"], c["text"], c["finish_reason"]) for c in body["choices"]] == [
        (0, "a", "stop"), (1, "b", "stop"), (2, "c", "length"), (3, "d", "length")]
    assert body["usage"] == {"prompt_tokens": 6, "completion_tokens": 8, "total_tokens": 14,
                             "prompt_tokens_details": {"cached_tokens": 0},
                             "completion_tokens_details": {"reasoning_tokens": 0}}


def test_echo_puts_the_prompt_first_and_logprobs_count_from_it():
    context = CompletionContext(**HEAD, prompts=("Say: ",), echo=True)
    body = text_completion_from(chat_completions(gemini_answer("Hi there", logprobs=LOGPROBS)), context)
    assert_openai("CreateCompletionResponse", body)
    choice = body["choices"][0]
    assert choice["text"] == "Say: Hi there"
    assert choice["logprobs"]["text_offset"] == [5, 7]


def test_a_blocked_prompt_still_gives_its_choices():
    blocked = {"prompt_feedback": {"block_reason": "SAFETY"}, "usage_metadata": USAGE}
    body = text_completion_from(chat_completions(blocked, n=2), CompletionContext(**HEAD, prompts=("x",), n=2))
    assert [(c["index"], c["text"], c["finish_reason"]) for c in body["choices"]] == [
        (0, "", "content_filter"), (1, "", "content_filter")]


def delta(*texts, finish=None, logprobs=None):
    return {"candidates": [{"index": 0, "content": {"role": "model", "parts": [{"text": t} for t in texts]},
                            **({"finish_reason": finish} if finish else {}),
                            **({"logprobs_result": logprobs} if logprobs else {})}], "usage_metadata": USAGE}


def stream_of(prompt_answers, include_usage=False, **context):
    """Every prompt's Gemini chunks through its own ChatStream, then through one TextCompletionStream."""
    context = CompletionContext(**HEAD, **context)
    legacy = TextCompletionStream(context, include_usage)
    out = []
    for prompt_index, gemini_chunks in enumerate(prompt_answers):
        chat = ChatStream(AnswerContext("chatcmpl-x", 1, "m", context.n), include_usage=True)
        for chat_chunk in [c for g in gemini_chunks for c in chat.chunks_from(g)] + chat.close():
            out += legacy.chunks_from(prompt_index, chat_chunk)
    return out + legacy.close()


def test_stream_chunks_are_text_completion_chunks_multiplexed_by_index():
    chunks = stream_of([[delta("Hel"), delta("lo", finish="STOP")], [delta("By"), delta("e", finish="MAX_TOKENS")]],
                       prompts=("A", "B"))
    for chunk in chunks:
        assert_text_chunk(chunk)
        assert chunk["id"] == "cmpl-test"
        assert chunk["object"] == "text_completion"
        assert "usage" not in chunk
    assert [(c["choices"][0]["index"], c["choices"][0]["text"], c["choices"][0]["finish_reason"]) for c in chunks] == [
        (0, "Hel", None), (0, "lo", None), (0, "", "stop"), (1, "By", None), (1, "e", None), (1, "", "length")]


def test_stream_echo_sends_the_prompt_first_and_usage_sums_every_prompt():
    chunks = stream_of([[delta("x", finish="STOP")], [delta("y", finish="STOP")]], include_usage=True,
                       prompts=("P0 ", "P1 "), echo=True)
    texts = [(c["choices"][0]["index"], c["choices"][0]["text"]) for c in chunks if c["choices"]]
    assert texts == [(0, "P0 "), (0, "x"), (0, ""), (1, "P1 "), (1, "y"), (1, "")]
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["prompt_tokens"] == 6
    assert chunks[-1]["usage"]["total_tokens"] == 14
    assert_openai("CreateCompletionResponse", chunks[-1])


def test_stream_logprobs_offsets_run_on_across_chunks():
    first = {"chosen_candidates": [{"token": "Hi", "log_probability": -0.5}], "top_candidates": []}
    second = {"chosen_candidates": [{"token": " there", "log_probability": -1.0}], "top_candidates": []}
    chunks = stream_of([[delta("Hi", logprobs=first), delta(" there", logprobs=second, finish="STOP")]],
                       prompts=("Q",))
    logprobs = [c["choices"][0]["logprobs"] for c in chunks if c["choices"][0]["logprobs"]]
    assert [(lp["tokens"], lp["text_offset"], lp["top_logprobs"]) for lp in logprobs] == [
        (["Hi"], [0], [{}]), ([" there"], [2], [{}])]


def test_thought_summaries_are_not_part_of_the_text():
    thought = {"candidates": [{"index": 0, "content": {"role": "model", "parts": [{"text": "hmm", "thought": True}]}}]}
    chunks = stream_of([[thought, delta("Answer", finish="STOP")]], prompts=("Q",))
    assert "".join(c["choices"][0]["text"] for c in chunks) == "Answer"
