"""Thinking: what each model accepts in thinkingConfig, and how many thoughts it reports.

The SDK sends thinkingConfig in snake_case (include_thoughts, thinking_budget, thinking_level);
wire.normalize_keys has camel-cased it before it gets here.

Per-model rules (RULES), checked like Gemini does, each violation a 400 INVALID_ARGUMENT:

    model                  thinkingBudget                 thinkingLevel
    gemini-2.5-flash       -1 (dynamic) or 0..24576       not supported
    gemini-2.5-flash-lite  -1, 0, or 512..24576           not supported
    gemini-2.5-pro         -1 or 128..32768 (0 refused)   not supported
    gemini-2.0-flash       no thinking at all: includeThoughts true or a budget other than 0
                           -> "Thinking is not supported for this model."
    gemini-3-pro-preview   -1 or 128..32768 (0 refused)   LOW or HIGH (not with a budget)
    gemini-3.1-pro-preview(-customtools), gemini-3.8-flash
                           -1 or 128..32768 (0 refused)   LOW, MEDIUM or HIGH
    gemini-3-flash-preview, gemini-3.5-flash-lite
                           -1 or 128..32768 (0 refused)   MINIMAL, LOW, MEDIUM or HIGH

Messages: "Budget 0 is invalid. This model only works in thinking mode.", "Budget N is
invalid. Please choose a value between LO and HI.", "Thinking level is not supported for this
model." (any level on a 2.x model), "Thinking level MEDIUM is not supported for this model."
(a level this model lacks), "You can only set one of thinking budget and thinking level.".

Thoughts (thoughtsTokenCount) of a request that thinks: exactly N with the directive
`thoughts=N` (0: none); otherwise seeded, 8-40 tokens (LOW: 8-20, HIGH: 20-40), at most a
positive budget. A model without thinking, or a budget of 0, reports none. Thoughts count
against maxOutputTokens (see generation). With includeThoughts the answer opens with a
thought-summary part ({"text": "**Thinking** ...", "thought": true}) whose tokens are part of
thoughtsTokenCount: the summary is cut to fit it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gemini_emulator.catalog import Model
from gemini_emulator.errors import invalid_argument
from gemini_emulator.text import compose, thoughts_length
from gemini_emulator.tokens import truncate_tokens

LEVELS = ("MINIMAL", "LOW", "MEDIUM", "HIGH", "XHIGH")
_UNSET_LEVEL = "THINKING_LEVEL_UNSPECIFIED"
_RANGE_BY_LEVEL = {"LOW": (8, 20), "HIGH": (20, 40)}
_DEFAULT_RANGE = (8, 40)
_SUMMARY_WORDS = 12


@dataclass(frozen=True)
class ThinkingConfig:
    """generationConfig.thinkingConfig as asked (not yet checked against the model)."""

    include_thoughts: bool = False
    budget: int | None = None
    level: str | None = None


@dataclass(frozen=True)
class ThinkingRule:
    budget_range: tuple[int, int]  # a positive budget must be inside
    can_disable: bool  # budget 0 allowed
    levels: frozenset[str] = frozenset()  # empty: thinkingLevel is refused


RULES: dict[str, ThinkingRule | None] = {
    "gemini-2.5-flash": ThinkingRule((0, 24576), can_disable=True),
    "gemini-2.5-flash-lite": ThinkingRule((512, 24576), can_disable=True),
    "gemini-2.5-pro": ThinkingRule((128, 32768), can_disable=False),
    "gemini-2.0-flash": None,
    "gemini-3-pro-preview": ThinkingRule((128, 32768), can_disable=False,
                                         levels=frozenset({"LOW", "HIGH"})),
    "gemini-3-flash-preview": ThinkingRule((128, 32768), can_disable=False,
                                           levels=frozenset({"MINIMAL", "LOW", "MEDIUM", "HIGH"})),
    "gemini-3.1-pro-preview": ThinkingRule((128, 32768), can_disable=False,
                                           levels=frozenset({"LOW", "MEDIUM", "HIGH"})),
    "gemini-3.1-pro-preview-customtools": ThinkingRule((128, 32768), can_disable=False,
                                                       levels=frozenset({"LOW", "MEDIUM", "HIGH"})),
    "gemini-3.8-flash": ThinkingRule((128, 32768), can_disable=False,
                                     levels=frozenset({"LOW", "MEDIUM", "HIGH"})),
    "gemini-3.5-flash-lite": ThinkingRule((128, 32768), can_disable=False,
                                          levels=frozenset({"MINIMAL", "LOW", "MEDIUM", "HIGH"})),
}
_FALLBACK = ThinkingRule((1, 32768), can_disable=True)  # a thinking model not in the table

_FIELD = "generation_config.thinking_config"


def parse_thinking(config: dict[str, Any]) -> ThinkingConfig:
    """The thinkingConfig of a generationConfig, type-checked (model rules come later)."""
    thinking = config.get("thinkingConfig") or {}
    if not isinstance(thinking, dict):
        raise invalid_argument(f"Invalid value at '{_FIELD}' ({thinking!r}): an object")
    include = thinking.get("includeThoughts") or False
    if not isinstance(include, bool):
        raise invalid_argument(f"Invalid value at '{_FIELD}.include_thoughts' ({include!r}), "
                               "TYPE_BOOL expected")
    budget = thinking.get("thinkingBudget")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int)
                               or budget < -1):
        raise invalid_argument(f"Invalid value at '{_FIELD}.thinking_budget' ({budget!r}): "
                               "an integer >= -1")
    level = thinking.get("thinkingLevel")
    if level is not None and level not in LEVELS + (_UNSET_LEVEL,):
        raise invalid_argument(
            f"Invalid value at '{_FIELD}.thinking_level' "
            f"(type.googleapis.com/google.ai.generativelanguage.v1beta.ThinkingLevel), "
            f"{json.dumps(level)}")
    return ThinkingConfig(include, budget, None if level == _UNSET_LEVEL else level)


def rule_for(model: Model) -> ThinkingRule | None:
    """The thinking rule of a model; None: it cannot think."""
    if model.id in RULES:
        return RULES[model.id]
    return _FALLBACK if model.thinking else None


def check_thinking(model: Model, thinking: ThinkingConfig) -> None:
    """Raise Gemini's 400 when this model cannot honour the thinkingConfig."""
    rule = rule_for(model)
    budget, level = thinking.budget, thinking.level
    if level is not None and (rule is None or not rule.levels):
        raise invalid_argument("Thinking level is not supported for this model.")
    if rule is None:
        if thinking.include_thoughts or budget not in (None, 0):
            raise invalid_argument("Thinking is not supported for this model.")
        return
    if level is not None and budget is not None:
        raise invalid_argument("You can only set one of thinking budget and thinking level.")
    if level is not None and level not in rule.levels:
        raise invalid_argument(f"Thinking level {level} is not supported for this model.")
    if budget == 0 and not rule.can_disable:
        raise invalid_argument("Budget 0 is invalid. This model only works in thinking mode.")
    low, high = rule.budget_range
    if budget is not None and budget > 0 and not low <= budget <= high:
        raise invalid_argument(f"Budget {budget} is invalid. Please choose a value between "
                               f"{low} and {high}.")


def thoughts_tokens(model: Model, thinking: ThinkingConfig, seed: int,
                    exact: int | None) -> int | None:
    """thoughtsTokenCount of an answer (None: no thinking; see the module docstring)."""
    if rule_for(model) is None or thinking.budget == 0:
        return None
    if exact is not None:
        return exact or None
    low, high = _RANGE_BY_LEVEL.get(thinking.level or "", _DEFAULT_RANGE)
    tokens = thoughts_length(seed, low, high)
    if thinking.budget is not None and thinking.budget > 0:
        tokens = min(tokens, thinking.budget)
    return tokens


def summary(seed: int, thoughts: int) -> str:
    """The thought-summary text of one candidate: at most `thoughts` tokens."""
    return truncate_tokens(f"**Thinking** {compose(seed ^ 0x5A11, _SUMMARY_WORDS)}", thoughts)
