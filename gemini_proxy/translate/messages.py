"""OpenAI messages -> Gemini systemInstruction and contents."""
from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field

from gemini_proxy.errors import invalid_request
from gemini_proxy.translate import json_limits

SYSTEM_ROLES = frozenset({"system", "developer"})
ROLES = {"user": "user", "assistant": "model", "tool": "user"}
# Google's documented stand-in for a thought signature the gateway never saw (a history written
# elsewhere); the bytes are those whose base64 on the wire reads as the marker itself.
DUMMY_SIGNATURE = base64.urlsafe_b64decode("skip_thought_signature_validator")


@dataclass(frozen=True)
class History:
    """What the caller looked up for this request's messages."""
    signatures: Mapping[str, str] = field(default_factory=dict)  # tool-call id -> base64 signature
    # A media part's param ("messages[1].content[0]") -> (MIME type, bytes), or (MIME type, a gs:// URI)
    # on Vertex AI: media/parts.py.
    media: Mapping[str, tuple[str, bytes | str]] = field(default_factory=dict)
    needs_signatures: bool = False
    max_json_depth: int = 128  # of tool call arguments and tool results


def signature_bytes(signature: str, param: str | None = None) -> bytes:
    """Gemini's signatures are base64 (standard from Google, URL-safe from the SDK)."""
    text = signature.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise invalid_request("A thought signature is not valid base64.", param) from None


def _media_part(param: str, history: History) -> dict:
    mime, data = history.media[param]
    if isinstance(data, str):  # a Cloud Storage object Vertex AI reads itself
        return {"file_data": {"mime_type": mime, "file_uri": data}}
    return {"inline_data": {"mime_type": mime, "data": data}}


def parts_from_content(content: list[dict], param: str, history: History) -> list[dict]:
    parts = []
    for index, part in enumerate(content):
        if part["type"] == "text":
            # Gemini rejects empty text parts; they carry nothing anyway.
            if part["text"]:
                parts.append({"text": part["text"]})
        else:
            parts.append(_media_part(f"{param}[{index}]", history))
    return parts


def call_args(arguments: str, param: str, max_json_depth: int) -> dict:
    """A function call's arguments string as Gemini's args object (a 400 naming `param` if it is not one)."""
    try:
        args = json_limits.loads(arguments or "{}", max_json_depth)
    except json_limits.JsonRefused as refused:
        raise invalid_request(f"Function call arguments must be a JSON string: {refused}.", param) from None
    if not isinstance(args, dict):
        raise invalid_request("Function call arguments must encode a JSON object.", param)
    return args


def _call_part(call: dict, param: str, signature: str | None, history: History) -> dict:
    args = call_args(call["function"]["arguments"], f"{param}.function.arguments", history.max_json_depth)
    part = {"function_call": {"name": call["function"]["name"], "args": args}}
    if signature:
        part["thought_signature"] = signature_bytes(signature, f"{param}.extra_content.google.thought_signature")
    return part


def _assistant_parts(message: dict, param: str, history: History) -> list[dict]:
    parts = parts_from_content(message.get("content") or [], f"{param}.content", history)
    for index, call in enumerate(message.get("tool_calls") or ()):
        google = (call.get("extra_content") or {}).get("google") or {}
        signature = history.signatures.get(call["id"]) or google.get("thought_signature")
        part = _call_part(call, f"{param}.tool_calls[{index}]", signature, history)
        if index == 0 and "thought_signature" not in part and history.needs_signatures:
            part["thought_signature"] = DUMMY_SIGNATURE
        parts.append(part)
    return parts


def function_response(name: str, text: str, max_json_depth: int) -> dict:
    """A tool's answer as a functionResponse part (Gemini's response is a JSON object)."""
    try:
        result = json_limits.loads(text, max_json_depth)
    except json_limits.JsonRefused:
        # A tool may answer with any text: what is not JSON within the limits goes as text.
        result = text
    response = result if isinstance(result, dict) else {"result": result}
    return {"function_response": {"name": name, "response": response}}


def _tool_result_part(message: dict, param: str, names: Mapping[str, str], history: History) -> dict:
    call_id = message.get("tool_call_id")
    if call_id not in names:
        raise invalid_request(f"No assistant tool call with id {call_id!r} precedes this tool message.",
                              f"{param}.tool_call_id")
    text = "".join(part.get("text", "") for part in message.get("content") or ())
    return function_response(names[call_id], text, history.max_json_depth)


def contents_from_messages(messages: list[dict], history: History = History()) -> tuple[dict | None, list[dict]]:
    """(system_instruction, contents): system and developer messages, in order, become the
    system instruction; consecutive turns of one role are merged (tool results of one turn
    become one user turn), as Gemini expects turns to alternate."""
    system_parts: list[dict] = []
    contents: list[dict] = []
    names: dict[str, str] = {}
    for index, message in enumerate(messages):
        role, param = message["role"], f"messages[{index}]"
        if role in SYSTEM_ROLES:
            system_parts.extend(parts_from_content(message["content"], f"{param}.content", history))
            continue
        if role == "assistant":
            names.update((call["id"], call["function"]["name"]) for call in message.get("tool_calls") or ())
            parts = _assistant_parts(message, param, history)
        elif role == "tool":
            parts = [_tool_result_part(message, param, names, history)]
        else:
            parts = parts_from_content(message["content"], f"{param}.content", history)
        if not parts:
            continue
        gemini_role = ROLES[role]
        if contents and contents[-1]["role"] == gemini_role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": gemini_role, "parts": parts})
    if not contents:
        raise invalid_request("messages must contain at least one user or assistant message with content.",
                              "messages")
    return ({"parts": system_parts} if system_parts else None), contents

