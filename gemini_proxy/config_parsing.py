"""How a setting is read: the metadata every field of Settings and ServerSettings carries (its
variable, parser, group and description), and the parsers that check each value at start."""
from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path


class SettingsError(ValueError):
    """A setting has a value that cannot be used; raised at start, never per request."""


class FromEnvironment:
    """Settings classes read from the environment (each field's metadata: setting())."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None):
        """The settings from a mapping of environment variables (os.environ when not given). An
        unset or empty variable means the default (except where a field keeps empty values); a
        value that cannot be used raises SettingsError naming the variable."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            name = f.metadata["env"]
            text = environ.get(name)
            if text is None or (not text.strip() and not f.metadata["keep_empty"]):
                continue
            try:
                values[f.name] = f.metadata["cast"](text)
            except (TypeError, ValueError) as exc:
                raise SettingsError(f"{name}={text!r}: {exc}") from exc
        return cls(**values)


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


@dataclass(frozen=True)
class UpstreamKey:
    """One Gemini key of GEMINI_API_KEYS: the key (never shown), its name in logs and metrics,
    its share of the calls."""
    key: str = field(repr=False)
    name: str
    weight: int = 1
    sent: bool = True  # False: a stand-in for a Vertex AI account, never sent as a key


# What the SDK is given when no key is set (the emulator takes any key; the SDK refuses to start without one).
STAND_IN_KEY = "emulator"
_KEY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_LOOKS_LIKE_A_KEY = re.compile(r"AIza[0-9A-Za-z_-]{20,}")


def parse_upstream_keys(entries: list[tuple[str, str]]) -> tuple[UpstreamKey, ...]:
    """Gemini keys from (where, entry) pairs, `where` naming the variable and the entry's place
    ("GEMINI_API_KEYS entry 2"). An entry is `KEY [NAME] [weight=N]`; a key without a name is
    `key-<place among all entries>`. Messages name where, never the key (nor a name that may be
    one: "KEY1 KEY2" with the comma left out would make the second key a name)."""
    keys: dict[str, str] = {}
    names: dict[str, str] = {}
    parsed = []
    for place, (where, entry) in enumerate(entries, 1):
        key, *rest = entry.split()
        options = dict(word.partition("=")[::2] for word in rest if "=" in word)
        words = [word for word in rest if "=" not in word]
        if set(options) - {"weight"}:
            raise SettingsError(f"{where}: unknown option {sorted(set(options) - {'weight'})[0]}= (only weight=N)")
        if not options.get("weight", "1").isdigit() or int(options.get("weight", "1")) < 1:
            raise SettingsError(f"{where}: weight= must be a whole number of at least 1")
        if len(words) > 1 or (words and (not _KEY_NAME.fullmatch(words[0]) or _LOOKS_LIKE_A_KEY.match(words[0]))):
            raise SettingsError(f"{where}: an entry is KEY [NAME] [weight=N], a name 1-64 letters, digits, "
                                "'.', '_' or '-' (is a comma missing between two keys?)")
        name = words[0] if words else f"key-{place}"
        if key in keys:
            raise SettingsError(f"{where}: the same key as {keys[key]}")
        if name in names:
            raise SettingsError(f"{where}: the same name as {names[name]}")
        keys[key] = names[name] = where
        parsed.append(UpstreamKey(key, name, int(options.get("weight", "1"))))
    return tuple(parsed)


def upstream_keys_from(text: str, file: str | None, single: str | None) -> tuple[UpstreamKey, ...]:
    """The keys of GEMINI_API_KEYS and GEMINI_API_KEYS_FILE, or else GEMINI_API_KEY alone (a pool
    of one), or else the built-in emulator's stand-in (it takes any key; the SDK needs one)."""
    if single and (text.strip() or file):
        raise SettingsError("GEMINI_API_KEY and GEMINI_API_KEYS (or GEMINI_API_KEYS_FILE) are both set: use one")
    entries = [(f"GEMINI_API_KEYS entry {n}", e)
               for n, e in enumerate(filter(None, (e.strip() for e in text.split(","))), 1)]
    if file:
        try:
            lines = Path(file).read_text().splitlines()
        except OSError as exc:
            raise SettingsError(f"GEMINI_API_KEYS_FILE={file!r}: {exc.strerror}") from None
        entries += [(f"GEMINI_API_KEYS_FILE line {n}", e) for n, line in enumerate(lines, 1)
                    if (e := line.split("#", 1)[0].strip())]
    if (file or text.strip()) and not entries:
        raise SettingsError("GEMINI_API_KEYS (and GEMINI_API_KEYS_FILE) hold no key")
    return parse_upstream_keys(entries) if entries else (UpstreamKey(single or STAND_IN_KEY, "key-1"),)


def check_service_account_file(path: str, where: str | None = None) -> None:
    """A readable service-account JSON key (checked at start; loaded by the SDK's google-auth in
    upstream/client.py); `where` names the setting in messages (default: VERTEX_CREDENTIALS_FILE=path)."""
    where = where or f"VERTEX_CREDENTIALS_FILE={path!r}"
    try:
        info = json.loads(Path(path).read_text())
    except OSError as exc:
        raise SettingsError(f"{where}: {exc.strerror}") from None
    except ValueError:
        raise SettingsError(f"{where}: not JSON") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise SettingsError(f"{where}: not a service-account key (\"type\": "
                            "\"service_account\"); for gcloud user credentials leave it unset (Application "
                            "Default Credentials)")
    missing = [name for name in ("client_email", "private_key", "token_uri") if not info.get(name)]
    if missing:
        raise SettingsError(f"{where}: the service-account key has no {', '.join(missing)}")


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
