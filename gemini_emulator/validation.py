"""Request validation with Gemini's rules and (approximately) its messages.

Bodies arrive here already key-normalised (wire.normalize_keys). Anything the real API would
reject becomes a 400 INVALID_ARGUMENT. The feature modules check their own fields: tools
(tools, toolConfig), thinking (thinkingConfig; the per-model rules come later, in the app),
output_format (responseMimeType and schemas), logprobs, media (inlineData, fileData), safety
(safetySettings). Fields the emulator does not act on (cachedContent, labels, ...) are
accepted and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gemini_emulator.audio import check_audio
from gemini_emulator.errors import invalid_argument
from gemini_emulator.logprobs import parse_logprobs
from gemini_emulator.media import check_media
from gemini_emulator.output_format import ResponseFormat, parse_response_format
from gemini_emulator.safety import check_safety_settings
from gemini_emulator.thinking import ThinkingConfig, parse_thinking
from gemini_emulator.tools import ToolSet, parse_tools
from gemini_emulator.wire import decode_base64

ROLES = frozenset({"user", "model", "function", "tool", ""})
_DATA_FIELDS = (
    "text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
    "codeExecutionResult",
)
MAX_STOP_SEQUENCES = 5
# Gemini's ServiceTier, the request's serviceTier (the SDK sends the lower-case names; Google's
# priority-inference page also shows SERVICE_TIER_PRIORITY). Checked, then served alike: Gemini
# reports a downgrade only in an x-gemini-service-tier response header, which the emulator never
# needs to send (it has no capacity to run out of).
SERVICE_TIERS = ("unspecified", "standard", "flex", "priority")
MAX_CANDIDATES = 8

# key -> (low, high, integer?) of each numeric generationConfig field Gemini range-checks.
_NUMERIC_FIELDS = {
    "temperature": (0.0, 2.0, False),
    "topP": (0.0, 1.0, False),
    "topK": (0.0, None, False),
    "candidateCount": (1, MAX_CANDIDATES, True),
    "maxOutputTokens": (0, None, True),
    "presencePenalty": (-2.0, 2.0, False),
    "frequencyPenalty": (-2.0, 2.0, False),
    "seed": (None, None, True),
    "logprobs": (0, 20, True),
}


@dataclass(frozen=True)
class GenerateRequest:
    contents: list[dict[str, Any]]
    system_instruction: dict[str, Any] | None
    generation_config: dict[str, Any]
    candidate_count: int = 1
    max_output_tokens: int | None = None
    stop_sequences: tuple[str, ...] = ()
    thinking: ThinkingConfig = ThinkingConfig()
    tools: ToolSet = ToolSet()
    response_format: ResponseFormat = ResponseFormat()
    logprobs: int | None = None  # top-N when responseLogprobs is on
    service_tier: str | None = None  # one of SERVICE_TIERS; None: not asked for


def _field_error(field: str, value: Any, why: str) -> Exception:
    return invalid_argument(f"Invalid value at '{field}' ({value!r}): {why}")


def _check_part(part: Any, where: str) -> None:
    if not isinstance(part, dict):
        raise _field_error(where, part, "a Part must be an object")
    if not any(name in part for name in _DATA_FIELDS):
        raise invalid_argument(
            f"* GenerateContentRequest.{where}.data: required oneof field 'data' must have one "
            "initialized field"
        )
    if "text" in part and not isinstance(part["text"], str):
        raise _field_error(f"{where}.text", part["text"], "TYPE_STRING expected")
    check_media(part, where)
    signature = part.get("thoughtSignature")
    if signature is not None:
        try:
            decode_base64(signature)
        except ValueError:
            raise invalid_argument(
                f"Invalid value at '{where}.thought_signature' (TYPE_BYTES), Base64 decoding "
                f"failed for \"{str(signature)[:40]}\"") from None
    for call in ("functionCall", "functionResponse"):
        if call in part and not (isinstance(part[call], dict) and part[call].get("name")):
            raise _field_error(f"{where}.{call}.name", part[call], "name is required")
    for call, payload in (("functionCall", "args"), ("functionResponse", "response")):
        if call in part and part[call].get(payload) is not None and not isinstance(
                part[call][payload], dict):
            raise _field_error(f"{where}.{call}.{payload}", part[call][payload],
                               "a Struct (JSON object) is required")


def check_content(content: Any, where: str, check_role: bool = True) -> dict[str, Any]:
    if not isinstance(content, dict):
        raise _field_error(where, content, "a Content must be an object")
    if check_role and content.get("role", "") not in ROLES:
        raise invalid_argument("Please use a valid role: user, model.")
    parts = content.get("parts")
    if not isinstance(parts, list) or not parts:
        raise invalid_argument(f"* GenerateContentRequest.{where}.parts: contents.parts must "
                               "not be empty.")
    for index, part in enumerate(parts):
        _check_part(part, f"{where}.parts[{index}]")
    return content


def check_contents(body: dict[str, Any], request_name: str = "GenerateContentRequest"
                   ) -> list[dict[str, Any]]:
    contents = body.get("contents")
    if contents is None or contents == []:
        raise invalid_argument(f"* {request_name}.contents: contents is not specified")
    if not isinstance(contents, list):
        raise _field_error("contents", contents, "a list of Content is required")
    return [check_content(content, f"contents[{i}]") for i, content in enumerate(contents)]


def _check_number(config: dict[str, Any], key: str) -> None:
    if key not in config or config[key] is None:
        return
    low, high, integer = _NUMERIC_FIELDS[key]
    value = config[key]
    wanted = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, wanted):
        raise _field_error(f"generation_config.{key}", value,
                           "TYPE_INT32 expected" if integer else "TYPE_FLOAT expected")
    if (low is not None and value < low) or (high is not None and value > high):
        raise invalid_argument(
            f"Unable to submit request because it has a {key} value of {value} but the "
            f"supported range is from {low} (inclusive) to {high} (inclusive). Update the value "
            "and try again."
        )


def _stop_sequences(config: dict[str, Any]) -> tuple[str, ...]:
    stops = config.get("stopSequences") or []
    if not isinstance(stops, list) or not all(isinstance(stop, str) for stop in stops):
        raise _field_error("generation_config.stop_sequences", stops, "a list of strings")
    if len(stops) > MAX_STOP_SEQUENCES:
        raise invalid_argument(
            f"* GenerateContentRequest.generation_config.stop_sequences: at most "
            f"{MAX_STOP_SEQUENCES} stop sequences are allowed"
        )
    return tuple(stops)


def check_labels(body: dict[str, Any], vertex: bool) -> None:
    """`labels` (billing labels) exist on Vertex AI only: the Gemini API refuses the field as it refuses
    any it does not know."""
    labels = body.get("labels")
    if labels is None:
        return
    if not vertex:
        raise invalid_argument('Invalid JSON payload received. Unknown name "labels": Cannot find field.')
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise _field_error("labels", labels, "a map of strings")


def parse_generate(body: dict[str, Any], vertex: bool = False) -> GenerateRequest:
    """A validated generateContent / streamGenerateContent request (`vertex`: on a Vertex AI path)."""
    check_labels(body, vertex)
    contents = check_contents(body)
    check_audio(contents)
    system = body.get("systemInstruction")
    if system is not None:
        # Its role is ignored (the SDK sends "user"; other clients send "system").
        system = check_content(system, "system_instruction", check_role=False)
    config = body.get("generationConfig") or {}
    if not isinstance(config, dict):
        raise _field_error("generation_config", config, "an object")
    for key in _NUMERIC_FIELDS:
        _check_number(config, key)
    check_safety_settings(body)
    return GenerateRequest(
        contents=contents,
        system_instruction=system,
        generation_config=config,
        candidate_count=config.get("candidateCount") or 1,
        # proto3: 0 means "unset".
        max_output_tokens=config.get("maxOutputTokens") or None,
        stop_sequences=_stop_sequences(config),
        thinking=parse_thinking(config),
        tools=parse_tools(body),
        response_format=parse_response_format(config),
        logprobs=parse_logprobs(config),
        service_tier=_service_tier(body.get("serviceTier")),
    )


def _service_tier(value: Any) -> str | None:
    if value is None:
        return None
    name = value.lower().removeprefix("service_tier_") if isinstance(value, str) else None
    if name not in SERVICE_TIERS:
        raise _field_error("service_tier", value, f"one of {list(SERVICE_TIERS)}")
    return name


def parse_count_tokens(body: dict[str, Any]) -> tuple[list[dict[str, Any]], dict | None]:
    """Contents (and system instruction) of a countTokens request, in either of its forms."""
    inner = body.get("generateContentRequest")
    if isinstance(inner, dict):
        request = parse_generate(inner)
        return request.contents, request.system_instruction
    return check_contents(body, "CountTokensRequest"), None
