"""Grounding with Google Search: the search tools, and the groundingMetadata of a grounded answer.

Accepted: tools[] entries {"googleSearch": {...}} (its options, e.g. timeRangeFilter, are
accepted and ignored) and the older {"googleSearchRetrieval": {"dynamicRetrievalConfig": ...}},
treated the same (real gemini-2.x and later models may refuse it; the emulator grounds either).
Refused with 400 INVALID_ARGUMENT, as Gemini answers them:
  - a search tool together with functionDeclarations: "Tool use with function calling is
    unsupported by the model." on gemini-2.x; gemini-3 models accept the mix only with
    toolConfig.includeServerSideToolInvocations true, else "Please enable
    tool_config.include_server_side_tool_invocations to use Built-in tools with Function calling."
    (the emulator does not return the toolCall/toolResponse parts of that mode);
  - a search tool with toolConfig.functionCallingConfig but no functionDeclarations: "Function
    calling config is set without function_declarations." (tools module).

Grounded: an answer in plain text (not function calls, not JSON or enum output) to a request with
a search tool whose last user turn has words. The directive `sources=N` sets how many pages the
search found (0: the model did not search, the answer has no groundingMetadata); by default 2-4,
seeded by the user's text, so every candidate of a request shares one search.

candidate.groundingMetadata (after finishReason), Gemini's documented GroundingMetadata:
    webSearchQueries    the user's last text, lower-cased words (at most 8 per query), one query
                        per part split at " and "
    searchEntryPoint    {renderedContent: an HTML/CSS snippet with one search chip per query}
    groundingChunks     [{web: {uri: "https://vertexaisearch.cloud.google.com/grounding-api-
                        redirect/<token>", title: "<domain>"}}]
    groundingSupports   [{segment: {partIndex?, startIndex?, endIndex, text},
                          groundingChunkIndices: [i, ...], confidenceScores: [0..1, ...]}]
Segments: one per sentence of the answer's generated text (the opening sentences about media,
function results or the conversation are not grounded); all of a say= text. startIndex and
endIndex are UTF-8 BYTE offsets into the answer's text Part (Gemini's Segment is "measured in
bytes"), and partIndex is that Part's index in the content (1 after a thought summary). proto3
JSON omits zero values, so the first segment has no startIndex and partIndex appears only when
it is not 0. Each generated sentence of a grounded answer opens with a non-ASCII word (LEADS: 2,
3 and 4-byte UTF-8; the emoji is two UTF-16 code units), so offsets counted in bytes, characters
and UTF-16 units all differ: a gateway that confuses them cites the wrong text.

usageMetadata gains toolUsePromptTokenCount and toolUsePromptTokensDetails (the search results
the model read, in totalTokenCount), as recorded grounded traffic has them.

Streams: the text streams as usual, without finishReason; one more event ends the candidate with
its finishReason and groundingMetadata and no content, as grounded Gemini streams end (the final
chunk "carries groundingMetadata but no content key", BerriAI/litellm PR 23661). Its offsets are
into the candidate's whole text, the concatenation of its deltas.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import random
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from gemini_emulator.errors import invalid_argument
from gemini_emulator.text import seed_for

SEARCH_TOOLS = ("googleSearch", "googleSearchRetrieval")
# One token each for the tokenizer (a word run, or one symbol), so swapping a sentence's first
# word for one keeps every token count exact.
LEADS = ("Über", "東京", "🌍", "Zürich", "Ελλάδα", "Café", "São", "naïve")
DOMAINS = ("en.wikipedia.org", "reuters.com", "bbc.co.uk", "nature.com", "lemonde.fr", "zeit.de",
           "nhk.or.jp", "elpais.com", "theguardian.com", "britannica.com")
MAX_SOURCES = 10
_REDIRECT = "https://vertexaisearch.cloud.google.com/grounding-api-redirect/"
_QUERY_WORDS = 8
_SENTENCE = re.compile(r"[^\s.!?][^.!?]*(?:[.!?]+|$)")
_SENTENCE_START = re.compile(r"(?:^|(?<=[.!?] ))\w+")
_TOOL_USE_TOKENS = (40, 120)  # per page read
_STYLE = (".container { align-items: center; border-radius: 8px; display: flex; font-family: "
          "Google Sans, Roboto, sans-serif; font-size: 14px; line-height: 20px; padding: 8px 12px; }\n"
          ".chip { display: inline-block; border: solid 1px; border-radius: 16px; min-width: 14px; "
          "padding: 5px 16px; text-align: center; user-select: none; margin: 0 8px; }\n"
          ".carousel { overflow: auto; scrollbar-width: none; white-space: nowrap; margin-right: -12px; }")


@dataclass(frozen=True)
class Search:
    """What the model found for one request: shared by its candidates."""

    queries: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]  # (uri, title)
    tool_tokens: int  # toolUsePromptTokenCount


def search_tool(tool: Any) -> bool:
    """Whether one tools[] entry (key-normalised) is a Google Search tool."""
    return isinstance(tool, dict) and any(isinstance(tool.get(name), dict) for name in SEARCH_TOOLS)


def check_search(model_id: str, search: bool, declarations: int, server_side: bool) -> None:
    """Gemini's refusals of a search tool next to function declarations (module docstring)."""
    if not search or not declarations:
        return
    if not model_id.startswith("gemini-3"):
        raise invalid_argument("Tool use with function calling is unsupported by the model.")
    if not server_side:
        raise invalid_argument("Please enable tool_config.include_server_side_tool_invocations to use "
                               "Built-in tools with Function calling.")


def queries_for(user_text: str) -> tuple[str, ...]:
    parts = re.split(r"\s+and\s+", user_text.lower())
    queries = (" ".join(re.findall(r"\w+", part)[:_QUERY_WORDS]) for part in parts)
    return tuple(query for query in queries if query)


def search_for(user_text: str, sources: int | None) -> Search | None:
    """The search of a request (None: the model did not search)."""
    queries = queries_for(user_text)
    if not queries or sources == 0:
        return None
    rng = random.Random(seed_for("search", user_text))
    count = sources if sources is not None else rng.randint(2, 4)
    titles = [DOMAINS[(rng.randrange(len(DOMAINS)) + i) % len(DOMAINS)] for i in range(count)]
    uris = [_REDIRECT + base64.urlsafe_b64encode(
        hashlib.shake_256(f"{user_text}/{i}".encode()).digest(96)).decode() for i in range(count)]
    tokens = sum(rng.randint(*_TOOL_USE_TOKENS) for _ in range(count))
    return Search(queries, tuple(zip(uris, titles, strict=True)), tokens)


def localize(body: str, seed: int) -> str:
    """Generated text whose sentences each open with a non-ASCII word (same token count)."""
    count = itertools.count(seed)
    return _SENTENCE_START.sub(lambda _: LEADS[next(count) % len(LEADS)], body)


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _score(rng: random.Random) -> float:
    return float(f"{rng.uniform(0.55, 0.99):.8g}")


def supports(text: str, body_start: int, sources: int, seed: int, part_index: int) -> list[dict[str, Any]]:
    """groundingSupports of an answer text whose grounded sentences start at body_start."""
    rng = random.Random(seed ^ 0x6A0D)
    found = []
    for number, match in enumerate(_SENTENCE.finditer(text, body_start)):
        sentence = match.group().rstrip()
        start = _utf8_len(text[: match.start()])
        segment: dict[str, Any] = {}
        if part_index:
            segment["partIndex"] = part_index
        if start:
            segment["startIndex"] = start
        segment["endIndex"] = start + _utf8_len(sentence)
        segment["text"] = sentence
        chunks = [number % sources] + ([(number + 1) % sources] if sources > 1 and rng.random() < 0.4 else [])
        found.append({"segment": segment, "groundingChunkIndices": chunks,
                      "confidenceScores": [_score(rng) for _ in chunks]})
    return found


def entry_point(queries: tuple[str, ...]) -> dict[str, str]:
    chips = "\n".join(
        f'    <a class="chip" href="https://www.google.com/search?q={urllib.parse.quote_plus(query)}'
        f'&amp;client=app-vertex-grounding&amp;safesearch=active">{html.escape(query)}</a>'
        for query in queries)
    return {"renderedContent": f'<style>\n{_STYLE}\n</style>\n<div class="container">\n'
                               f'  <div class="headline">Google Search</div>\n  <div class="carousel">\n'
                               f'{chips}\n  </div>\n</div>\n'}


def grounding_metadata(search: Search, text: str, body_start: int, seed: int,
                       part_index: int) -> dict[str, Any]:
    """candidate.groundingMetadata of one grounded answer."""
    return {
        "webSearchQueries": list(search.queries),
        "searchEntryPoint": entry_point(search.queries),
        "groundingChunks": [{"web": {"uri": uri, "title": title}} for uri, title in search.sources],
        "groundingSupports": supports(text, body_start, len(search.sources), seed, part_index),
    }
