"""Gemini answers -> Responses stream events, one upstream chunk at a time.

OpenAI's stream contract, kept here: response.created and response.in_progress first; then
each output item opened by output_item.added and closed by output_item.done before the next
one opens (Codex follows a single "active item"); a message's content_part.added before its
first output_text.delta; exactly one terminal event (response.completed, .incomplete or
.failed) carrying the whole Response; every event numbered by sequence_number 0, 1, 2...

Items follow Gemini's parts in order: thought summaries (when reasoning.summary was asked) make
a reasoning item, text makes the message, each functionCall a call item. The layout depends
only on the order of the parts, never on how the stream was cut into chunks, so the final
Response of a stream is the Response of the same answer unstreamed (output.py runs this class).

Thought signatures are kept for the server-side store (take_signatures) and, for clients that
keep no state here (ResponseContext.carry_state), sealed into a reasoning item's
encrypted_content (carrier.py): the open reasoning item when they arrive while it is open,
else a "carrier" reasoning item with no summary, emitted just before the call they sign, or
after the last item for a text signature. Each blob holds everything known when it is sealed.
"""
from __future__ import annotations

from gemini_proxy.translate.chat import usage_from
from gemini_proxy.translate.responses.carrier import CarriedState, encode
from gemini_proxy.translate.responses.context import ResponseContext
from gemini_proxy.translate.responses.grounding import citations_from, web_search_item
from gemini_proxy.translate.responses.output_items import (
    CALL_ID_PREFIXES,
    call_item,
    call_type,
    error_object,
    failure,
    message_item,
    outcome,
    output_text,
    reasoning_item,
    response_object,
    response_usage,
)

TERMINAL_EVENTS = {"completed": "response.completed", "incomplete": "response.incomplete",
                   "failed": "response.failed"}
# Output item type of a call -> its input events (function_call_arguments / custom_tool_call_input).
ARGUMENT_EVENTS = {"function_call": ("response.function_call_arguments", "arguments"),
                   "custom_tool_call": ("response.custom_tool_call_input", "input")}


class _Open:
    """The output item being streamed: a message or a reasoning summary."""

    def __init__(self, kind: str, item_id: str, index: int):
        self.kind, self.id, self.index = kind, item_id, index
        self.text = ""

    def where(self, **more) -> dict:
        return {"item_id": self.id, "output_index": self.index, **more}


class ResponseStream:
    def __init__(self, context: ResponseContext):
        self._context = context
        self._sequence = 0
        self._output: list[dict] = []  # items done, in order
        self._open: _Open | None = None
        self._calls = 0
        self._signatures: dict[str, str] = {}  # call_id -> thought signature, for carried blobs
        self._gemini_ids: dict[str, str] = {}  # call_id -> Gemini's functionCall.id
        self._text_signature: str | None = None
        self._unsealed = False  # state known that no emitted blob holds yet
        self._to_store: dict[str, str] = {}  # call_id -> signature, not yet taken for the store
        self._usage_metadata: dict | None = None
        self._grounding: dict | None = None
        self._finish_reason: str | None = None
        self._blocked = False
        self._final: dict | None = None

    def _event(self, kind: str, **fields) -> dict:
        event = {"type": kind, **fields, "sequence_number": self._sequence}
        self._sequence += 1
        return event

    def _add(self, item: dict, out: list) -> int:
        index = len(self._output)  # the item before it is done: one item open at a time
        out.append(self._event("response.output_item.added", output_index=index, item=item))
        return index

    def _done(self, item: dict, index: int, out: list) -> None:
        self._output.append(item)
        out.append(self._event("response.output_item.done", output_index=index, item=item))

    def _seal(self) -> str:
        self._unsealed = False
        state = CarriedState(dict(self._signatures), dict(self._gemini_ids), self._text_signature,
                             self._context.family.name)
        return encode(state, self._context.carrier_key)

    def _open_item(self, kind: str, out: list) -> _Open:
        self._close_open(out)
        if kind == "message":
            opened = _Open(kind, self._context.new_id("msg"), len(self._output))
            out.append(self._event("response.output_item.added", output_index=opened.index,
                                   item=message_item(opened.id, "in_progress", [])))
            out.append(self._event("response.content_part.added", **opened.where(content_index=0),
                                   part=output_text("")))
        else:
            opened = _Open(kind, self._context.new_id("rs"), len(self._output))
            out.append(self._event("response.output_item.added", output_index=opened.index,
                                   item=reasoning_item(opened.id)))
            out.append(self._event("response.reasoning_summary_part.added", **opened.where(summary_index=0),
                                   part={"type": "summary_text", "text": ""}))
        self._open = opened
        return opened

    def _close_open(self, out: list, status: str = "completed") -> None:
        opened, self._open = self._open, None
        if opened is None:
            return
        if opened.kind == "message":
            annotations = citations_from(opened.text, self._grounding)
            for position, annotation in enumerate(annotations):
                out.append(self._event("response.output_text.annotation.added", **opened.where(content_index=0),
                                       annotation_index=position, annotation=annotation))
            part = output_text(opened.text, annotations)
            out.append(self._event("response.output_text.done", **opened.where(content_index=0), text=opened.text,
                                   logprobs=[]))
            out.append(self._event("response.content_part.done", **opened.where(content_index=0), part=part))
            self._done(message_item(opened.id, status, [part]), opened.index, out)
        else:
            summary = {"type": "summary_text", "text": opened.text}
            out.append(self._event("response.reasoning_summary_text.done", **opened.where(summary_index=0),
                                   text=opened.text))
            out.append(self._event("response.reasoning_summary_part.done", **opened.where(summary_index=0),
                                   part=summary))
            sealed = self._seal() if self._context.carry_state else None
            self._done(reasoning_item(opened.id, opened.text, sealed), opened.index, out)

    def _carrier(self, out: list) -> None:
        """A reasoning item whose only content is the state sealed so far."""
        item_id = self._context.new_id("rs")
        index = self._add(reasoning_item(item_id), out)
        self._done(reasoning_item(item_id, encrypted=self._seal()), index, out)

    def _text(self, kind: str, text: str, out: list) -> None:
        opened = self._open if self._open is not None and self._open.kind == kind else self._open_item(kind, out)
        opened.text += text
        if kind == "message":
            out.append(self._event("response.output_text.delta", **opened.where(content_index=0), delta=text,
                                   logprobs=[]))
        else:
            out.append(self._event("response.reasoning_summary_text.delta", **opened.where(summary_index=0),
                                   delta=text))

    def _call(self, part: dict, out: list) -> None:
        if self._context.first_call_only and self._calls:
            return
        self._calls += 1
        call = part["function_call"]
        call_id = self._context.new_id("call")
        if call.get("id"):
            self._gemini_ids[call_id] = call["id"]
            self._unsealed = True
        if part.get("thought_signature"):
            self._signatures[call_id] = self._to_store[call_id] = part["thought_signature"]
            self._unsealed = True
        self._close_open(out)
        if self._context.carry_state and self._unsealed:
            self._carrier(out)
        kind = call_type(self._context, call.get("name") or "")
        item_id = self._context.new_id(CALL_ID_PREFIXES[kind])
        index = self._add(call_item(self._context, call, item_id, call_id, done=False), out)
        item = call_item(self._context, call, item_id, call_id, done=True)
        if kind in ARGUMENT_EVENTS:
            prefix, field = ARGUMENT_EVENTS[kind]
            where = {"item_id": item_id, "output_index": index}
            out.append(self._event(f"{prefix}.delta", **where, delta=item[field]))
            done = {"name": item["name"]} if kind == "function_call" else {}
            out.append(self._event(f"{prefix}.done", **where, **done, **{field: item[field]}))
        self._done(item, index, out)

    def _part(self, part: dict, out: list) -> None:
        if "function_call" in part:
            self._call(part, out)
            return
        if part.get("thought_signature"):
            self._text_signature = part["thought_signature"]
            self._unsealed = True
        text = part.get("text")
        if not text:
            return  # empty text (Gemini 3's last chunk), or media and code parts: nothing to show
        if not part.get("thought"):
            self._text("message", text, out)
        elif self._context.summaries:
            self._text("reasoning", text, out)

    def start(self) -> list[dict]:
        """response.created and response.in_progress."""
        return [self._event(kind, response=response_object(self._context, "in_progress", []))
                for kind in ("response.created", "response.in_progress")]

    def events_from(self, chunk: dict) -> list[dict]:
        """The events of one Gemini chunk (an SDK-named GenerateContentResponse)."""
        if self._final is not None:
            return []
        out: list[dict] = []
        self._usage_metadata = chunk.get("usage_metadata") or self._usage_metadata
        candidates = chunk.get("candidates") or ()
        if not candidates and (chunk.get("prompt_feedback") or {}).get("block_reason"):
            self._blocked = True
        # Responses has no `n`: the first candidate is the answer.
        candidate = min(candidates, key=lambda c: c.get("index", 0), default=None)
        if candidate is not None:
            # Gemini repeats the metadata gathered so far; some models leave it off the last chunk.
            self._grounding = candidate.get("grounding_metadata") or self._grounding
            for part in (candidate.get("content") or {}).get("parts") or ():
                self._part(part, out)
            self._finish_reason = candidate.get("finish_reason") or self._finish_reason
        return out

    def close(self) -> list[dict]:
        """The events that end the stream once Gemini is done: open items closed, then the
        terminal event."""
        if self._final is not None:
            return []
        out: list[dict] = []
        usable = any(item["type"] != "reasoning" for item in self._output) or (
            self._open is not None and self._open.kind == "message")
        status, reason = outcome(self._finish_reason, self._blocked, usable)
        self._close_open(out, "incomplete" if status == "incomplete" else "completed")
        searched = web_search_item(self._context.new_id("ws"), self._grounding) if self._grounding else None
        if searched is not None:
            index = self._add({**searched, "status": "in_progress"}, out)
            for step in ("in_progress", "searching", "completed"):
                out.append(self._event(f"response.web_search_call.{step}", output_index=index, item_id=searched["id"]))
            self._done(searched, index, out)
        if self._context.carry_state and self._unsealed:
            self._carrier(out)
        if status == "failed":
            out.extend(self._terminal("failed", error=failure(reason)))
        else:
            out.extend(self._terminal(status, incomplete=reason))
        return out

    def failed(self, error: dict) -> list[dict]:
        """response.failed after a failure mid-stream (`error`: OpenAI's error object, as the
        HTTP error would have carried it); the items done so far stay, an open one is dropped."""
        if self._final is not None:
            return []
        self._open = None
        return self._terminal("failed", error=error_object(error))

    def _terminal(self, status: str, *, error: dict | None = None, incomplete: str | None = None) -> list[dict]:
        clock = self._context.clock
        completed_at = (int(clock()) if clock else self._context.created_at) if status == "completed" else None
        usage = response_usage(self._usage_metadata) if self._usage_metadata or status != "failed" else None
        self._final = response_object(self._context, status, list(self._output), usage=usage, error=error,
                                      incomplete=incomplete, completed_at=completed_at)
        return [self._event(TERMINAL_EVENTS[status], response=self._final)]

    @property
    def response(self) -> dict:
        """The Response as it stands: the final one once the terminal event was made."""
        if self._final is not None:
            return self._final
        return response_object(self._context, "in_progress", list(self._output))

    @property
    def finish_reason(self) -> str | None:
        """Gemini's finishReason so far (for logs: Responses has no field for the raw reason)."""
        return self._finish_reason

    def take_signatures(self) -> dict[str, str]:
        """The thought signatures seen since the last call (call_id -> signature, for the store)."""
        taken, self._to_store = self._to_store, {}
        return taken

    def usage(self) -> dict | None:
        """Chat-style usage (prompt_tokens...) for the request record; None until Gemini reported any."""
        return usage_from(self._usage_metadata) if self._usage_metadata else None
