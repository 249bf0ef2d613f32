"""Log probabilities: generationConfig.responseLogprobs (+ logprobs = top-N, 0..20).

Every candidate with answer text gets
    avgLogprobs      logProbabilitySum / number of tokens
    logprobsResult   {"topCandidates": [{"candidates": [{token, logProbability} x N]} per token]
                      (only when N > 0), "chosenCandidates": [{token, logProbability} per
                      token], "logProbabilitySum"}
Tokens are the answer's tokens as emitted: each carries the whitespace before it (the last
also any trailing whitespace), so they join back into the text. Values are deterministic
(from the candidate seed, the position and the token), negative, and the chosen token is the
first, most likely, of its top candidates; the alternatives are other words of the generator
with the same leading whitespace. Thought summaries and function calls get no logprobs.

A stream carries, in each chunk, the logprobsResult (and avgLogprobs) of that chunk's tokens
only. `logprobs` without responseLogprobs is a 400, like Gemini.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from gemini_emulator.errors import invalid_argument
from gemini_emulator.text import vocabulary
from gemini_emulator.tokens import token_ends

_WORDS = vocabulary()


@dataclass(frozen=True)
class TokenLogprob:
    token: str
    logprob: float
    alternatives: tuple[tuple[str, float], ...]  # the top candidates, chosen first


def parse_logprobs(config: dict[str, Any]) -> int | None:
    """Top-N of a request that wants logprobs (0: chosen tokens only); None: no logprobs."""
    wanted = config.get("responseLogprobs") or False
    if not isinstance(wanted, bool):
        raise invalid_argument(f"Invalid value at 'generation_config.response_logprobs' "
                               f"({wanted!r}), TYPE_BOOL expected")
    top = config.get("logprobs") or 0  # range-checked with the other numbers (0..20)
    if top and not wanted:
        raise invalid_argument("* GenerateContentRequest.generation_config.logprobs: logprobs "
                               "can only be set when response_logprobs is true")
    return top if wanted else None


def split_tokens(text: str) -> list[str]:
    """The tokens of text as emitted ("".join(split_tokens(text)) == text)."""
    ends = token_ends(text)
    starts = [0, *ends[:-1]]
    tokens = [text[start:end] for start, end in zip(starts, ends, strict=True)]
    if tokens:
        tokens[-1] += text[ends[-1]:]
    return tokens


def token_logprobs(text: str, seed: int, top: int) -> list[TokenLogprob]:
    """One entry per emitted token of a candidate's text."""
    entries = []
    for position, token in enumerate(split_tokens(text)):
        rng = random.Random(f"{seed}:{position}:{token}")
        chosen = -round(rng.uniform(0.0001, 1.5), 6)
        lead = token[: len(token) - len(token.lstrip())]
        others = [word for word in rng.sample(_WORDS, top + 1) if lead + word != token][: top - 1]
        alternatives = [(token, chosen)]
        value = chosen
        for word in others:
            value = round(value - rng.uniform(0.5, 3.0), 6)
            alternatives.append((lead + word, value))
        entries.append(TokenLogprob(token, chosen, tuple(alternatives[:top])))
    return entries


def logprobs_fields(entries: list[TokenLogprob], top: int) -> dict[str, Any]:
    """avgLogprobs and logprobsResult of these tokens ({} when there are none)."""
    if not entries:
        return {}
    total = round(sum(entry.logprob for entry in entries), 6)
    result: dict[str, Any] = {}
    if top > 0:
        result["topCandidates"] = [
            {"candidates": [{"token": token, "logProbability": value}
                            for token, value in entry.alternatives]}
            for entry in entries]
    result["chosenCandidates"] = [{"token": entry.token, "logProbability": entry.logprob}
                                  for entry in entries]
    result["logProbabilitySum"] = total
    return {"avgLogprobs": total / len(entries), "logprobsResult": result}
