"""What an answer contains: candidate texts or function calls, thoughts, finish reasons, usage.

Pure functions: the same request always plans the same answer. The seed covers the model,
the conversation (directives stripped), the system instruction, the sampling parameters and
the candidate index. Length limits (maxOutputTokens, stop sequences, candidateCount) are not
part of the seed, so a cut answer is a prefix of the uncut one, as with a real model.

Kind: an answer is function calls or text, by the rule in the tools module docstring.

Text: opens with prefix sentences, in this order: the media of the last user turn (media),
the function results that just came back (tools, rule 1), and the memory line: in a
conversation with more than one user turn, "You said: <first sentence of the first user
turn>", so a client can see that the whole history arrived, not just the last message. Then
generated sentences: the whole is exactly N tokens with `tokens=N`, otherwise 20-60 tokens (at
least MIN_BODY generated tokens after a long prefix). `say=` replaces all of it. The text is
then put in the requested output format (output_format: JSON, enum).

Thinking (thinking module): thoughtsTokenCount counts against maxOutputTokens, as with real
Gemini: the budget of a candidate's text (or calls) is maxOutputTokens - thoughtsTokenCount
and thoughts stop at maxOutputTokens (`thoughts=N` is exact below it; real Gemini reports
thoughtsTokenCount = maxOutputTokens when thinking used it all). When thoughts use it all, the
candidate has no parts at all (not even a thought summary),
finishReason MAX_TOKENS and usage has no candidatesTokenCount; function calls that do not fit
in the budget are not emitted either (no call parts, MAX_TOKENS).

Grounding (grounding module): a text answer to a request with a Google Search tool carries the
groundingMetadata of its final text (after every cut), and its generated sentences open with
non-ASCII words.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from gemini_emulator.audio import Hearing, audio_tokens, hearing_of
from gemini_emulator.catalog import Model
from gemini_emulator.directives import MID_STREAM_FAULTS, Directives, last_user_text
from gemini_emulator.grounding import Search, grounding_metadata, localize, search_for
from gemini_emulator.media import media_sentences
from gemini_emulator.output_format import MIME_TYPES, render
from gemini_emulator.signatures import issue, needs_signatures
from gemini_emulator.text import compose, default_length, seed_for
from gemini_emulator.thinking import summary, thoughts_tokens
from gemini_emulator.tokens import count_tokens, truncate_tokens
from gemini_emulator.tools import (
    Call,
    Declaration,
    called_since_user_text,
    chosen_functions,
    function_responses,
    make_call,
    place_in,
    response_sentences,
)
from gemini_emulator.validation import GenerateRequest

INLINE_PART_TOKENS = 258  # what Gemini charges for one image (vision recording: 258 + 8 text)
MIN_BODY = 8  # generated tokens after the prefix sentences of a text answer

_SAMPLING_KEYS = (
    "temperature", "topP", "topK", "seed", "presencePenalty", "frequencyPenalty",
    "responseMimeType",
)
_MODALITY_BY_MIME = (("image/", "IMAGE"), ("audio/", "AUDIO"), ("video/", "VIDEO"),
                     ("application/pdf", "DOCUMENT"))


@dataclass(frozen=True)
class CandidatePlan:
    index: int
    text: str
    finish_reason: str
    thought: str = ""  # thought summary, shown before the answer (includeThoughts)
    calls: tuple[Call, ...] = ()  # function calls (then text is "")
    signature: str | None = None  # thoughtSignature of the first call
    seed: int = 0
    grounding: dict[str, Any] | None = None  # groundingMetadata of a grounded text answer

    @property
    def tokens(self) -> int:
        return count_tokens(self.text) + sum(call.tokens for call in self.calls)


@dataclass(frozen=True)
class AnswerPlan:
    model: str
    response_id: str
    prompt_tokens: int
    prompt_details: tuple[tuple[str, int], ...]
    thoughts_tokens: int | None
    candidates: tuple[CandidatePlan, ...]
    blocked: bool = False
    logprobs: int | None = None  # top-N alternatives when responseLogprobs is on
    split_stop: bool = False  # gemini-3: a function-call stream ends with its own STOP chunk
    tool_use_tokens: int = 0  # toolUsePromptTokenCount: search results read (grounding)

    @property
    def candidate_tokens(self) -> int:
        return sum(candidate.tokens for candidate in self.candidates)

    @property
    def signatures(self) -> int:
        return sum(1 for candidate in self.candidates if candidate.signature)


@dataclass(frozen=True)
class Turn:
    """What the last turn of the conversation asks for: shared by every candidate."""

    user_text: str
    prefix: str  # the sentences a text answer opens with
    functions: tuple[Declaration, ...]  # functions to call; empty: answer in text
    place: str | None
    search: Search | None = None  # what a grounded text answer found
    hearing: Hearing | None = None  # a transcript asked of audio: the answer (audio module)


def _modality(mime_type: str) -> str:
    return next((m for prefix, m in _MODALITY_BY_MIME if mime_type.startswith(prefix)), "TEXT")


def _part_usage(part: dict[str, Any]) -> tuple[str, int]:
    if isinstance(part.get("text"), str):
        return "TEXT", count_tokens(part["text"])
    audio = audio_tokens(part)
    if audio is not None:
        return "AUDIO", audio
    for media in ("inlineData", "fileData"):
        if isinstance(part.get(media), dict):
            return _modality(str(part[media].get("mimeType", ""))), INLINE_PART_TOKENS
    for call in ("functionCall", "functionResponse"):
        if isinstance(part.get(call), dict):
            payload = part[call].get("args", part[call].get("response", {}))
            return "TEXT", count_tokens(f"{part[call].get('name', '')} {json.dumps(payload)}")
    if isinstance(part.get("executableCode"), dict):
        return "TEXT", count_tokens(str(part["executableCode"].get("code", "")))
    if isinstance(part.get("codeExecutionResult"), dict):
        return "TEXT", count_tokens(str(part["codeExecutionResult"].get("output", "")))
    return "TEXT", 0


def prompt_usage(contents: list[dict[str, Any]], system_instruction: dict[str, Any] | None
                 ) -> tuple[int, tuple[tuple[str, int], ...]]:
    """Total prompt tokens and the per-modality breakdown (TEXT first, like the real API)."""
    totals: dict[str, int] = {"TEXT": 0}
    for content in ([system_instruction] if system_instruction else []) + contents:
        for part in content.get("parts", []):
            modality, tokens = _part_usage(part)
            totals[modality] = totals.get(modality, 0) + tokens
    return sum(totals.values()), tuple(totals.items())


def _cut(text: str, stop_sequences: tuple[str, ...]) -> str:
    positions = [text.find(stop) for stop in stop_sequences if stop and stop in text]
    return text[: min(positions)] if positions else text


def recalled(contents: list[dict[str, Any]]) -> str | None:
    """The memory line of a multi-turn conversation (see the module docstring)."""
    user_texts = [
        " ".join(part["text"] for part in content.get("parts", []) if isinstance(part.get("text"), str)).strip()
        for content in contents if content.get("role", "user") == "user"
    ]
    user_texts = [text for text in user_texts if text]
    if len(user_texts) < 2:
        return None
    return "You said: " + re.split(r"(?<=[.!?])\s", user_texts[0], maxsplit=1)[0]


def read_turn(request: GenerateRequest, contents: list[dict[str, Any]], sources: int | None = None,
              hear: str | None = None) -> Turn:
    user_text = last_user_text(contents)
    hearing = hearing_of(contents, user_text, hear)
    if hearing is not None:
        return Turn(user_text, "", (), None, hearing=hearing)
    plain = request.response_format.mime_type == MIME_TYPES[0]
    search = search_for(user_text, sources) if request.tools.search and plain else None
    responses = function_responses(contents)
    sentences = media_sentences(contents) + response_sentences(responses)
    memory = recalled(contents)
    if memory:
        sentences.append(memory)
    return Turn(user_text, " ".join(sentences),
                chosen_functions(request.tools, user_text, bool(responses), called_since_user_text(contents)),
                place_in(user_text), search)


def _plain_text(directives: Directives, seed: int, chunk_tokens: int, prefix: str,
                grounded: bool = False) -> str:
    length = directives.tokens if directives.tokens is not None else default_length(seed)
    if directives.fault in MID_STREAM_FAULTS and directives.tokens is None:
        # Long enough that the fault really happens mid-stream.
        length = max(length, ((directives.after or 1) + 2) * chunk_tokens)

    def body(tokens: int) -> str:
        return localize(compose(seed, tokens), seed) if grounded else compose(seed, tokens)

    if not prefix:
        return body(length)
    if directives.tokens is not None:
        return truncate_tokens(f"{prefix} {body(max(1, length - count_tokens(prefix)))}", length)
    return f"{prefix} {body(max(MIN_BODY, length - count_tokens(prefix)))}"


def plan_candidate(model: Model, request: GenerateRequest, directives: Directives, seed: int,
                   index: int, chunk_tokens: int, turn: Turn, thoughts: int | None
                   ) -> CandidatePlan:
    """The parts and finishReason of one candidate, after every limit has been applied."""
    budget = None if request.max_output_tokens is None else (
        request.max_output_tokens - (thoughts or 0))
    if budget is not None and budget <= 0:
        return CandidatePlan(index, "", "MAX_TOKENS", seed=seed)
    thought = summary(seed, thoughts) if request.thinking.include_thoughts and thoughts else ""
    if turn.functions:
        calls = tuple(make_call(d, seed_for(seed, d.name), turn.place) for d in turn.functions)
        if budget is not None and sum(call.tokens for call in calls) > budget:
            return CandidatePlan(index, "", "MAX_TOKENS", thought, seed=seed)
        return CandidatePlan(index, "", directives.finish or "STOP", thought, calls,
                             issue(model.id, calls[0].name, calls[0].args), seed)
    body_start = 0 if directives.say is not None or not turn.prefix else len(turn.prefix) + 1
    if directives.say is not None:
        full = directives.say
    elif turn.hearing is not None:
        full = turn.hearing.render(request.response_format, seed)
    else:
        full = render(request.response_format,
                      _plain_text(directives, seed, chunk_tokens, turn.prefix, turn.search is not None),
                      seed, turn.user_text, turn.place)
    text = _cut(full, request.stop_sequences)
    end, reason = count_tokens(text), "STOP"
    if directives.finish:
        if directives.after is not None:
            end = min(end, directives.after * chunk_tokens)
        reason = directives.finish
    if budget is not None and budget < end:
        end, reason = budget, "MAX_TOKENS"
    text = truncate_tokens(text, end)
    grounding = None
    if turn.search is not None and text:
        grounding = grounding_metadata(turn.search, text, body_start, seed, 1 if thought else 0)
    return CandidatePlan(index, text, reason, thought, seed=seed, grounding=grounding)


def answer_seed(model: Model, request: GenerateRequest, contents: list[Any], index: int) -> int:
    sampling = {key: request.generation_config.get(key) for key in _SAMPLING_KEYS}
    return seed_for(model.id, contents, request.system_instruction, sampling, index)


def plan_answer(model: Model, request: GenerateRequest, directives: Directives,
                contents: list[Any], response_id: str, chunk_tokens: int) -> AnswerPlan:
    """The whole answer to a generateContent request whose directives were stripped.

    The thinking config is assumed to be checked against the model already
    (thinking.check_thinking), as the app does before any fault directive applies.
    """
    prompt_tokens, details = prompt_usage(contents, request.system_instruction)
    seeds = [answer_seed(model, request, contents, i) for i in range(request.candidate_count)]
    thoughts = thoughts_tokens(model, request.thinking, seeds[0], directives.thoughts)
    if thoughts and request.max_output_tokens is not None:
        thoughts = min(thoughts, request.max_output_tokens)
    if directives.fault == "block":
        return AnswerPlan(model.id, response_id, prompt_tokens, details, None, (), blocked=True)
    turn = read_turn(request, contents, directives.sources, directives.hear)
    candidates = tuple(
        plan_candidate(model, request, directives, seed, index, chunk_tokens, turn, thoughts)
        for index, seed in enumerate(seeds)
    )
    searched = turn.search is not None and any(candidate.grounding for candidate in candidates)
    return AnswerPlan(model.id, response_id, prompt_tokens, details, thoughts, candidates,
                      logprobs=request.logprobs, split_stop=needs_signatures(model.id),
                      tool_use_tokens=turn.search.tool_tokens if searched and turn.search else 0)
