"""Function calling: declarations, the calling mode, and the deterministic rule that makes an
answer either text or function calls.

Accepted: tools[].functionDeclarations[] {name, description, parametersJsonSchema (JSON Schema)
| parameters (Gemini's OpenAPI subset)}, the Google Search tools (googleSearch,
googleSearchRetrieval: grounding module; other tools are accepted and ignored),
toolConfig.functionCallingConfig {mode: AUTO (default) | ANY | NONE | VALIDATED,
allowedFunctionNames}, toolConfig.includeServerSideToolInvocations. Refused with 400: a bad or
duplicate function name, both schema fields on one declaration, an unknown mode, an allowed name
that is not declared, a functionCallingConfig next to a search tool without any function
declaration (Gemini refuses it without a search tool too; the emulator lets that one pass).

The rule, per request:
  1. Mode NONE, or no declarations: text.
  2. The last content holds functionResponse parts (a tool result just came back): in mode ANY
     a function is called again, as real Gemini's ANY mode always calls one: the allowed
     functions named in the user's text (see 3) that were not called since that text; if none,
     the first allowed function not called since; if all were, the last allowed one (so an
     agent whose last tool ends its loop, such as pydantic-ai's final_result, gets there).
     Other modes answer in text that opens with one sentence per response,
     `NAME returned {compact JSON}.`, then the usual generated text.
  3. Else call the declared functions (only allowedFunctionNames, when given) whose name appears
     in the text of the last user turn (case-insensitive, as a whole word), in order of first
     appearance, each once: several names give parallel calls in one response. If none is
     named, modes ANY and VALIDATED call the first allowed declared function; AUTO answers text.
Arguments are a value valid under the declaration's schema (schema_values; integral numbers
written without a fraction, as Gemini's Struct JSON writes them; a string property
named like a place takes the capitalised word(s) after the first "in "/"In " in the user's
text: "weather in New York" -> {"city": "New York"}), seeded by the candidate, so each candidate may differ.
A call costs count_tokens(f"{name} {json args}") candidate tokens, the formula prompt usage
uses for the calls in the history.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from gemini_emulator.errors import invalid_argument
from gemini_emulator.grounding import search_tool
from gemini_emulator.openapi_schema import openapi_to_json_schema
from gemini_emulator.schema_values import Hints, instance
from gemini_emulator.tokens import count_tokens
from gemini_emulator.wire import struct_value

MODES = ("AUTO", "ANY", "NONE", "VALIDATED")
_UNSET_MODE = "MODE_UNSPECIFIED"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$")
_NAME_RULE = ("Invalid function name. Must start with a letter or an underscore. Must be a-z, "
              "A-Z, 0-9, or contain underscores, dots, colons and dashes, with a maximum length "
              "of 64.")
_PLACE = re.compile(r"\b(?i:in) ((?:[A-Z][\w'-]*)(?: [A-Z][\w'-]*)*)")


@dataclass(frozen=True)
class Declaration:
    name: str
    schema: Any = None  # JSON Schema of the arguments; None: no parameters


@dataclass(frozen=True)
class ToolSet:
    declarations: tuple[Declaration, ...] = ()
    mode: str = "AUTO"
    allowed: tuple[str, ...] | None = None  # allowedFunctionNames, when given
    search: bool = False  # a Google Search tool is declared (grounding)
    server_side: bool = False  # toolConfig.includeServerSideToolInvocations


@dataclass(frozen=True)
class Call:
    name: str
    args: dict[str, Any]

    @property
    def tokens(self) -> int:
        return call_tokens(self.name, self.args)


def call_tokens(name: str, args: Any) -> int:
    return count_tokens(f"{name} {json.dumps(args)}")


def _declaration(raw: Any, where: str) -> Declaration:
    if not isinstance(raw, dict):
        raise invalid_argument(f"* GenerateContentRequest.{where}: a FunctionDeclaration must "
                               "be an object")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise invalid_argument(f"* GenerateContentRequest.{where}.name: {_NAME_RULE}")
    if raw.get("parameters") is not None and raw.get("parametersJsonSchema") is not None:
        raise invalid_argument(f"* GenerateContentRequest.{where}: parameters and "
                               "parameters_json_schema cannot both be set")
    if raw.get("parametersJsonSchema") is not None:
        return Declaration(name, raw["parametersJsonSchema"])
    if raw.get("parameters") is not None:
        return Declaration(name, openapi_to_json_schema(raw["parameters"]))
    return Declaration(name)


def _calling_config(body: dict[str, Any]) -> tuple[str, tuple[str, ...] | None]:
    config = (body.get("toolConfig") or {}).get("functionCallingConfig") or {}
    where = "tool_config.function_calling_config"
    mode = config.get("mode") or "AUTO"
    if mode == _UNSET_MODE:
        mode = "AUTO"
    if mode not in MODES:
        raise invalid_argument(
            f"Invalid value at '{where}.mode' (type.googleapis.com/google.ai.generativelanguage."
            f"v1beta.FunctionCallingConfig.Mode), {json.dumps(mode)}")
    allowed = config.get("allowedFunctionNames")
    if allowed is not None and not (isinstance(allowed, list)
                                    and all(isinstance(n, str) for n in allowed)):
        raise invalid_argument(f"Invalid value at '{where}.allowed_function_names': a list of "
                               "strings")
    return mode, tuple(allowed) if allowed else None


def parse_tools(body: dict[str, Any]) -> ToolSet:
    """The function declarations and calling config of a request, validated."""
    tools = body.get("tools") or []
    if not isinstance(tools, list):
        raise invalid_argument("Invalid value at 'tools': a list of Tool is required")
    declarations: list[Declaration] = []
    search = any(search_tool(tool) for tool in tools)
    for t, tool in enumerate(tools):
        raw = tool.get("functionDeclarations") or [] if isinstance(tool, dict) else None
        if not isinstance(raw, list):
            raise invalid_argument(f"Invalid value at 'tools[{t}]': a Tool object is required")
        for d, item in enumerate(raw):
            declaration = _declaration(item, f"tools[{t}].function_declarations[{d}]")
            if any(known.name == declaration.name for known in declarations):
                raise invalid_argument(
                    f"* GenerateContentRequest.tools[{t}].function_declarations[{d}].name: "
                    f"Duplicate function declaration found: {declaration.name}")
            declarations.append(declaration)
    mode, allowed = _calling_config(body)
    if search and (body.get("toolConfig") or {}).get("functionCallingConfig") and not declarations:
        raise invalid_argument("Function calling config is set without function_declarations.")
    names = {declaration.name for declaration in declarations}
    for name in allowed or ():
        if name not in names:
            raise invalid_argument(
                "* GenerateContentRequest.tool_config.function_calling_config."
                f"allowed_function_names: function {name} is not declared in tools")
    server_side = (body.get("toolConfig") or {}).get("includeServerSideToolInvocations") is True
    return ToolSet(tuple(declarations), mode, allowed, search, server_side)


def function_responses(contents: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """(name, response) of each functionResponse part of the last content (rule 1)."""
    if not contents:
        return []
    return [(part["functionResponse"].get("name", ""), part["functionResponse"].get("response"))
            for part in contents[-1].get("parts", []) if "functionResponse" in part]


def response_sentences(responses: list[tuple[str, Any]]) -> list[str]:
    """`NAME returned {...}.` for each function response."""
    return [f"{name} returned {json.dumps(response, ensure_ascii=False)}."
            for name, response in responses]


def _named(name: str, text: str) -> int:
    match = re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text, re.I)
    return match.start() if match else -1


def called_since_user_text(contents: list[dict[str, Any]]) -> set[str]:
    """Names of the functions the model called after the last user turn with text."""
    names: set[str] = set()
    for content in reversed(contents):
        parts = [part for part in content.get("parts", []) if isinstance(part, dict)]
        if content.get("role", "user") in ("user", "") and any("text" in part for part in parts):
            break
        names.update(part["functionCall"].get("name", "") for part in parts
                     if isinstance(part.get("functionCall"), dict))
    return names


def chosen_functions(tools: ToolSet, user_text: str, answering_responses: bool,
                     called: set[str] | frozenset[str] = frozenset()) -> tuple[Declaration, ...]:
    """The functions an answer calls (empty: answer in text), by rules 1-3; `called`: the
    functions called since the user's text (rule 2)."""
    if tools.mode == "NONE" or not tools.declarations or (answering_responses and tools.mode != "ANY"):
        return ()
    allowed = [d for d in tools.declarations if tools.allowed is None or d.name in tools.allowed]
    positions = [(_named(d.name, user_text), i) for i, d in enumerate(allowed)]
    named = [allowed[i] for position, i in sorted(positions) if position >= 0]
    if answering_responses and allowed:
        uncalled = [d for d in named if d.name not in called] or [
            d for d in allowed if d.name not in called][:1]
        return tuple(uncalled) or (allowed[-1],)
    if named:
        return tuple(named)
    return (allowed[0],) if tools.mode in ("ANY", "VALIDATED") and allowed else ()


def place_in(text: str) -> str | None:
    """The capitalised word(s) after "in " or "In " ("weather in New York" -> "New York")."""
    match = _PLACE.search(text)
    return match.group(1) if match else None


def make_call(declaration: Declaration, seed: int, place: str | None) -> Call:
    """The call of one function by one candidate, with arguments valid under its schema."""
    args = {} if declaration.schema is None else instance(
        declaration.schema, Hints(seed, place))
    return Call(declaration.name, struct_value(args) if isinstance(args, dict) else {})
