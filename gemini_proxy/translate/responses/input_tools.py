"""Responses tools and tool_choice -> Gemini tools and toolConfig.

Function tools go through chat's declaration and schema sanitiser. Codex's custom (freeform)
tools become functions of one string `input` (Gemini has no grammar-constrained tools, so the
grammar is shown in the description); `local_shell` becomes a function of the same name; a
namespace's tools become functions named namespace__name (context.py maps them back);
web_search becomes Gemini's Google Search grounding.
"""
from __future__ import annotations

import copy

from gemini_proxy.errors import invalid_request
from gemini_proxy.translate.responses.context import NAMESPACE_SEPARATOR
from gemini_proxy.translate.tools import TOOL_CHOICE_MODES, function_declaration

WEB_SEARCH_TOOLS = frozenset({"web_search", "web_search_2025_08_26", "web_search_preview",
                              "web_search_preview_2025_03_11"})
LOCAL_SHELL = "local_shell"
MAX_NAME = 64
CUSTOM_PARAMETERS = {
    "type": "object",
    "properties": {"input": {"type": "string", "description": "The tool's raw input text, exactly as the tool "
                                                              "takes it (not wrapped in JSON)."}},
    "required": ["input"],
}
LOCAL_SHELL_DECLARATION = {
    "name": LOCAL_SHELL,
    "description": "Runs a command on the user's machine and returns its output.",
    "parameters_json_schema": {
        "type": "object",
        "properties": {
            "command": {"type": "array", "items": {"type": "string"},
                        "description": 'The program and its arguments, e.g. ["ls", "-la"].'},
            "workdir": {"type": "string", "description": "The directory to run the command in."},
            "timeout_ms": {"type": "integer", "description": "How long the command may run, in milliseconds."},
        },
        "required": ["command"],
    },
}
# tool_choice {"type": "allowed_tools"} mode -> Gemini function calling mode.
ALLOWED_TOOLS_MODES = {"auto": "AUTO", "required": "ANY"}


def flat_name(namespace: str | None, name: str) -> str:
    """The Gemini function name of a tool (or of a call to it) in `namespace`."""
    return f"{namespace}{NAMESPACE_SEPARATOR}{name}" if namespace else name


def custom_declaration(tool: dict, name: str) -> dict:
    description = tool.get("description") or ""
    text_format = tool.get("format") or {"type": "text"}
    if text_format["type"] == "grammar":
        syntax = text_format["syntax"]
        description += (f"\n\nThe input must follow this {syntax} grammar exactly (nothing checks it for you):\n"
                        f"```{syntax}\n{text_format['definition']}\n```")
    # Copies: the request's config must not share (and so let anything change) the constants.
    declaration = {"name": name, "parameters_json_schema": copy.deepcopy(CUSTOM_PARAMETERS)}
    if description.strip():
        declaration["description"] = description.strip()
    return declaration


def _declarations(tools: list[dict], dropped: list[str]) -> tuple[list[dict], list[int]]:
    """(function declarations, indexes of web_search tools)."""
    declarations, searches, params = [], [], {}

    def add(declaration: dict, param: str) -> None:
        name = declaration["name"]
        if name in params:
            raise invalid_request(f"Tool name {name!r} is declared twice (first at {params[name]}).", param)
        if len(name) > MAX_NAME:
            raise invalid_request(f"The tool name {name!r} is longer than Gemini's {MAX_NAME} characters "
                                  "(a namespace's tools are named namespace__name).", param)
        params[name] = param
        declarations.append(declaration)

    for index, tool in enumerate(tools):
        kind, param = tool["type"], f"tools[{index}]"
        if kind == "function":
            add(function_declaration(tool, param, dropped), f"{param}.name")
        elif kind == "custom":
            add(custom_declaration(tool, tool["name"]), f"{param}.name")
        elif kind == LOCAL_SHELL:
            add(copy.deepcopy(LOCAL_SHELL_DECLARATION), f"{param}.type")
        elif kind == "namespace":
            for inner_index, inner in enumerate(tool["tools"]):
                name, inner_param = flat_name(tool["name"], inner["name"]), f"{param}.tools[{inner_index}]"
                if inner["type"] == "custom":
                    add(custom_declaration(inner, name), f"{inner_param}.name")
                else:
                    add({**function_declaration(inner, inner_param, dropped), "name": name}, f"{inner_param}.name")
        elif kind in WEB_SEARCH_TOOLS:
            searches.append(index)
    return declarations, searches


def _named(choice: dict, names: list[str], namespaces: dict[str, list[str]]) -> str:
    """The Gemini function a named tool_choice ({type, name, namespace?}) means."""
    name = choice.get("name")
    if not isinstance(name, str):
        raise invalid_request(f"tool_choice of type {choice['type']!r} needs a `name`.", "tool_choice")
    flat = flat_name(choice.get("namespace"), name)
    if flat in names:
        return flat
    # A namespace's tool named by its own name alone, when that is unambiguous.
    if len(namespaces.get(name, ())) == 1:
        return namespaces[name][0]
    raise invalid_request(f"tool_choice names a tool that is not in `tools`: {name!r}.", "tool_choice")


def tool_config(choice, declarations: list[dict], tools: list[dict]) -> dict | None:
    """Gemini's toolConfig for `tool_choice`; None: Gemini's default (AUTO)."""
    if choice is None or choice == "auto" or (isinstance(choice, dict) and choice["type"] in WEB_SEARCH_TOOLS):
        # Google Search cannot be forced: a search tool_choice is the model's choice, as "auto".
        return None
    names = [declaration["name"] for declaration in declarations]
    if choice == "none":
        return {"function_calling_config": {"mode": "NONE"}} if names else None
    namespaces: dict[str, list[str]] = {}
    for tool in tools:
        if tool["type"] == "namespace":
            for inner in tool["tools"]:
                namespaces.setdefault(inner["name"], []).append(flat_name(tool["name"], inner["name"]))
    if not names:
        raise invalid_request("tool_choice asks for a function call, but `tools` declares no function, custom or "
                              "local_shell tool.", "tool_choice")
    if isinstance(choice, str):
        return {"function_calling_config": {"mode": TOOL_CHOICE_MODES[choice]}}
    if choice["type"] in ("function", "custom"):
        return {"function_calling_config": {"mode": "ANY", "allowed_function_names": [
            _named(choice, names, namespaces)]}}
    if choice["type"] == LOCAL_SHELL and LOCAL_SHELL in names:
        return {"function_calling_config": {"mode": "ANY", "allowed_function_names": [LOCAL_SHELL]}}
    if choice["type"] == "allowed_tools":
        return _allowed_tools(choice, names, namespaces)
    raise invalid_request(f"tool_choice of type {choice['type']!r} is not supported by this gateway.",
                          "tool_choice")


def _allowed_tools(choice: dict, names: list[str], namespaces: dict[str, list[str]]) -> dict:
    mode = ALLOWED_TOOLS_MODES.get(choice.get("mode"))
    listed = choice.get("tools")
    if mode is None or not isinstance(listed, list) or not all(isinstance(tool, dict) for tool in listed):
        raise invalid_request('tool_choice of type "allowed_tools" needs `mode` ("auto" or "required") and a list '
                              "of `tools`.", "tool_choice")
    allowed = [_named(tool, names, namespaces) for tool in listed if tool.get("type") in ("function", "custom")]
    allowed += [LOCAL_SHELL for tool in listed if tool.get("type") == LOCAL_SHELL and LOCAL_SHELL in names]
    if not allowed:
        if mode == "ANY":
            raise invalid_request("tool_choice allows no function, custom or local_shell tool to be called.",
                                  "tool_choice")
        return {"function_calling_config": {"mode": "AUTO"}}
    return {"function_calling_config": {"mode": mode, "allowed_function_names": list(dict.fromkeys(allowed))}}


def tools_config(body: dict, dropped: list[str]) -> dict:
    """The `tools` and `tool_config` of the Gemini config for a request's tools and tool_choice."""
    tools = body.get("tools") or []
    declarations, searches = _declarations(tools, dropped)
    config: dict = {}
    if declarations:
        config["tools"] = [{"function_declarations": declarations}]
        # Most Gemini models refuse Google Search beside function declarations; Codex sends
        # web_search with every request, so the search goes and the functions stay.
        dropped.extend(f"tools[{index}] (web_search: not combined with function tools on Gemini)"
                       for index in searches)
    elif searches:
        config["tools"] = [{"google_search": {}}]
    choice = tool_config(body.get("tool_choice"), declarations, tools)
    if choice is not None:
        config["tool_config"] = choice
    return config
