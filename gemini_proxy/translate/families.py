"""What differs between Gemini model families, in one table.

Matched by model-id prefix, most specific first. Thinking is configured by a token budget on
2.5 models and by a level on 3.x models, and each family accepts different values (Gemini
rejects the others with a 400), so reasoning_effort is mapped per family. Gemini 3 models
also refuse a function-call history that lost its thought signatures. Image models (IMAGE_FAMILIES):
Imagen answers :predict, not generateContent, and only some families draw 2K.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    name: str
    # OpenAI reasoning_effort -> thinking_budget (int) or thinking_level (str); empty: no thinking.
    efforts: Mapping[str, int | str]
    needs_signatures: bool = False

    @property
    def thinks(self) -> bool:
        return bool(self.efforts)

    def thinking(self, effort: str) -> dict:
        """The thinking_config field that sets `effort` here: a level (3.x) or a budget (2.5)."""
        value = self.efforts[effort]
        return {"thinking_level" if isinstance(value, str) else "thinking_budget": value}


_BUDGETS = {"none": 0, "minimal": 512, "low": 1024, "medium": 8192, "high": 24576}

FAMILIES = (
    # 3 Pro knows only LOW and HIGH, and cannot stop thinking.
    ("gemini-3-pro", Family("gemini-3-pro", {"none": "LOW", "minimal": "LOW", "low": "LOW",
                                             "medium": "HIGH", "high": "HIGH"}, needs_signatures=True)),
    ("gemini-3", Family("gemini-3", {"none": "MINIMAL", "minimal": "MINIMAL", "low": "LOW",
                                     "medium": "MEDIUM", "high": "HIGH"}, needs_signatures=True)),
    # 2.5 Pro cannot stop thinking: its smallest budget is 128.
    ("gemini-2.5-pro", Family("gemini-2.5-pro", {"none": 128, "minimal": 128, "low": 1024,
                                                 "medium": 8192, "high": 32768})),
    ("gemini-2.5-flash-lite", Family("gemini-2.5-flash-lite", _BUDGETS)),
    ("gemini-2.5", Family("gemini-2.5", _BUDGETS)),
)
NON_THINKING = Family("non-thinking", {})


@functools.lru_cache(maxsize=256)
def family_of(model: str) -> Family:
    """Cached: looked up on every request (the models a gateway serves are few)."""
    return next((family for prefix, family in FAMILIES if model.startswith(prefix)), NON_THINKING)


@dataclass(frozen=True)
class ImageFamily:
    imagen: bool  # answers :predict (Imagen), not generateContent
    sizes: tuple[str, ...]  # imageSize (Imagen: sampleImageSize) values
    edits: bool = True


# The images API's families: model id prefix -> family, first match wins.
IMAGE_FAMILIES = (
    ("imagen-4.0-fast", ImageFamily(True, ("1K",), edits=False)),
    ("imagen-", ImageFamily(True, ("1K", "2K"), edits=False)),
    ("gemini-3-pro-image", ImageFamily(False, ("1K", "2K", "4K"))),
)
GEMINI_IMAGE = ImageFamily(False, ("1K",))


def image_family(model: str) -> ImageFamily:
    bare = model.removeprefix("models/")
    return next((family for prefix, family in IMAGE_FAMILIES if bare.startswith(prefix)), GEMINI_IMAGE)
