"""Small fields for OpenAI's JSON: strict scalars (JSON has no "0.5" floats or 1-as-true
booleans) and the unions OpenAI uses (string-or-list)."""
from __future__ import annotations

from marshmallow import fields


class StrictNumber(fields.Float):
    default_error_messages = {"invalid": "must be a number"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictInteger(fields.Integer):
    default_error_messages = {"invalid": "must be an integer"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return value


class StrictBoolean(fields.Field):
    default_error_messages = {"invalid": "must be a boolean"}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class StrictString(fields.String):
    default_error_messages = {"invalid": "must be a string"}


class StringOrList(fields.Field):
    """A string or a list of strings, always loaded as a list."""

    default_error_messages = {
        "invalid": "must be a string or an array of strings",
        "too_long": "must have at most {max} items",
        "empty": "must not contain empty strings",
    }

    def __init__(self, max_items: int, **kwargs):
        super().__init__(**kwargs)
        self.max_items = max_items

    def _deserialize(self, value, attr, data, **kwargs):
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise self.make_error("invalid")
        if len(items) > self.max_items:
            raise self.make_error("too_long", max=self.max_items)
        if not all(items):
            raise self.make_error("empty")
        return items


class Present(fields.Field):
    """Modelled so that a request using it is refused by name, not silently dropped."""

    def _deserialize(self, value, attr, data, **kwargs):
        return value

