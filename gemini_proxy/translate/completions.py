"""Legacy completions on the chat machinery: a legacy request -> one chat request per prompt;
chat answers (chat.completion objects or chunks) -> text_completion objects or chunks.

Nothing here talks to Gemini: the chat translation does, so both APIs share one mapping.
Choices of prompt p are numbered p * n + i, as OpenAI numbers them.
"""
from __future__ import annotations

from typing import NamedTuple

# Legacy parameters that mean the same in a chat request, copied when set.
CHAT_PARAMETERS = ("model", "max_tokens", "temperature", "top_p", "top_k", "stop", "n", "seed",
                   "presence_penalty", "frequency_penalty", "reasoning_effort", "google")


class CompletionContext(NamedTuple):
    """What a text_completion needs besides the chat answers (ids come from outside)."""
    completion_id: str
    created: int
    model: str
    prompts: tuple[str, ...]
    n: int = 1
    echo: bool = False


def chat_request_from(request: dict, prompt: str) -> dict:
    """The chat request (as the chat schema loads it) that answers one prompt."""
    chat = {name: request[name] for name in CHAT_PARAMETERS if request.get(name) is not None}
    chat["messages"] = [{"role": "user", "content": [{"type": "text", "text": prompt}]}]
    if request.get("logprobs") is not None:
        # Legacy logprobs=N is "the N most likely tokens at each position" (0: the chosen only).
        chat["logprobs"] = True
        chat["top_logprobs"] = request["logprobs"]
    return chat


def legacy_logprobs_from(logprobs: dict | None, offset: int = 0) -> dict | None:
    """Chat's {"content": [{token, logprob, top_logprobs}]} -> the legacy {tokens,
    token_logprobs, top_logprobs, text_offset}; offsets count characters from `offset`."""
    if not logprobs:
        return None
    legacy = {"tokens": [], "token_logprobs": [], "top_logprobs": [], "text_offset": []}
    for item in logprobs.get("content") or ():
        legacy["tokens"].append(item["token"])
        legacy["token_logprobs"].append(item["logprob"])
        legacy["top_logprobs"].append({top["token"]: top["logprob"] for top in item.get("top_logprobs") or ()})
        legacy["text_offset"].append(offset)
        offset += len(item["token"])
    return legacy


def _choice(index: int, text: str, logprobs: dict | None, finish_reason: str | None) -> dict:
    return {"text": text, "index": index, "logprobs": logprobs, "finish_reason": finish_reason}


def _summed(usages: list[dict]) -> dict:
    """Usage objects added up, field by field (nested details too)."""
    total: dict = {}
    for usage in usages:
        for key, value in usage.items():
            if isinstance(value, dict):
                total[key] = _summed([total.get(key) or {}, value])
            elif isinstance(value, int):
                total[key] = total.get(key, 0) + value
    return total


def _head(context: CompletionContext) -> dict:
    return {"id": context.completion_id, "object": "text_completion", "created": context.created,
            "model": context.model}


def text_completion_from(completions: list[dict], context: CompletionContext) -> dict:
    """One text_completion from the chat.completion of each prompt (in prompt order)."""
    choices = []
    for position, (prompt, completion) in enumerate(zip(context.prompts, completions, strict=True)):
        echoed = prompt if context.echo else ""
        for choice in completion["choices"]:
            text = echoed + (choice["message"].get("content") or "")
            choices.append(_choice(position * context.n + choice["index"], text,
                                   legacy_logprobs_from(choice.get("logprobs"), len(echoed)), choice["finish_reason"]))
    return {**_head(context), "choices": choices, "usage": _summed([c["usage"] for c in completions])}


class TextCompletionStream:
    """chat.completion.chunk objects of each prompt's ChatStream -> text_completion chunks.

    The prompts' streams may follow one another: choices are told apart by index. With
    include_usage, one last chunk with "choices": [] carries the usage of every prompt.
    """

    def __init__(self, context: CompletionContext, include_usage: bool = False):
        self._context = context
        self._head = _head(context)
        self._include_usage = include_usage
        self._offsets: dict[int, int] = {}  # choice index -> characters sent so far
        self._usages: list[dict] = []

    def _chunk(self, index: int, text: str, logprobs: dict | None = None, finish_reason: str | None = None) -> dict:
        self._offsets[index] = self._offsets.get(index, 0) + len(text)
        return {**self._head, "choices": [_choice(index, text, logprobs, finish_reason)]}

    def chunks_from(self, prompt_index: int, chat_chunk: dict) -> list[dict]:
        if chat_chunk.get("usage"):
            self._usages.append(chat_chunk["usage"])
        out = []
        for choice in chat_chunk.get("choices") or ():
            index = prompt_index * self._context.n + choice["index"]
            delta = choice.get("delta") or {}
            if "role" in delta and self._context.echo:
                out.append(self._chunk(index, self._context.prompts[prompt_index]))
            text = delta.get("content") or ""
            # Thought summaries (reasoning_content) have no place in a text completion.
            if text or choice.get("logprobs") or choice.get("finish_reason"):
                logprobs = legacy_logprobs_from(choice.get("logprobs"), self._offsets.get(index, 0))
                out.append(self._chunk(index, text, logprobs, choice.get("finish_reason")))
        return out

    def close(self) -> list[dict]:
        if not self._include_usage:
            return []
        return [{**self._head, "choices": [], "usage": _summed(self._usages)}]
