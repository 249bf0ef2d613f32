"""OpenAI messages -> Gemini systemInstruction and contents."""
from __future__ import annotations

from ..errors import invalid_request

SYSTEM_ROLES = frozenset({"system", "developer"})
ROLES = {"user": "user", "assistant": "model"}


def parts_from_content(content: list[dict]) -> list[dict]:
    # Gemini rejects empty text parts ("must have a text parameter"); they carry nothing anyway.
    return [{"text": part["text"]} for part in content if part["type"] == "text" and part["text"]]


def contents_from_messages(messages: list[dict]) -> tuple[dict | None, list[dict]]:
    """(system_instruction, contents): system and developer messages, in order, become the
    system instruction; consecutive turns of one role are merged, as Gemini expects turns to
    alternate."""
    system_parts: list[dict] = []
    contents: list[dict] = []
    for message in messages:
        parts = parts_from_content(message["content"])
        if message["role"] in SYSTEM_ROLES:
            system_parts.extend(parts)
            continue
        if not parts:
            continue
        role = ROLES[message["role"]]
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    if not contents:
        raise invalid_request("messages must contain at least one user or assistant message with content.",
                              "messages")
    return ({"parts": system_parts} if system_parts else None), contents
