"""What turning Gemini's answers into a Response needs besides the answers: ids, times, the
request's settings the Response echoes, and how each declared tool's calls come back.

ResponseContext is built once per request from the loaded CreateResponse body
(response_context); ids and clocks come in as callables, so translation stays pure and a test
can pin them.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gemini_proxy.translate.chat import service_tier_from
from gemini_proxy.translate.families import Family

# include[] value asking for reasoning items that carry state (OpenAI: the encrypted reasoning).
STATE_INCLUDE = "reasoning.encrypted_content"
# A `namespace` tool's functions reach Gemini as one flat name each: namespace + this + name.
NAMESPACE_SEPARATOR = "__"

# Tool type -> the fields a Response echoes of it: a field outside the spec's response-side Tool
# (or the SDK's) is an unknown field to strict clients.
WEB_SEARCH_ECHO = ("type", "filters", "user_location", "search_context_size", "external_web_access")
WEB_SEARCH_PREVIEW_ECHO = ("type", "user_location", "search_context_size", "search_content_types")
TOOL_ECHO = {
    "function": ("type", "name", "description", "parameters", "strict"),
    "custom": ("type", "name", "description", "format"),
    "local_shell": ("type",),
    "namespace": ("type", "name", "description", "tools"),
    "web_search": WEB_SEARCH_ECHO,
    "web_search_2025_08_26": WEB_SEARCH_ECHO,
    "web_search_preview": WEB_SEARCH_PREVIEW_ECHO,
    "web_search_preview_2025_03_11": WEB_SEARCH_PREVIEW_ECHO,
}
TEXT_FORMAT_ECHO = {"json_schema": ("type", "name", "schema", "description", "strict")}
# Echoed only when the request set them: the spec types `user` as a string, not null.
ECHOED_WHEN_SET = ("user", "safety_identifier", "prompt_cache_key")
# The only prompt_cache_retention values a Response may carry (the request side takes any string).
CACHE_RETENTIONS = ("in_memory", "24h")


@dataclass(frozen=True)
class ResponseContext:
    response_id: str
    created_at: int
    model: str  # the name the client asked for, echoed verbatim
    echoed: Mapping[str, Any]  # the request settings every Response repeats (echoed_from)
    family: Family
    carrier_key: bytes
    # Seal thought signatures into reasoning items' encrypted_content (include asked for it,
    # or store is false: a client that keeps no state here must carry them itself).
    carry_state: bool
    summaries: bool  # reasoning.summary was asked: thought summaries become reasoning items
    first_call_only: bool  # parallel_tool_calls false: Gemini has no switch, later calls are dropped
    new_id: Callable[[str], str]  # prefix ("msg", "fc", "call", "rs", ...) -> "<prefix>_<unique>"
    custom_tools: frozenset[str] = frozenset()  # names declared as `custom` tools
    namespaced: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # Gemini name -> (namespace, name)
    local_shell: bool = False  # a `local_shell` tool was declared (function "local_shell" at Gemini)
    clock: Callable[[], float] | None = None  # for completed_at; None: created_at


def _present(value: Mapping, keys: tuple[str, ...]) -> dict:
    return {key: value[key] for key in keys if value.get(key) is not None}


def tool_echo(tool: Mapping) -> dict:
    kind = tool.get("type")
    if kind == "function":
        # Responses' function tools are strict unless the request says otherwise.
        return {"type": "function", "name": tool["name"], "description": tool.get("description"),
                "parameters": tool.get("parameters"), "strict": tool.get("strict") is not False}
    echoed = _present(tool, TOOL_ECHO.get(kind, tuple(tool)))
    if kind == "namespace":
        echoed["tools"] = [tool_echo(inner) for inner in tool.get("tools") or ()]
    return echoed


def _text_echo(text: Mapping) -> dict:
    text_format = text.get("format") or {"type": "text"}
    return {"format": _present(text_format, TEXT_FORMAT_ECHO.get(text_format["type"], ("type",))),
            "verbosity": text.get("verbosity") or "medium"}


def _tool_choice_echo(choice):
    if isinstance(choice, Mapping):
        return {key: value for key, value in choice.items() if value is not None}
    return choice or "auto"


def echoed_from(body: Mapping) -> dict:
    """The request settings a Response repeats, with OpenAI's defaults for what was left out."""
    reasoning = body.get("reasoning") or {}
    echoed = {
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "metadata": dict(body.get("metadata") or {}),
        "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": reasoning.get("effort"),
                      "summary": reasoning.get("summary") or reasoning.get("generate_summary")},
        "service_tier": service_tier_from(body.get("service_tier") or "auto"),
        "temperature": 1.0 if body.get("temperature") is None else body["temperature"],
        "text": _text_echo(body.get("text") or {}),
        "tool_choice": _tool_choice_echo(body.get("tool_choice")),
        "tools": [tool_echo(tool) for tool in body.get("tools") or ()],
        "top_logprobs": body.get("top_logprobs") or 0,
        "top_p": 1.0 if body.get("top_p") is None else body["top_p"],
        "truncation": body.get("truncation") or "disabled",
        "background": False,
    }
    echoed.update(_present(body, ECHOED_WHEN_SET))
    if body.get("prompt_cache_retention") in CACHE_RETENTIONS:
        echoed["prompt_cache_retention"] = body["prompt_cache_retention"]
    return echoed


def _flat(namespace: str, name: str) -> str:
    return f"{namespace}{NAMESPACE_SEPARATOR}{name}"


def namespaced_names(tools) -> dict[str, tuple[str, str]]:
    """The flat Gemini function name of each tool inside a `namespace` tool -> (namespace, name)."""
    return {_flat(tool["name"], inner["name"]): (tool["name"], inner["name"])
            for tool in tools if tool.get("type") == "namespace" for inner in tool.get("tools") or ()}


def custom_tool_names(tools) -> frozenset[str]:
    """The Gemini function names whose calls go back as custom_tool_call (raw `input` text)."""
    names = set()
    for tool in tools:
        if tool.get("type") == "custom":
            names.add(tool["name"])
        elif tool.get("type") == "namespace":
            names.update(_flat(tool["name"], inner["name"]) for inner in tool.get("tools") or ()
                         if inner.get("type") == "custom")
    return frozenset(names)


def response_context(body: Mapping, *, response_id: str, created_at: int, family: Family, carrier_key: bytes,
                     new_id: Callable[[str], str], clock: Callable[[], float] | None = None,
                     model: str | None = None) -> ResponseContext:
    """The context of the answer to `body` (a CreateResponse as the schema loads it); `model`
    overrides the echoed name (default: the request's)."""
    tools = list(body.get("tools") or ())
    reasoning = body.get("reasoning") or {}
    return ResponseContext(
        response_id=response_id, created_at=created_at, model=model or body.get("model") or "",
        echoed=echoed_from(body), family=family, carrier_key=carrier_key,
        carry_state=STATE_INCLUDE in (body.get("include") or ()) or body.get("store") is False,
        summaries=bool(reasoning.get("summary") or reasoning.get("generate_summary")),
        first_call_only=body.get("parallel_tool_calls") is False, new_id=new_id,
        custom_tools=custom_tool_names(tools), namespaced=namespaced_names(tools),
        local_shell=any(tool.get("type") == "local_shell" for tool in tools), clock=clock)
