"""Deterministic English-ish text: the same seed always gives the same words.

Sentences of 6-14 words from a tiny grammar (subject, verb, object, then prepositional and
adverbial tails), capitalised and ending with a period. Every word is one token and so is the
period, and tails of every length 1-4 exist, so a text of exactly N tokens can always be built.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from typing import Any

_WORDS = {
    kind: tuple(words.split())
    for kind, words in {
        "det": "the a this every each our that one",
        "adj": "quiet bright careful steady gentle rapid clear helpful small large early late "
               "ready honest patient curious practical modern ancient warm simple new",
        "noun": "system model answer question request server client gateway network message "
                "signal river mountain garden window library kitchen morning journey story "
                "idea plan method result pattern detail reason choice moment language number "
                "teacher student engineer traveler",
        "plural": "servers messages gardens windows ideas signals rivers mountains patterns "
                  "details reasons choices moments numbers results plans methods friends",
        "verb": "sends builds finds keeps makes shows takes gives reads writes moves holds "
                "brings checks follows explains returns measures carries changes opens closes",
        "intransitive": "works waits rests grows begins continues listens arrives improves",
        "adverb": "quickly slowly often again together carefully today quietly clearly here",
        "prep": "with from into over under about after before through between without near "
                "across beyond",
        "pronoun": "it this everything nothing",
        "interjection": "indeed certainly yes sure right absolutely agreed",
    }.items()
}
# Sentence tails by length in words: every length 1-4 exists, so any sentence length fits.
_EXTENSIONS = {
    1: ("adverb",),
    2: ("prep", "plural"),
    3: ("prep", "det", "noun"),
    4: ("prep", "det", "adj", "noun"),
}
_SENTENCE_WORDS = (6, 14)


def seed_for(*parts: Any) -> int:
    """A stable 64-bit seed from JSON-able parts (independent of PYTHONHASHSEED)."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return int.from_bytes(hashlib.sha256(blob.encode()).digest()[:8], "big")


def _pick(rng: random.Random, *kinds: str) -> list[str]:
    return [rng.choice(_WORDS[kind]) for kind in kinds]


def _sentence(rng: random.Random, tokens: int) -> list[str]:
    """One grammatical-looking sentence of exactly `tokens` tokens (words, then a period)."""
    words = tokens - 1
    if words <= 1:
        out = _pick(rng, "interjection")
    elif words == 2:
        out = _pick(rng, "pronoun", "intransitive")
    elif words == 3:
        out = _pick(rng, "det", "noun", "intransitive")
    else:
        out = _pick(rng, "det", "adj", "noun") if words >= 7 and rng.random() < 0.5 else (
            _pick(rng, "det", "noun"))
        room = words - len(out)
        out += _pick(rng, "verb", "det", "noun") if room >= 3 else _pick(rng, "intransitive")
        while len(out) < words:
            size = rng.choice([size for size in _EXTENSIONS if size <= words - len(out)])
            out += _pick(rng, *_EXTENSIONS[size])
    out[0] = out[0].capitalize()
    return out + ["."]


def _join(tokens: list[str]) -> str:
    text = ""
    for position, token in enumerate(tokens):
        following = tokens[position + 1] if position + 1 < len(tokens) else ""
        word = token + "n" if token.lower() == "a" and following[:1] in tuple("aeiou") else token
        text += word if word in ",." or not text else " " + word
    return text


# Pure and the costliest step of an answer: load tests repeat prompts, so it is cached.
@functools.lru_cache(maxsize=4096)
def compose(seed: int, tokens: int) -> str:
    """Text of exactly `tokens` tokens."""
    rng = random.Random(seed)
    if tokens <= 0:
        return ""
    if tokens == 1:
        return rng.choice(_WORDS["interjection"]).capitalize()
    out: list[str] = []
    remaining = tokens
    low, high = _SENTENCE_WORDS
    while remaining > high + 1:
        length = rng.randint(low, high) + 1
        # Never leave a one-token tail: it could only be a lone period.
        if remaining - length == 1:
            length -= 1
        out += _sentence(rng, length)
        remaining -= length
    out += _sentence(rng, remaining)
    return _join(out)


def default_length(seed: int) -> int:
    """How many tokens an answer has when the prompt does not say: 20-60."""
    return random.Random(seed ^ 0x5EED).randint(20, 60)


def thoughts_length(seed: int, low: int = 8, high: int = 40) -> int:
    """How many thinking tokens a thinking model reports: 8-40 unless told otherwise."""
    return random.Random(seed ^ 0x7400).randint(low, high)


def words(seed: int, count: int = 2) -> str:
    """`count` lower-case words (adjectives, then a noun): short string values."""
    rng = random.Random(seed)
    picked = [rng.choice(_WORDS["adj"]) for _ in range(count - 1)] + [rng.choice(_WORDS["noun"])]
    return " ".join(picked[-count:]) if count > 0 else ""


def vocabulary() -> tuple[str, ...]:
    """Every word the generator can emit (alternative tokens of logprobs come from here)."""
    return tuple(sorted({word for kind in _WORDS.values() for word in kind}))
