"""Function calling: OpenAI tools and tool_choice -> Gemini declarations and tool config;
Gemini functionCall parts -> OpenAI tool_calls."""
from __future__ import annotations

import json
from collections.abc import Callable

from gemini_proxy.translate.schema import sanitize

# OpenAI tool_choice (string form) -> Gemini function calling mode.
TOOL_CHOICE_MODES = {"none": "NONE", "auto": "AUTO", "required": "ANY"}


def function_declaration(function: dict, path: str, dropped: list[str]) -> dict:
    """One function ({name, description?, parameters?}, found at `path`) as a Gemini declaration."""
    declaration = {"name": function["name"]}
    if function.get("description"):
        declaration["description"] = function["description"]
    if function.get("parameters") is not None:
        declaration["parameters_json_schema"] = sanitize(function["parameters"], f"{path}.parameters", dropped)
    return declaration


def function_declarations(tools: list[dict], dropped: list[str]) -> list[dict]:
    return [function_declaration(tool["function"], f"tools[{index}].function", dropped)
            for index, tool in enumerate(tools)]


def tool_config(tool_choice) -> dict | None:
    if tool_choice is None:
        return None
    if isinstance(tool_choice, str):
        return {"function_calling_config": {"mode": TOOL_CHOICE_MODES[tool_choice]}}
    return {"function_calling_config": {"mode": "ANY",
                                        "allowed_function_names": [tool_choice["function"]["name"]]}}


def tool_call_from(call: dict, call_id: str) -> dict:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": call["name"], "arguments": json.dumps(call.get("args") or {}, ensure_ascii=False)},
    }


def tool_calls_from(parts: list[dict], new_call_id: Callable[[], str], *, first_only: bool,
                    signatures: dict[str, str]) -> list[dict]:
    """OpenAI tool_calls for the functionCall parts; thought signatures Gemini attached are
    recorded in `signatures` under the call's id (Gemini needs them back next turn)."""
    calls = []
    for part in parts:
        if "function_call" not in part or (first_only and calls):
            continue
        call_id = part["function_call"].get("id") or new_call_id()
        if part.get("thought_signature"):
            signatures[call_id] = part["thought_signature"]
        calls.append(tool_call_from(part["function_call"], call_id))
    return calls
