"""A CreateResponse (as schemas/responses.py loads it) -> a Gemini request, and the request's
input as the item list OpenAI lists under /input_items.

Chat's translation is shared: generation_config (sampling and RequestDefaults), the families
table for reasoning effort, the schema sanitiser for text.format and function parameters,
functionResponse wrapping, and the dummy thought signature. The serve layer looks things up
first, with the helpers here naming what: item_references() for the stored items to fetch,
call_ids() for the thought signatures kept by call_id.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from gemini_proxy.translate.chat import (
    GeminiRequest,
    RequestDefaults,
    format_config,
    generation_config,
    google_config,
    google_thinking_config,
    service_tier,
)
from gemini_proxy.translate.families import Family, family_of
from gemini_proxy.translate.responses.input_contents import CALLS, Lookups, contents_from_items, expanded
from gemini_proxy.translate.responses.input_tools import tools_config

# Efforts beyond the families table's strongest, which every family reads as its own "high".
EFFORT_ALIASES = {"xhigh": "high", "max": "high"}
# Item type -> the prefix of the id it is listed with when the client sent none.
ID_PREFIXES = {
    "message": "msg", "function_call": "fc", "function_call_output": "fc", "reasoning": "rs",
    "custom_tool_call": "ctc", "custom_tool_call_output": "ctc", "local_shell_call": "lsh",
    "local_shell_call_output": "lsh", "web_search_call": "ws",
}


def thinking_config(body: dict, family: Family) -> dict | None:
    """reasoning.effort through the families table (as chat's reasoning_effort); reasoning.summary
    asks for Gemini's thought summaries. A model that cannot think takes reasoning and ignores it:
    a 400 there ends every Codex session (Codex sends reasoning whatever the model)."""
    reasoning = body.get("reasoning") or {}
    effort = reasoning.get("effort")
    if (passed := google_thinking_config(body, effort, "reasoning.effort")) is not None:
        return passed
    if not family.thinks:
        return None
    config = family.thinking(EFFORT_ALIASES.get(effort, effort)) if effort is not None else {}
    if reasoning.get("summary") is not None and effort != "none":
        config["include_thoughts"] = True
    return config or None


def text_config(body: dict, dropped: list[str]) -> dict:
    """text.format: json_object and json_schema ask for JSON; a schema is sanitised as chat's."""
    text_format = (body.get("text") or {}).get("format") or {"type": "text"}
    return format_config(text_format["type"], text_format.get("schema"), "text.format.schema", dropped)


def _sampling(body: dict) -> dict:
    """The request's sampling settings in chat's names (generation_config reads them)."""
    return {"temperature": body.get("temperature"), "top_p": body.get("top_p"),
            "max_completion_tokens": body.get("max_output_tokens")}


def gemini_request(body: dict, model: str, defaults: RequestDefaults, *, history: Iterable[dict] = (),
                   referenced: Mapping[str, dict] = {}, signatures: Mapping[str, str] = {},
                   media: Mapping[str, tuple[str, bytes | str]] = {}, carrier_key: bytes = b"") -> GeminiRequest:
    """The Gemini request for `body` to `model` (a Gemini model id the caller resolved).
    `history`: the items of the previous_response_id chain, oldest first (each response's input
    items, then its output); `referenced`: item_reference id -> stored item; `signatures`: call_id
    -> thought signature from the server-side store; `media`: what media/parts.py loaded, by param;
    `carrier_key`: the key of reasoning items' encrypted_content. Instructions are not inherited."""
    family = family_of(model)
    lookups = Lookups(signatures=signatures, media=media, carrier_key=carrier_key, family=family.name,
                      needs_signatures=family.needs_signatures, max_json_depth=defaults.max_json_depth)
    conversation = expanded(list(history), list(body.get("input") or ()), referenced)
    system_instruction, contents = contents_from_items(body.get("instructions"), conversation, lookups)
    dropped: list[str] = []
    config = {**generation_config(_sampling(body), defaults), **text_config(body, dropped),
              **tools_config(body, dropped)}
    if system_instruction:
        config["system_instruction"] = system_instruction
    if (thinking := thinking_config(body, family)) is not None:
        config["thinking_config"] = thinking
    config.update(google_config(body, defaults))
    if (tier := service_tier(body.get("service_tier"))) is not None:
        config["service_tier"] = tier
    return GeminiRequest(model, contents, config, tuple(dropped))


def _listed_content(role: str, content: list[dict]) -> list[dict]:
    if role != "assistant":
        return [dict(part) for part in content]
    # InputMessageResource has no assistant role: earlier answers are listed as OutputMessages.
    return [{"type": "refusal", "refusal": part["refusal"]} if part["type"] == "refusal" else
            {"type": "output_text", "text": part["text"], "annotations": list(part.get("annotations") or ()),
             "logprobs": list(part.get("logprobs") or ())} for part in content]


def _listed(item: dict) -> dict:
    """An input item as /input_items lists it (and the store keeps it): OpenAI's ItemResource."""
    kind = item["type"]
    listed = dict(item)
    if kind == "message":
        listed["content"] = _listed_content(item["role"], item["content"])
        listed["status"] = item.get("status") or "completed"
    elif kind in ("function_call", "function_call_output", "custom_tool_call", "custom_tool_call_output",
                  "local_shell_call", "local_shell_call_output", "web_search_call"):
        listed["status"] = item.get("status") or "completed"
    if kind == "reasoning":
        listed.setdefault("summary", [])
    if kind == "function_call_output":
        # Not part of the listed shape (the output's `name` only helps a lookup OpenAI does itself).
        listed.pop("name", None)
    return listed


def input_items(body: dict, new_id: Callable[[str], str], referenced: Mapping[str, dict] | None = None) -> list[dict]:
    """The request's input as listed items, each with an id (new_id(prefix) when the client sent
    none). An item_reference is listed as the item it names when `referenced` has it."""
    items = []
    for item in body.get("input") or ():
        if item["type"] == "item_reference":
            found = (referenced or {}).get(item["id"])
            items.append(dict(found) if found is not None else {"type": "item_reference", "id": item["id"]})
            continue
        listed = _listed(item)
        if not listed.get("id"):
            listed = {"id": new_id(ID_PREFIXES[item["type"]]), **listed}
        items.append(listed)
    return items


def item_references(items: Iterable[dict]) -> list[str]:
    """The ids of the stored items that `items` (a request's input, or a chain's) refer to."""
    return list(dict.fromkeys(item["id"] for item in items if item.get("type") == "item_reference"))


def call_ids(items: Iterable[dict]) -> list[str]:
    """The call_ids of the calls in `items`: their thought signatures are looked up by these."""
    return list(dict.fromkeys(item["call_id"] for item in items if item.get("type") in CALLS))
