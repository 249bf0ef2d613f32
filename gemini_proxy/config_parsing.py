"""How a setting is read: the metadata every field of Settings and ServerSettings carries (its
variable, parser, group and description), and the parsers that check each value at start."""
from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping


class SettingsError(ValueError):
    """A setting has a value that cannot be used; raised at start, never per request."""


def setting(name: str, group: str, doc: str, cast: Callable[[str], object] = str, *, keep_empty: bool = False) -> dict:
    """A field's metadata: the variable it is read from, its parser, and its group and one-line
    description in the docs. `keep_empty`: an empty value is parsed (its description says what it
    means) instead of meaning the default."""
    return {"env": name, "cast": cast, "group": group, "doc": doc, "keep_empty": keep_empty}


def parse_aliases(text: str) -> dict[str, str]:
    aliases = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        alias, sep, target = item.partition("=")
        if not sep or not alias.strip() or not target.strip():
            raise SettingsError(f"MODEL_ALIASES entry {item!r} is not alias=model")
        aliases[alias.strip()] = target.strip()
    return aliases


def parse_fallbacks(text: str) -> dict[str, tuple[str, ...]]:
    """MODEL_FALLBACKS: comma-separated chains `model>fallback>...` -> {model: (fallbacks, in order)},
    names as written (Settings resolves and checks them against the aliases)."""
    chains: dict[str, tuple[str, ...]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        names = [name.strip() for name in item.split(">")]
        if len(names) < 2 or not all(names):
            raise SettingsError(f"MODEL_FALLBACKS entry {item!r} is not model>fallback (or model>fallback>...)")
        if names[0] in chains:
            raise SettingsError(f"MODEL_FALLBACKS: {names[0]!r} starts two chains")
        chains[names[0]] = tuple(names[1:])
    return chains


def resolve_fallbacks(chains: Mapping[str, tuple[str, ...]], resolve: Callable[[str], str | None]
                      ) -> dict[str, tuple[str, ...]]:
    """MODEL_FALLBACKS resolved (`resolve`: a name -> its Gemini model id, None if none): model id
    -> its fallbacks' ids, in order. A name that is no model, a loop, two chains for one model
    (also through aliases) stop the start."""
    resolved: dict[str, tuple[str, ...]] = {}
    for head, fallbacks in chains.items():
        written, models = ">".join((head, *fallbacks)), []
        for name in (head, *fallbacks):
            if (model := resolve(name)) is None:
                raise SettingsError(f"MODEL_FALLBACKS {written}: {name!r} is neither an alias (MODEL_ALIASES) "
                                    "nor a Gemini model id")
            if model in models:
                raise SettingsError(f"MODEL_FALLBACKS {written}: a loop, {model} comes twice")
            models.append(model)
        if models[0] in resolved:
            raise SettingsError(f"MODEL_FALLBACKS {written}: {models[0]} already has a chain")
        resolved[models[0]] = tuple(models[1:])
    return resolved


def parse_safety(text: str) -> tuple[dict[str, str], ...]:
    settings = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        category, sep, threshold = item.partition("=")
        if not sep or not category.strip() or not threshold.strip():
            raise SettingsError(f"SAFETY_SETTINGS entry {item!r} is not HARM_CATEGORY_...=THRESHOLD")
        settings.append({"category": category.strip(), "threshold": threshold.strip()})
    return tuple(settings)


def optional(cast):
    def convert(text: str):
        return None if text.strip() == "" else cast(text)
    return convert


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def seconds(text: str) -> float:
    value = float(text)
    if not 0 < value < float("inf"):
        raise ValueError("must be a number of seconds above 0")
    return value


def bounded(low: int, high: int):
    def convert(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value
    return convert


def non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also refuses nan
        raise ValueError("must be 0 or more")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


def one_of(*choices: str):
    def convert(text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return value
    return convert


def boolean(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{text!r} is not a boolean")


def addresses(text: str) -> tuple[str, ...]:
    items = tuple(filter(None, (part.strip() for part in text.split(","))))
    if not items:
        raise ValueError("must name at least one address")
    return items


def networks(text: str) -> str:
    # gunicorn's own check (strict: 10.0.0.1/8 is refused, 10.0.0.0/8 is meant), made at start
    # with the variable's name instead of its traceback.
    items = addresses(text)
    for item in items:
        if item != "*":
            ipaddress.ip_network(item)
    return ",".join(items)
