"""Chat completions: an OpenAI request -> a Gemini request; a Gemini answer -> chat.completion."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from gemini_proxy.errors import invalid_request
from gemini_proxy.translate.families import Family, family_of
from gemini_proxy.translate.grounding import chat_annotations, raw_grounding, search_count
from gemini_proxy.translate.messages import History, contents_from_messages
from gemini_proxy.translate.schema import sanitize
from gemini_proxy.translate.tools import function_declarations, tool_calls_from, tool_config
from gemini_proxy.translate.wire import snake_case

# Gemini finishReason -> OpenAI finish_reason. Anything not listed (MALFORMED_FUNCTION_CALL,
# FINISH_REASON_UNSPECIFIED, reasons newer than this table...) is "stop".
FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    **dict.fromkeys(
        ("SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
         "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "IMAGE_OTHER", "LANGUAGE", "MODEL_ARMOR"),
        "content_filter"),
}
BLOCKED_PROMPT = "content_filter"

# OpenAI parameter -> GenerateContentConfig field, copied when set.
CONFIG_FIELDS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "stop": "stop_sequences",
    "seed": "seed",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
}
# Parameters that take the server's default (RequestDefaults) when a request leaves them out.
DEFAULTED = ("temperature", "top_p", "top_k")
RESPONSE_MIME_TYPES = {"json_object": "application/json", "json_schema": "application/json"}
# OpenAI service_tier -> Gemini serviceTier (None: Gemini's default); "scale" has no Gemini tier.
SERVICE_TIERS = {"auto": None, "default": "standard", "flex": "flex", "priority": "priority", "fast": "priority"}
# OpenAI service_tier asked for -> the one the answer names (OpenAI answers "auto" with "default").
SERVICE_TIER_NAMES = {"auto": "default", "default": "default", "flex": "flex", "priority": "priority",
                      "fast": "priority"}


@dataclass(frozen=True)
class RequestDefaults:
    """The server's values for what a request leaves out, and its limits: plain values, built
    once from Settings (DEFAULT_TEMPERATURE..., SAFETY_SETTINGS, MAX_JSON_DEPTH) by create_app."""
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_tokens: int | None = None
    safety_settings: tuple[dict, ...] = ()
    max_json_depth: int = 128


class GeminiRequest(NamedTuple):
    model: str
    contents: list[dict]
    config: dict
    # Schema keywords Gemini would have rejected, removed or rewritten (reported to the client).
    dropped: tuple[str, ...] = ()


def finish_reason_from(gemini_reason: str | None, tool_calls: bool = False) -> str:
    reason = FINISH_REASONS.get(gemini_reason or "STOP", "stop")
    # Gemini ends a function call with STOP; OpenAI clients wait for "tool_calls".
    return "tool_calls" if tool_calls and reason == "stop" else reason


def google_thinking_config(request: dict, effort: str | None, param: str) -> dict | None:
    """extra_body.google.thinking_config as given (in the SDK's names); with an effort too
    (`param`), a 400."""
    passed = (request.get("google") or {}).get("thinking_config")
    if passed is None:
        return None
    if effort is not None:
        raise invalid_request(f"Set {param} or extra_body.google.thinking_config, not both.", param)
    return {snake_case(key): value for key, value in passed.items()}


def thinking_config(request: dict, model: str, family: Family) -> dict | None:
    effort = request.get("reasoning_effort")
    if (passed := google_thinking_config(request, effort, "reasoning_effort")) is not None:
        return passed
    if effort is None:
        return None
    if not family.thinks:
        if effort == "none":
            return None
        raise invalid_request(f"reasoning_effort is not supported with the model {model}.",
                              "reasoning_effort", "unsupported_parameter")
    return {**family.thinking(effort), "include_thoughts": effort != "none"}


def generation_config(request: dict, defaults: RequestDefaults = RequestDefaults()) -> dict:
    config = {}
    for name in DEFAULTED:
        if request.get(name) is None and getattr(defaults, name) is not None:
            config[CONFIG_FIELDS[name]] = getattr(defaults, name)
    for name, field in CONFIG_FIELDS.items():
        if request.get(name) is not None:
            config[field] = request[name]
    max_tokens = request.get("max_completion_tokens") or request.get("max_tokens") or defaults.max_tokens
    if max_tokens:
        config["max_output_tokens"] = max_tokens
    if (request.get("n") or 1) > 1:
        config["candidate_count"] = request["n"]
    if request.get("logprobs"):
        config["response_logprobs"] = True
        if request.get("top_logprobs"):
            config["logprobs"] = request["top_logprobs"]
    elif request.get("top_logprobs"):
        raise invalid_request("top_logprobs requires logprobs to be true.", "top_logprobs")
    return config


def format_config(kind: str, schema: dict | None, param: str, dropped: list[str]) -> dict:
    """An output format (text, json_object or json_schema; `schema` sanitised, named `param`)."""
    config = {}
    if kind in RESPONSE_MIME_TYPES:
        config["response_mime_type"] = RESPONSE_MIME_TYPES[kind]
    # OpenAI's json_schema.schema is optional: without one the answer is JSON of any shape.
    if kind == "json_schema" and schema is not None:
        config["response_json_schema"] = sanitize(schema, param, dropped)
    return config


def _output_config(request: dict, dropped: list[str]) -> dict:
    response_format = request.get("response_format") or {"type": "text"}
    schema = (response_format.get("json_schema") or {}).get("schema")
    return format_config(response_format["type"], schema, "response_format.json_schema.schema", dropped)


def _tools_config(request: dict, dropped: list[str]) -> dict:
    config = {}
    if request.get("web_search_options") is not None:
        if request.get("tools"):
            # Gemini 2.x refuses Google Search beside function declarations, and Gemini 3 takes
            # the mix only in a mode whose server-side tool turns chat cannot carry.
            raise invalid_request("web_search_options cannot be combined with function `tools` on Gemini: "
                                  "send one or the other.", "web_search_options")
        config["tools"] = [{"google_search": {}}]
    elif request.get("tools"):
        config["tools"] = [{"function_declarations": function_declarations(request["tools"], dropped)}]
        if (choice := tool_config(request.get("tool_choice"))) is not None:
            config["tool_config"] = choice
    return config


def gemini_request(request: dict, model: str, defaults: RequestDefaults = RequestDefaults(), *,
                   signatures: Mapping[str, str] = {}, media: Mapping[str, tuple[str, bytes | str]] = {}
                   ) -> GeminiRequest:
    """The Gemini request for a chat request (as the chat schema loads it) to `model`, a Gemini
    model id the caller resolved; `signatures` and `media` are what the caller looked up for
    the messages (see History)."""
    family = family_of(model)
    history = History(signatures=signatures, media=media, needs_signatures=family.needs_signatures,
                      max_json_depth=defaults.max_json_depth)
    system_instruction, contents = contents_from_messages(request["messages"], history)
    dropped: list[str] = []
    config = {**generation_config(request, defaults), **_output_config(request, dropped),
              **_tools_config(request, dropped)}
    if system_instruction:
        config["system_instruction"] = system_instruction
    if (thinking := thinking_config(request, model, family)) is not None:
        config["thinking_config"] = thinking
    config.update(google_config(request, defaults))
    if (tier := service_tier(request.get("service_tier"))) is not None:
        config["service_tier"] = tier
    return GeminiRequest(model, contents, config, tuple(dropped))


def service_tier(requested: str | None) -> str | None:
    """Gemini's serviceTier for OpenAI's service_tier (None: leave Gemini's default)."""
    if requested is None or requested in SERVICE_TIERS:
        return SERVICE_TIERS.get(requested)
    raise invalid_request(f"service_tier {requested!r} is not available on Gemini: use auto, default, flex or "
                          "priority.", "service_tier", "unsupported_value")


def service_tier_from(requested: str) -> str:
    """The service_tier an answer names for the one asked for. Gemini tells a downgrade (priority
    served as standard) only in its x-gemini-service-tier response header, which the gateway does
    not read: the answer names the tier asked for."""
    return SERVICE_TIER_NAMES.get(requested, "default")  # "scale" is refused with the request


def google_config(request: dict, defaults: RequestDefaults = RequestDefaults()) -> dict:
    """Google's own options a request passed (`google`, as the schemas load it), and the server's
    safety settings when it passed none."""
    google = request.get("google") or {}
    config = {}
    safety = google.get("safety_settings") or defaults.safety_settings
    if safety:
        config["safety_settings"] = list(safety)
    if (cached := google.get("cached_content")) is not None:
        config["cached_content"] = cached
    return config


def text_of(content: dict | None, thought: bool = False) -> str:
    """The answer text (or, with thought=True, the thought summaries) of a candidate."""
    parts = (content or {}).get("parts") or ()
    return "".join(part["text"] for part in parts if "text" in part and bool(part.get("thought")) == thought)


def usage_from(metadata: dict | None, searches: int = 0) -> dict:
    """OpenAI's usage; `searches`: Google searches run for the answer (OpenAI's usage has no
    field for them: reported as server_tool_use.web_search_requests, LiteLLM's name)."""
    metadata = metadata or {}
    prompt = metadata.get("prompt_token_count", 0) + metadata.get("tool_use_prompt_token_count", 0)
    thoughts = metadata.get("thoughts_token_count", 0)
    # OpenAI counts reasoning inside completion_tokens; Gemini reports thoughts separately.
    completion = metadata.get("candidates_token_count", 0) + thoughts
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": metadata.get("cached_content_token_count", 0)},
        "completion_tokens_details": {"reasoning_tokens": thoughts},
        **({"server_tool_use": {"web_search_requests": searches}} if searches else {}),
    }


def _token_logprob(candidate: dict) -> dict:
    token = candidate.get("token", "")
    return {"token": token, "logprob": candidate.get("log_probability", 0.0), "bytes": list(token.encode())}


def logprobs_from(result: dict | None) -> dict | None:
    """Gemini's logprobsResult -> OpenAI's choices[].logprobs."""
    if not result:
        return None
    tops = result.get("top_candidates") or []
    content = []
    for position, chosen in enumerate(result.get("chosen_candidates") or ()):
        top = tops[position].get("candidates") or [] if position < len(tops) else []
        content.append({**_token_logprob(chosen), "top_logprobs": [_token_logprob(t) for t in top]})
    return {"content": content, "refusal": None}


class AnswerContext(NamedTuple):
    """What a response translation needs besides the Gemini answer (ids come from outside)."""
    completion_id: str
    created: int
    model: str
    n: int = 1
    new_call_id: Callable[[], str] = lambda: "call_0"
    first_call_only: bool = False
    service_tier: str | None = None  # as the request named it; None: not echoed
    grounded: bool = False  # Google Search is on: a stream keeps its text for the citations


def grounding_fields(text: str, grounding: dict | None) -> dict:
    """The message (or delta) fields of a grounded answer: its url_citation annotations and,
    as an extension, Gemini's groundingMetadata (grounding_metadata)."""
    if not grounding:
        return {}
    return {"annotations": chat_annotations(text, grounding), "grounding_metadata": raw_grounding(grounding)}


def _choice(position: int, candidate: dict, answer: AnswerContext, signatures: dict[str, str]) -> dict:
    content = candidate.get("content") or {}
    calls = tool_calls_from(content.get("parts") or [], answer.new_call_id,
                            first_only=answer.first_call_only, signatures=signatures)
    text = text_of(content)
    message = {"role": "assistant", "content": text if text or not calls else None, "refusal": None}
    if calls:
        message["tool_calls"] = calls
    if reasoning := text_of(content, thought=True):
        message["reasoning_content"] = reasoning
    message.update(grounding_fields(text, candidate.get("grounding_metadata")))
    return {"index": position, "message": message, "logprobs": logprobs_from(candidate.get("logprobs_result")),
            "finish_reason": finish_reason_from(candidate.get("finish_reason"), bool(calls))}


def completion_from_response(response: dict, answer: AnswerContext, signatures: dict[str, str]) -> dict:
    """The chat.completion for a Gemini answer; thought signatures are collected in `signatures`."""
    candidates = sorted(response.get("candidates") or (), key=lambda c: c.get("index", 0))
    if candidates:
        choices = [_choice(position, c, answer, signatures) for position, c in enumerate(candidates)]
    else:
        # A blocked prompt has no candidates; clients still need a choice that says why.
        choices = [{"index": index, "message": {"role": "assistant", "content": "", "refusal": None},
                    "logprobs": None, "finish_reason": BLOCKED_PROMPT} for index in range(answer.n)]
    searches = max((search_count(c.get("grounding_metadata")) for c in candidates), default=0)
    completion = {
        "id": answer.completion_id,
        "object": "chat.completion",
        "created": answer.created,
        "model": answer.model,
        "choices": choices,
        "usage": usage_from(response.get("usage_metadata"), searches),
    }
    if answer.service_tier is not None:
        completion["service_tier"] = service_tier_from(answer.service_tier)
    return completion
