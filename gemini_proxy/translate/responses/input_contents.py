"""Responses input items -> Gemini systemInstruction parts and contents (note section 2.3).

A run of assistant-side items (assistant message, function, custom and local_shell calls,
reasoning) is one model Content; the outputs that answer its calls are one user Content, in the
order of the calls. Clients interleave parallel calls with their outputs ([fc1, out1, fc2, out2]:
Codex records each call beside its output), so a call that follows outputs joins the step
before it unless something says it is a new step: a reasoning item or assistant text between, or
a thought signature of its own (Gemini signs only the first call of each step).

Thought signatures, for each call: the HMAC-tagged blob of a reasoning item (what stateless
clients carry, carrier.py), then the server-side store by call_id, then, on the first call of a
model Content that still has none, Google's documented dummy (as chat does).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gemini_proxy.errors import invalid_request
from gemini_proxy.translate.messages import DUMMY_SIGNATURE, call_args, function_response, signature_bytes
from gemini_proxy.translate.responses.carrier import decode
from gemini_proxy.translate.responses.input_tools import LOCAL_SHELL, flat_name

CALLS = frozenset({"function_call", "custom_tool_call", "local_shell_call"})
OUTPUTS = frozenset({"function_call_output", "custom_tool_call_output", "local_shell_call_output"})
SYSTEM_ROLES = frozenset({"system", "developer"})
# Content part type -> the field holding its text.
TEXT_FIELDS = {"input_text": "text", "output_text": "text", "refusal": "refusal"}
MEDIA_TYPES = frozenset({"input_image", "input_file", "input_audio"})


@dataclass(frozen=True)
class Lookups:
    """What the caller looked up for a request's items, and what the model needs."""
    signatures: Mapping[str, str] = field(default_factory=dict)  # call_id -> signature (server-side store)
    # A media part's param ("input[2].content[1]", "history[0].output[0]") -> (MIME type, bytes).
    media: Mapping[str, tuple[str, bytes | str]] = field(default_factory=dict)
    carrier_key: bytes = b""
    family: str = ""  # Family.name of the model: a blob from another family's model is not replayed
    needs_signatures: bool = False
    max_json_depth: int = 128


@dataclass
class _Turn:
    role: str
    parts: list[dict] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # model: its call_ids, in order
    answers: dict[str, list[dict]] = field(default_factory=dict)  # user: call_id -> functionResponse + media parts
    text_signature: str | None = None


@dataclass
class _Carried:
    signatures: dict[str, str] = field(default_factory=dict)
    gemini_ids: dict[str, str] = field(default_factory=dict)
    texts: dict[int, str] = field(default_factory=dict)  # id() of a reasoning item -> its text signature


def expanded(history: list[dict], items: list[dict], referenced: Mapping[str, dict]) -> list[tuple[str, dict]]:
    """(param, item) of the whole conversation: the stored chain, then the request's input with its
    item_references replaced by the items they name. An id twice in the input, or already in the
    chain, is refused (OpenAI's wording)."""
    conversation = [(f"history[{index}]", _referenced(item, referenced)) for index, item in enumerate(history)]
    seen = {item.get("id") for _, item in conversation}
    for index, sent in enumerate(items):
        item = _referenced(sent, referenced)
        item_id = item.get("id")
        if item_id:
            if item_id in seen:
                raise invalid_request(f"Duplicate item found with id {item_id}. Remove duplicate items from your "
                                      "input and try again.", "input")
            seen.add(item_id)
        conversation.append((f"input[{index}]", item))
    return conversation


def _referenced(item: dict, referenced: Mapping[str, dict]) -> dict:
    if item.get("type") != "item_reference":
        return item
    found = referenced.get(item["id"])
    if found is None or found.get("type") == "item_reference":
        raise invalid_request(f"Item with id '{item['id']}' not found.", "input")
    return found


def _carried(conversation: Iterable[tuple[str, dict]], lookups: Lookups) -> _Carried:
    """Pass 1: the state sealed in reasoning items' encrypted_content (only blobs this gateway
    made, for a model of this family)."""
    carried = _Carried()
    for _, item in conversation:
        if item.get("type") != "reasoning" or not item.get("encrypted_content"):
            continue
        state = decode(item["encrypted_content"], lookups.carrier_key)
        if state is None or state.family != lookups.family:
            continue
        carried.signatures.update(state.signatures)
        carried.gemini_ids.update(state.gemini_ids)
        if state.text_signature:
            carried.texts[id(item)] = state.text_signature
    return carried


def _text_parts(content: list[dict]) -> list[dict]:
    # Gemini rejects empty text parts; they carry nothing anyway.
    return [{"text": part[TEXT_FIELDS[part["type"]]]} for part in content
            if part["type"] in TEXT_FIELDS and part[TEXT_FIELDS[part["type"]]]]


def _media(param: str, lookups: Lookups) -> dict:
    if param not in lookups.media:
        raise invalid_request("This media part was not loaded (an image, file or audio the gateway could not "
                              "read).", param)
    mime, data = lookups.media[param]
    if isinstance(data, str):  # a Cloud Storage object Vertex AI reads itself (media/parts.py)
        return {"file_data": {"mime_type": mime, "file_uri": data}}
    return {"inline_data": {"mime_type": mime, "data": data}}


def _user_parts(content: list[dict], param: str, lookups: Lookups) -> list[dict]:
    parts = []
    for index, part in enumerate(content):
        if part["type"] in MEDIA_TYPES:
            parts.append(_media(f"{param}.content[{index}]", lookups))
        else:
            parts.extend(_text_parts([part]))
    return parts


def _call(item: dict, param: str, lookups: Lookups) -> tuple[str, dict]:
    """(Gemini name, args) of a call item."""
    kind = item["type"]
    if kind == "function_call":
        return flat_name(item.get("namespace"), item["name"]), call_args(
            item["arguments"], f"{param}.arguments", lookups.max_json_depth)
    if kind == "custom_tool_call":
        return flat_name(item.get("namespace"), item["name"]), {"input": item["input"]}
    action = item["action"]
    args = {"command": list(action["command"])}
    if action.get("working_directory") is not None:
        args["workdir"] = action["working_directory"]
    if action.get("timeout_ms") is not None:
        args["timeout_ms"] = action["timeout_ms"]
    return LOCAL_SHELL, args


def _output_call_id(item: dict) -> str:
    # local_shell_call_output names its call by `id` in OpenAI's spec, by call_id in clients.
    return item.get("call_id") or item["id"]


class _Builder:
    """Pass 2: items in order -> turns, checking that calls and outputs pair up."""

    def __init__(self, lookups: Lookups, carried: _Carried):
        self.lookups, self.carried = lookups, carried
        self.system: list[dict] = []
        self.turns: list[_Turn] = []
        self.step: _Turn | None = None  # the model turn the next call may join
        self.names: dict[str, str] = {}  # call_id -> Gemini name, of every call so far
        self.pending: dict[str, str] = {}  # call_id -> param, of calls still waiting for their output

    def _last(self) -> _Turn | None:
        return self.turns[-1] if self.turns else None

    def _model_turn(self, joins: bool) -> _Turn:
        """The model turn an assistant-side item goes in; `joins`: a call with no signature of its
        own, which joins the step before the outputs that follow it."""
        last = self._last()
        if self.step is not None and (last is self.step or (joins and last is not None and last.answers)):
            return self.step
        self.refuse_pending()
        self.step = _Turn("model")
        self.turns.append(self.step)
        return self.step

    def refuse_pending(self) -> None:
        if self.pending:
            call_id = next(iter(self.pending))
            raise invalid_request(f"No tool output found for function call {call_id}.", "input")

    def message(self, item: dict, param: str) -> None:
        role = item["role"]
        if role in SYSTEM_ROLES:
            # Gemini has one system instruction: system and developer text goes there, in order,
            # wherever it stood in the conversation.
            self.system.extend(_text_parts(item["content"]))
        elif role == "assistant":
            parts = _text_parts(item["content"])
            if parts:
                self._model_turn(joins=False).parts.extend(parts)
        else:
            parts = _user_parts(item["content"], param, self.lookups)
            if not parts:
                return
            self.refuse_pending()
            self.step = None
            last = self._last()
            if last is not None and last.role == "user":
                last.parts.extend(parts)
            else:
                self.turns.append(_Turn("user", parts))

    def reasoning(self, item: dict) -> None:
        turn = self._model_turn(joins=False)
        if id(item) in self.carried.texts:
            turn.text_signature = self.carried.texts[id(item)]

    def call(self, item: dict, param: str) -> None:
        call_id = item["call_id"]
        name, args = _call(item, param, self.lookups)
        signature = self.carried.signatures.get(call_id) or self.lookups.signatures.get(call_id)
        turn = self._model_turn(joins=not signature)
        function_call = {"name": name, "args": args}
        if call_id in self.carried.gemini_ids:
            function_call["id"] = self.carried.gemini_ids[call_id]
        part = {"function_call": function_call}
        if signature:
            part["thought_signature"] = signature_bytes(signature, param)
        turn.parts.append(part)
        turn.calls.append(call_id)
        self.names[call_id] = name
        self.pending[call_id] = param

    def output(self, item: dict, param: str) -> None:
        call_id = _output_call_id(item)
        if call_id not in self.names:
            raise invalid_request(f"No tool call found for function call output with call_id {call_id}.", "input")
        if call_id not in self.pending:
            raise invalid_request(f"The tool call {call_id} has more than one output.", "input")
        del self.pending[call_id]
        output = item["output"]
        media = []
        if isinstance(output, str):
            text = output
        else:
            text = "".join(part.get("text", "") for part in output if part["type"] == "input_text")
            media = [_media(f"{param}.output[{index}]", self.lookups) for index, part in enumerate(output)
                     if part["type"] in MEDIA_TYPES]
        part = function_response(self.names[call_id], text, self.lookups.max_json_depth)
        if call_id in self.carried.gemini_ids:
            part["function_response"]["id"] = self.carried.gemini_ids[call_id]
        last = self._last()
        if last is None or not last.answers:
            last = _Turn("user")
            self.turns.append(last)
        last.answers[call_id] = [part, *media]

    def add(self, item: dict, param: str) -> None:
        kind = item.get("type", "message")
        if kind == "message":
            self.message(item, param)
        elif kind == "reasoning":
            self.reasoning(item)
        elif kind in CALLS:
            self.call(item, param)
        elif kind in OUTPUTS:
            self.output(item, param)
        # web_search_call: what the search found is already in the answer that follows it.


def _model_parts(turn: _Turn, lookups: Lookups) -> list[dict]:
    parts = turn.parts
    calls = [part for part in parts if "function_call" in part]
    if calls and "thought_signature" not in calls[0] and lookups.needs_signatures:
        calls[0]["thought_signature"] = DUMMY_SIGNATURE
    texts = [part for part in parts if "text" in part]
    if turn.text_signature and texts and "thought_signature" not in texts[-1]:
        texts[-1]["thought_signature"] = signature_bytes(turn.text_signature)
    return parts


def _answer_parts(turn: _Turn, calls: list[str]) -> list[dict]:
    """The functionResponses in the order of the calls they answer, then their media."""
    order = [call_id for call_id in calls if call_id in turn.answers]
    answers = [turn.answers[call_id] for call_id in order]
    return [answer[0] for answer in answers] + [part for answer in answers for part in answer[1:]] + turn.parts


def contents_from_items(instructions: str | None, conversation: list[tuple[str, dict]],
                        lookups: Lookups) -> tuple[dict | None, list[dict]]:
    """(system_instruction, contents) of a conversation (expanded())."""
    builder = _Builder(lookups, _carried(conversation, lookups))
    for param, item in conversation:
        builder.add(item, param)
    builder.refuse_pending()
    contents: list[dict] = []
    calls: list[str] = []
    for turn in builder.turns:
        if turn.role == "model":
            parts, calls = _model_parts(turn, lookups), turn.calls
        else:
            parts = _answer_parts(turn, calls)
        if not parts:
            continue
        if contents and contents[-1]["role"] == turn.role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": turn.role, "parts": parts})
    if not contents:
        raise invalid_request("input must contain at least one user or assistant item with content.", "input")
    system = [{"text": instructions}] if instructions else []
    system += builder.system
    return ({"parts": system} if system else None), contents
