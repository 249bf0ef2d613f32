"""Small fields for OpenAI's JSON: strict scalars (JSON has no "0.5" floats or 1-as-true
booleans) and the unions OpenAI uses (string-or-list)."""
from __future__ import annotations

import copy
from collections.abc import Mapping

from marshmallow import EXCLUDE, Schema, ValidationError, fields, missing

_NARROWED_KEPT = 64  # key sets a schema keeps its narrowed copy for


def _skippable(field: fields.Field) -> bool:
    """A field whose absence marshmallow's load turns into nothing at all: not required, no
    load_default, and the Field's own handling of a missing value."""
    return (not field.required and field.load_default is missing
            and type(field).deserialize is fields.Field.deserialize
            and type(field)._validate_missing is fields.Field._validate_missing)


class Lenient(Schema):
    """OpenAI clients send fields this gateway does not model: they are tolerated.

    A body is deserialized with the fields it has (and those it must have, or that have a
    default): marshmallow's load otherwise deserializes every declared field, sent or not, and
    a chat request sends a handful of its 38. The schema keeps a copy of itself narrowed to each
    of the last few key sets it saw (only its `load_fields` differ; `fields`, hooks and unknown
    keys are as declared), and loads with it."""

    class Meta:
        unknown = EXCLUDE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._narrowed: dict[frozenset, Schema] = {}
        self._keys = {field.data_key or name: name for name, field in self.load_fields.items()}
        self._kept = {name for name, field in self.load_fields.items() if not _skippable(field)}

    def _narrowed_to(self, data: Mapping) -> Schema:
        declared = frozenset(self._keys[key] for key in data if key in self._keys)
        schema = self._narrowed.get(declared)
        if schema is None:
            schema = copy.copy(self)
            schema.load_fields = {name: field for name, field in self.load_fields.items()
                                  if name in declared or name in self._kept}
            if len(self._narrowed) < _NARROWED_KEPT:
                self._narrowed[declared] = schema
        return schema

    def _deserialize(self, data, *, many: bool = False, partial=None, **kwargs):
        if many or partial is not None or not isinstance(data, Mapping):
            return super()._deserialize(data, many=many, partial=partial, **kwargs)
        return Schema._deserialize(self._narrowed_to(data), data, many=many, partial=partial, **kwargs)


class StrictNumber(fields.Float):
    default_error_messages = {"invalid": "must be a number"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


# Gemini's integer fields are int32: a larger value is refused here, naming the parameter.
INT32_MIN, INT32_MAX = -2**31, 2**31 - 1


class StrictInteger(fields.Integer):
    """An integer, and so a whole-number float (1.0): JSON does not tell 1 from 1.0, and JSON
    Schema calls 1.0 an integer. Every use gives a validate.Range with both ends (a test checks)."""

    default_error_messages = {"invalid": "must be an integer"}

    def _deserialize(self, value, attr, data, **kwargs):
        if type(value) is float and value.is_integer():
            return int(value)
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
        if not isinstance(items, list):
            raise self.make_error("invalid")
        if len(items) > self.max_items:
            raise self.make_error("too_long", max=self.max_items)
        if not all(isinstance(item, str) for item in items):
            raise self.make_error("invalid")
        if not all(items):
            raise self.make_error("empty")
        return items


def refuse_long_lists(data, limits: dict[str, tuple[int, str]]) -> None:
    """A pre_load check: each list named in `limits` ({name: (most items, what they are)}) is
    counted before any of its items is validated. Validating first, 100,000 messages cost
    seconds of CPU before the limit refused them."""
    if not isinstance(data, dict):
        return
    for name, (most, what) in limits.items():
        value = data.get(name)
        if isinstance(value, list) and len(value) > most:
            raise ValidationError(f"must have at most {most} {what}", name)


def refuse_many_parts(data, name: str, keys: tuple[str, ...], most: int, what: str) -> None:
    """A pre_load check beside refuse_long_lists: the lists under `keys` in the items of
    data[name], counted in all. Parts cost as much to check as items do, and a body can hold far
    more of them."""
    items = data.get(name) if isinstance(data, dict) else None
    if not isinstance(items, list):
        return
    parts = sum(len(value) for item in items if isinstance(item, dict)
                for value in (item.get(key) for key in keys) if isinstance(value, list))
    if parts > most:
        raise ValidationError(f"must have at most {most} {what} in all", name)


def refuse_file_id(data: dict, instead: str) -> None:
    """Uploaded files (OpenAI's Files API) do not exist here: a `file_id` is refused by name,
    saying how to send the file `instead`."""
    if data.get("file_id") is not None:
        raise ValidationError(f"uploaded files are not supported: {instead}", "file_id")


class Present(fields.Field):
    """Modelled so that a request using it is refused by name, not silently dropped.
    `harmless` are its "off" values, taken and ignored (the OpenAPI document lists them);
    None: the schema decides (a value that depends on another field)."""

    def __init__(self, harmless: tuple | None, **kwargs):
        super().__init__(**{"allow_none": harmless is None or None in harmless, **kwargs})
        self.harmless = harmless

    def _deserialize(self, value, attr, data, **kwargs):
        return value


def refuse_unsupported(schema: Schema, data: dict) -> None:
    """A validates_schema check: a Present field with a value other than its harmless ones."""
    for name, value in data.items():
        field = schema.fields.get(name)
        harmless = field.harmless if isinstance(field, Present) else None
        if harmless is not None and value not in harmless:
            raise ValidationError(f"`{name}` is not supported by this gateway", name)

def _is_token_array(value) -> bool:
    """OpenAI also takes pre-tokenised input: a list of token ids, or a list of such lists."""
    def ids(item):
        return isinstance(item, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in item)
    return isinstance(value, list) and bool(value) and (ids(value) or all(ids(item) for item in value))


class TextInput(fields.Field):
    """A string or a non-empty list of strings, always loaded as a list. Every text must have
    something to embed (Gemini refuses blank content); errors name the field, not an index.
    A list is counted (max_items, set by the schema) before its items are looked at."""

    default_error_messages = {
        "invalid": "must be a string or an array of strings",
        "tokens": "token arrays are not supported: Gemini embeds text, so send the input as strings",
        "empty_list": "must be a non-empty array",
        "blank": "must not be an empty string",
        "blank_item": "item {index} is an empty string",
        "too_long": "must have at most {max} items",
    }

    def __init__(self, max_items: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.max_items = max_items

    def _deserialize(self, value, attr, data, **kwargs):
        if _is_token_array(value):
            raise self.make_error("tokens")
        if isinstance(value, str):
            if not value.strip():
                raise self.make_error("blank")
            return [value]
        if not isinstance(value, list):
            raise self.make_error("invalid")
        if self.max_items is not None and len(value) > self.max_items:
            raise self.make_error("too_long", max=self.max_items)
        if not all(isinstance(item, str) for item in value):
            raise self.make_error("invalid")
        if not value:
            raise self.make_error("empty_list")
        for index, item in enumerate(value):
            if not item.strip():
                raise self.make_error("blank_item", index=index)
        return value
