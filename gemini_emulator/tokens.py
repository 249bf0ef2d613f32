"""The emulator's one tokenizer.

A token is a run of word characters or a single punctuation character. Every count the
emulator reports (prompt, candidates, countTokens) and every cut it makes (max tokens, stream
chunks) uses this one definition, so the numbers always add up.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """Number of tokens in text."""
    return sum(1 for _ in _TOKEN.finditer(text))


def token_ends(text: str) -> list[int]:
    """End offset of every token in text.

    Cutting text at these offsets never splits a token, so the token counts of the pieces add
    up to the count of the whole (a word run always ends at a non-word character).
    """
    return [match.end() for match in _TOKEN.finditer(text)]


def chunk_text(text: str, size: int) -> list[str]:
    """Split text into stream deltas of `size` tokens each (the last may be shorter).

    Whitespace before a token travels with it and trailing whitespace joins the last piece,
    so "".join(pieces) == text. An empty text gives no pieces.
    """
    ends = token_ends(text)
    cuts = [ends[index - 1] for index in range(size, len(ends), size)]
    pieces, start = [], 0
    for cut in cuts:
        pieces.append(text[start:cut])
        start = cut
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def truncate_tokens(text: str, limit: int) -> str:
    """The first `limit` tokens of text (with the whitespace between them)."""
    ends = token_ends(text)
    if len(ends) <= limit:
        return text
    return text[: ends[limit - 1]] if limit > 0 else ""
