"""Gemini state carried by stateless clients inside a reasoning item's encrypted_content.

Codex sends store:false and returns every item without an id, so the gateway cannot find a
Gemini 3 thought signature in its own store by item id; it can only get one back from the
client. The blob is `gp1.` + base64url(JSON) + `.` + base64url(HMAC-SHA256(key, JSON)): tagged
so that a client cannot make the gateway replay a signature it forged into another model's
history, and prefixed so that foreign blobs (OpenAI's gAAAA... Fernet tokens, which clients
also send back here after switching providers) are told apart without an error.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass, field

PREFIX = "gp1."
VERSION = 1
# A blob holds a turn's signatures; anything far larger was not made here.
MAX_BLOB_CHARS = 1 << 20


@dataclass(frozen=True)
class CarriedState:
    signatures: dict[str, str] = field(default_factory=dict)  # call_id -> thought signature
    gemini_ids: dict[str, str] = field(default_factory=dict)  # call_id -> Gemini functionCall.id
    text_signature: str | None = None  # the signature of the turn's last text part
    family: str = ""  # translate/families.py Family.name of the model that made it


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _tag(payload: bytes, key: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


def encode(state: CarriedState, key: bytes) -> str:
    document = {"v": VERSION, "fam": state.family, "sig": dict(state.signatures), "gid": dict(state.gemini_ids)}
    if state.text_signature is not None:
        document["txt"] = state.text_signature
    payload = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    return f"{PREFIX}{_b64(payload)}.{_b64(_tag(payload, key))}"


def _str_map(value) -> dict[str, str] | None:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return None
    return dict(value)


def decode(blob: str, key: bytes) -> CarriedState | None:
    """The state sealed in `blob`, or None for anything this gateway did not seal with `key`."""
    if not isinstance(blob, str) or not blob.startswith(PREFIX) or len(blob) > MAX_BLOB_CHARS:
        return None
    body, _, tag = blob[len(PREFIX):].partition(".")
    try:
        payload, given = _unb64(body), _unb64(tag)
    except (binascii.Error, ValueError):
        return None
    if not hmac.compare_digest(given, _tag(payload, key)):
        return None
    try:
        document = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("v") != VERSION:
        return None
    signatures, gemini_ids = _str_map(document.get("sig", {})), _str_map(document.get("gid", {}))
    text_signature, family = document.get("txt"), document.get("fam", "")
    if signatures is None or gemini_ids is None or not isinstance(family, str) \
            or not (text_signature is None or isinstance(text_signature, str)):
        return None
    return CarriedState(signatures, gemini_ids, text_signature, family)
