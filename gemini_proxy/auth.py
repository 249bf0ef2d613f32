"""Client keys: who is calling, by name (keys themselves are never logged or shown).

Keys come from GATEWAY_API_KEYS (comma-separated entries) and/or a keys file (one entry per
line, `#` comments). An entry is `KEY [NAME] [rpm=N] [tpm=N]`: the key, an optional name used
in logs, metrics and rate-limit messages, and optional per-key rate limits.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from .config import Settings, SettingsError
from .errors import ApiError

_HEADERS = ("api-key", "x-api-key")


@dataclass(frozen=True)
class Client:
    name: str
    rpm: int | None = None  # None: the default limit
    tpm: int | None = None
    gemini_key: str | None = None  # pass-through mode: the key sent to Gemini


ANONYMOUS = Client("anonymous")


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _limit(entry: str, word: str) -> tuple[str, int]:
    name, _, value = word.partition("=")
    if name not in ("rpm", "tpm") or not value.isdigit():
        raise SettingsError(f"API key entry {entry!r}: {word!r} is not rpm=N or tpm=N")
    return name, int(value)


def parse_entry(entry: str) -> tuple[bytes, Client]:
    key, *rest = entry.split()
    limits = dict(_limit(entry, word) for word in rest if "=" in word)
    names = [word for word in rest if "=" not in word]
    if len(names) > 1:
        raise SettingsError("an API key entry has one key, one optional name and optional rpm=/tpm=")
    name = names[0] if names else f"key-{_digest(key).hex()[:8]}"
    return _digest(key), Client(name, limits.get("rpm"), limits.get("tpm"))


def _entries(settings: Settings) -> list[str]:
    entries = [e.strip() for e in settings.gateway_api_keys.split(",")]
    if settings.gateway_api_keys_file:
        lines = Path(settings.gateway_api_keys_file).read_text().splitlines()
        entries += [line.split("#", 1)[0].strip() for line in lines]
    return [entry for entry in entries if entry]


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key a client sent: `Authorization: Bearer <key>`, or Azure-style `api-key`/`x-api-key`."""
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return next((headers[h].strip() for h in _HEADERS if headers.get(h, "").strip()), None)


class KeyRing:
    def __init__(self, settings: Settings):
        self._clients = [parse_entry(entry) for entry in _entries(settings)]
        self.pass_through = settings.pass_through_keys

    @property
    def open(self) -> bool:
        return not self._clients and not self.pass_through

    @property
    def sets_limits(self) -> bool:
        """Whether some key has its own rpm=/tpm=."""
        return any(client.rpm or client.tpm for _, client in self._clients)

    def client_for(self, headers: Mapping[str, str]) -> Client:
        """The calling client, or a 401 in OpenAI's words."""
        if self.open:
            return ANONYMOUS
        key = presented_key(headers)
        if key is None:
            raise ApiError(401, "You didn't provide an API key. You need to provide your API key in an "
                                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                           "invalid_request_error", None, "invalid_api_key")
        if self.pass_through:
            return Client(f"passthrough-{_digest(key).hex()[:8]}", gemini_key=key)
        digest, found = _digest(key), None
        for known, client in self._clients:
            # Compared with every key, in constant time, so timing tells nothing.
            if hmac.compare_digest(known, digest):
                found = client
        if found is None:
            raise ApiError(401, "Incorrect API key provided.", "invalid_request_error", None, "invalid_api_key")
        return found
