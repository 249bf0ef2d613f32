"""The pieces of a Response: output items, usage, the outcome of Gemini's finish reason, and
the Response object around them.

Only fields that are in both OpenAI's spec and the openai SDK's types are written: strict
clients (and the conformance checker) treat any other field as an error. Hence no `store`, no
`output_text`, no `status` on custom_tool_call, and `user` only when the request had one.
"""
from __future__ import annotations

import json

from gemini_proxy.translate.chat import FINISH_REASONS, usage_from
from gemini_proxy.translate.responses.context import ResponseContext

# chat's finish_reason -> Responses' incomplete_details.reason (finishReasons chat calls "stop"
# complete the Response).
INCOMPLETE_REASONS = {"length": "max_output_tokens", "content_filter": "content_filter"}
INCOMPLETE = {gemini: INCOMPLETE_REASONS[chat] for gemini, chat in FINISH_REASONS.items() if chat in INCOMPLETE_REASONS}
# Gemini finishReasons that mean "done" whatever came before them. Any other reason
# (MALFORMED_FUNCTION_CALL, OTHER, reasons newer than this table) with nothing usable to show
# fails the Response instead of completing it empty.
FINISHED = frozenset({"STOP", "FINISH_REASON_UNSPECIFIED"})
# ResponseErrorCode values a failure can keep; every other code becomes server_error (the enum
# has no code for timeouts or unreachable upstreams).
ERROR_CODES = frozenset({"server_error", "rate_limit_exceeded", "invalid_prompt"})


def response_usage(metadata: dict | None) -> dict:
    """Gemini's usageMetadata as Responses' usage (chat's arithmetic: thoughts are output)."""
    chat = usage_from(metadata)
    return {
        "input_tokens": chat["prompt_tokens"],
        "input_tokens_details": {"cached_tokens": chat["prompt_tokens_details"]["cached_tokens"],
                                 "cache_write_tokens": 0},
        "output_tokens": chat["completion_tokens"],
        "output_tokens_details": {"reasoning_tokens": chat["completion_tokens_details"]["reasoning_tokens"]},
        "total_tokens": chat["total_tokens"],
    }


def outcome(finish_reason: str | None, blocked: bool, usable: bool) -> tuple[str, str | None]:
    """(status, incomplete reason or failed finishReason) of an answer that ended with
    `finish_reason`; `usable`: it produced a message or a call."""
    if blocked:
        return "incomplete", "content_filter"
    reason = finish_reason or "STOP"
    if reason in INCOMPLETE:
        return "incomplete", INCOMPLETE[reason]
    if reason in FINISHED or usable:
        return "completed", None
    return "failed", reason


def failure(finish_reason: str) -> dict:
    return {"code": "server_error", "message": f"Gemini ended its answer with finishReason {finish_reason} "
                                               "and nothing to show for it."}


def error_object(error: dict) -> dict:
    """OpenAI's error object (as rendered for an HTTP error) as a Response's `error`."""
    code = error.get("code") if error.get("code") in ERROR_CODES else "server_error"
    return {"code": code, "message": error.get("message") or "The response failed."}


def response_object(context: ResponseContext, status: str, output: list[dict], *, usage: dict | None = None,
                    error: dict | None = None, incomplete: str | None = None,
                    completed_at: int | None = None) -> dict:
    response = {
        "id": context.response_id,
        "object": "response",
        "created_at": context.created_at,
        "status": status,
        "completed_at": completed_at,
        "error": error,
        "incomplete_details": {"reason": incomplete} if incomplete else None,
        "model": context.model,
        "output": output,
        **context.echoed,
    }
    # The spec's usage is not nullable: a Response still in progress has none yet.
    if usage is not None:
        response["usage"] = usage
    return response


def output_text(text: str, annotations: list[dict] | None = None) -> dict:
    return {"type": "output_text", "text": text, "annotations": annotations or [], "logprobs": []}


def message_item(item_id: str, status: str, content: list[dict]) -> dict:
    return {"id": item_id, "type": "message", "role": "assistant", "status": status, "content": content}


def reasoning_item(item_id: str, summary: str | None = None, encrypted: str | None = None) -> dict:
    item = {"id": item_id, "type": "reasoning",
            "summary": [] if summary is None else [{"type": "summary_text", "text": summary}]}
    if encrypted is not None:
        item["encrypted_content"] = encrypted
    return item


def arguments_of(call: dict) -> str:
    return json.dumps(call.get("args") or {}, ensure_ascii=False)


def custom_input(args: dict | None) -> str:
    """A custom tool's raw input: Gemini was declared a function with one string `input`
    (Codex's apply_patch aborts on JSON-wrapped input)."""
    args = args or {}
    if isinstance(args.get("input"), str):
        return args["input"]
    strings = [value for value in args.values() if isinstance(value, str)]
    return strings[0] if len(args) == 1 and strings else json.dumps(args, ensure_ascii=False)


def shell_action(args: dict | None) -> dict:
    args = args or {}
    command = args.get("command") or []
    timeout = args.get("timeout_ms")
    return {"type": "exec", "command": [command] if isinstance(command, str) else [str(c) for c in command],
            "env": {}, "timeout_ms": timeout if isinstance(timeout, int) else None,
            "working_directory": args.get("workdir") if isinstance(args.get("workdir"), str) else None,
            "user": None}


# Output item type of a call -> the prefix of its item id.
CALL_ID_PREFIXES = {"function_call": "fc", "custom_tool_call": "ctc", "local_shell_call": "lsh"}


def call_type(context: ResponseContext, name: str) -> str:
    """The output item type of a Gemini functionCall named `name`."""
    if name in context.custom_tools:
        return "custom_tool_call"
    if context.local_shell and name == "local_shell":
        return "local_shell_call"
    return "function_call"


def call_item(context: ResponseContext, call: dict, item_id: str, call_id: str, *, done: bool) -> dict:
    """The output item of a Gemini functionCall. Not `done`: as output_item.added shows it
    (empty arguments or input, status in_progress)."""
    kind = call_type(context, call.get("name") or "")
    if kind == "local_shell_call":
        return {"id": item_id, "type": kind, "call_id": call_id, "status": "completed" if done else "in_progress",
                "action": shell_action(call.get("args"))}
    namespace, name = context.namespaced.get(call.get("name") or "", (None, call.get("name") or ""))
    if kind == "custom_tool_call":
        item = {"id": item_id, "type": kind, "call_id": call_id, "name": name,
                "input": custom_input(call.get("args")) if done else ""}
    else:
        item = {"id": item_id, "type": kind, "status": "completed" if done else "in_progress", "call_id": call_id,
                "name": name, "arguments": arguments_of(call) if done else ""}
    if namespace is not None:
        item["namespace"] = namespace
    return item
