"""Thought signatures: issued with function calls, verified when they come back, and enforced
on the current turn for the models that need them (ids starting with "gemini-3").

Issued: the first functionCall part of a function-call candidate carries thoughtSignature, the
standard base64 of b"emu-sig:" + the first 16 bytes of HMAC-SHA256(KEY, model, name, canonical
args). KEY is a constant, so a signature stays valid across emulator restarts and processes
(gunicorn workers); it is bound to the call it came with, so a client that sends it back on
another call (or with other arguments) is caught. Canonical args: sorted keys, compact JSON,
integral floats written as integers (21.0 == 21 after a JSON round trip through some clients).

Checked: the model contents of the current turn (every content after the last user content
holding a text part) that hold functionCall parts; only the first functionCall part of each is
looked at, as Gemini does for parallel calls. Its signature (decoded leniently: the SDK sends
URL-safe base64) is one of
    verified  one the emulator issued for this model and call  -> counter signatures_verified
    dummy     Gemini's documented escape hatch, the base64 of b"skip_thought_signature_validator"
              or that raw string                                 -> counter signatures_dummy
    invalid   anything else
For a model that needs signatures, a missing one is a 400 INVALID_ARGUMENT naming the call and
its position (1-based index of the content in `contents`), and an invalid one is a 400
"Corrupted thought signature."; other models take signatures as optional and ignore invalid
ones. Nothing is counted for a request that is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from gemini_emulator.errors import invalid_argument
from gemini_emulator.wire import decode_base64, encode_base64, struct_value

KEY = b"gemini-proxy emulator / thought signatures / v1"
PREFIX = b"emu-sig:"
DUMMY = "skip_thought_signature_validator"
DOCS = "https://ai.google.dev/gemini-api/docs/thought-signatures"


def needs_signatures(model_id: str) -> bool:
    return model_id.startswith("gemini-3")


def _mac(model_id: str, name: str, args: Any) -> bytes:
    blob = json.dumps([model_id, name, struct_value(args or {})], sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)
    return hmac.new(KEY, blob.encode(), hashlib.sha256).digest()[:16]


def issue(model_id: str, name: str, args: Any) -> str:
    """The thoughtSignature of a function call made by this model."""
    return encode_base64(PREFIX + _mac(model_id, name, args))


def classify(model_id: str, name: str, args: Any, signature: Any) -> str:
    """"verified", "dummy" or "invalid" (see the module docstring)."""
    if signature == DUMMY:
        return "dummy"
    try:
        raw = decode_base64(signature)
    except ValueError:
        return "invalid"
    if raw == DUMMY.encode():
        return "dummy"
    expected = PREFIX + _mac(model_id, name, args)
    return "verified" if hmac.compare_digest(raw, expected) else "invalid"


@dataclass(frozen=True)
class SignatureTally:
    verified: int = 0
    dummy: int = 0


def current_turn_start(contents: list[dict[str, Any]]) -> int:
    """Index of the first content after the last user content that holds a text part."""
    for index in range(len(contents) - 1, -1, -1):
        content = contents[index]
        if content.get("role", "user") in ("user", "") and any(
                isinstance(part, dict) and "text" in part for part in content.get("parts", [])):
            return index + 1
    return 0


def missing_signature(name: str, position: int) -> Exception:
    return invalid_argument(
        "Function call is missing a thought_signature in functionCall parts. This is required "
        "for tools to work correctly, and missing thought_signature may lead to degraded model "
        f"performance. Additional data, function call `default_api:{name}` , position "
        f"{position}. Please refer to {DOCS} for more details.")


def check_signatures(model_id: str, contents: list[dict[str, Any]]) -> SignatureTally:
    """Verify (and for gemini-3 models enforce) the signatures of the current turn."""
    strict = needs_signatures(model_id)
    verified = dummy = 0
    start = current_turn_start(contents)
    for position, content in enumerate(contents[start:], start + 1):
        if content.get("role") != "model":
            continue
        calls = [part for part in content.get("parts", []) if "functionCall" in part]
        if not calls:
            continue
        call = calls[0]["functionCall"]
        signature = calls[0].get("thoughtSignature")
        if signature is None:
            if strict:
                raise missing_signature(call.get("name", ""), position)
            continue
        verdict = classify(model_id, call.get("name", ""), call.get("args"), signature)
        if verdict == "invalid" and strict:
            raise invalid_argument("Corrupted thought signature.")
        verified += verdict == "verified"
        dummy += verdict == "dummy"
    return SignatureTally(verified, dummy)
