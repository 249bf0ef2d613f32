"""Request schemas, and load(): validation errors become a 400 naming the param."""
from __future__ import annotations

from marshmallow import Schema, ValidationError

from gemini_proxy.errors import invalid_request
from gemini_proxy.schemas.chat import ChatCompletionSchema

__all__ = ["ChatCompletionSchema", "load"]


def _first_error(messages, path: list) -> tuple[list, str]:
    """The path to, and the text of, the first leaf of marshmallow's nested error messages."""
    if isinstance(messages, dict):
        key = next(iter(messages))
        return _first_error(messages[key], path if key == "_schema" else path + [key])
    if isinstance(messages, list) and messages:
        if all(isinstance(item, str) for item in messages):
            return path, messages[0]
        return _first_error(messages[0], path)
    return path, str(messages)


def param_name(path: list) -> str:
    """["messages", 2, "content"] -> "messages[2].content" (OpenAI's way of naming a param)."""
    name = ""
    for key in path:
        name += f"[{key}]" if isinstance(key, int) else (f".{key}" if name else str(key))
    return name


def load(schema: Schema, body) -> dict:
    if not isinstance(body, dict):
        raise invalid_request("The request body must be a JSON object.")
    try:
        return schema.load(body)
    except ValidationError as exc:
        path, text = _first_error(exc.messages, [])
        param = param_name(path) or None
        if text == "Missing data for required field.":
            raise invalid_request(f"Missing required parameter: '{param}'.", param,
                                  "missing_required_parameter") from exc
        text = text.rstrip(".")
        message = f"Invalid value for '{param}': {text}." if param else f"Invalid request: {text}."
        raise invalid_request(message, param) from exc
