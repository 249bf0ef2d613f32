"""Client keys: who is calling, by name (keys themselves are never logged or shown).

Keys come from GATEWAY_API_KEYS (comma-separated entries) and/or a keys file (one entry per
line, `#` comments). An entry is `KEY [NAME] [rpm=N] [tpm=N]`: the key, an optional name used
in logs, metrics and rate-limit messages, and optional per-key rate limits.

A key without a name is labelled by its place among the entries (`key-3`), and a pass-through
client `passthrough`: labels are shown in /metrics and logs, and any label derived from the key
(even a short hash) would let whoever reads them confirm a guess of a short key offline. Rate
limits count by `limit_id` (the key's SHA-256), never by the label.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gemini_proxy.config import Settings, SettingsError
from gemini_proxy.errors import ApiError, missing_client_key, wrong_client_key

# Azure's, and Google's (Gemini's SDKs and CLI send x-goog-api-key; empty counts as missing).
_HEADERS = ("api-key", "x-api-key", "x-goog-api-key")


@dataclass(frozen=True)
class Client:
    name: str  # the label in logs, metrics and messages
    rpm: int | None = None  # None: the default limit
    tpm: int | None = None
    gemini_key: str | None = field(default=None, repr=False)  # pass-through mode: the key sent to Gemini
    limit_id: str = field(default="", repr=False)  # what rate limits count by ("": the name)


ANONYMOUS = Client("anonymous")
PASS_THROUGH = "passthrough"


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _limit(entry: str, word: str) -> tuple[str, int]:
    name, _, value = word.partition("=")
    if name not in ("rpm", "tpm") or not value.isdigit():
        raise SettingsError(f"API key entry {entry!r}: {word!r} is not rpm=N or tpm=N")
    return name, int(value)


def parse_entry(entry: str, place: int = 1) -> tuple[bytes, Client]:
    """An entry's key digest and client; `place` (from 1) labels a key that has no name."""
    key, *rest = entry.split()
    limits = dict(_limit(entry, word) for word in rest if "=" in word)
    names = [word for word in rest if "=" not in word]
    if len(names) > 1:
        raise SettingsError("an API key entry has one key, one optional name and optional rpm=/tpm=")
    digest = _digest(key)
    name = names[0] if names else f"key-{place}"
    return digest, Client(name, limits.get("rpm"), limits.get("tpm"), limit_id=digest.hex())


def _entries(settings: Settings) -> list[str]:
    entries = [e.strip() for e in settings.gateway_api_keys.split(",")]
    if settings.gateway_api_keys_file:
        lines = Path(settings.gateway_api_keys_file).read_text().splitlines()
        entries += [line.split("#", 1)[0].strip() for line in lines]
    return [entry for entry in entries if entry]


def presented_key(headers: Mapping[str, str], query_key: str | None = None) -> str | None:
    """The key a client sent: `Authorization: Bearer <key>`, `api-key`/`x-api-key` (Azure) or
    `x-goog-api-key`, or Google's `?key=` (`query_key`, taken on Gemini's routes only)."""
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    found = next((headers[h].strip() for h in _HEADERS if headers.get(h, "").strip()), None)
    return found or (query_key.strip() if query_key and query_key.strip() else None)


class KeyRing:
    def __init__(self, settings: Settings):
        self._clients = [parse_entry(entry, place) for place, entry in enumerate(_entries(settings), 1)]
        self.pass_through = settings.pass_through_keys

    @property
    def open(self) -> bool:
        return not self._clients and not self.pass_through

    @property
    def sets_limits(self) -> bool:
        """Whether some key has its own rpm=/tpm=."""
        return any(client.rpm or client.tpm for _, client in self._clients)

    def client_for(self, headers: Mapping[str, str], query_key: str | None = None) -> Client:
        """The calling client, or a 401 in OpenAI's words (Gemini's 403 or 400 on Gemini's routes)."""
        if self.open:
            return ANONYMOUS
        key = presented_key(headers, query_key)
        if key is None:
            raise missing_client_key()
        if self.pass_through:
            return Client(PASS_THROUGH, gemini_key=key, limit_id=_digest(key).hex())
        digest, found = _digest(key), None
        for known, client in self._clients:
            # Compared with every key, in constant time, so timing tells nothing.
            if hmac.compare_digest(known, digest):
                found = client
        if found is None:
            raise wrong_client_key()
        return found


def check_metrics_token(headers: Mapping[str, str], token: str | None) -> None:
    """/metrics with METRICS_TOKEN set needs `Authorization: Bearer <token>`; a 401 otherwise."""
    if token is None:
        return
    presented = presented_key(headers) or ""
    if not hmac.compare_digest(_digest(presented), _digest(token)):
        raise ApiError(401, "/metrics needs the metrics token: Authorization: Bearer METRICS_TOKEN.",
                       "invalid_request_error", None, "invalid_api_key", {"WWW-Authenticate": "Bearer"})
