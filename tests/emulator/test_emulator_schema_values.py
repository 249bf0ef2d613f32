"""The emulator's schema value generator: every value it makes is checked with jsonschema."""
from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from gemini_emulator.openapi_schema import openapi_to_json_schema
from gemini_emulator.schema_values import Hints, instance

FORMATS = Draft202012Validator.FORMAT_CHECKER

SCHEMAS = {
    "flat object": {
        "type": "object",
        "properties": {"query": {"type": "string"}, "limit": {"type": "integer"},
                       "exact": {"type": "boolean"}, "score": {"type": "number"}},
        "required": ["query"],
    },
    "enum and const": {
        "type": "object",
        "properties": {"unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                       "kind": {"const": "weather"}, "level": {"enum": [None, 2, 3]}},
    },
    "type list with null": {"type": ["null", "string"], "minLength": 3},
    "anyOf with null first": {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 5}]},
    "oneOf of objects": {"oneOf": [
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"],
         "additionalProperties": False},
        {"type": "object", "properties": {"b": {"type": "integer"}}, "required": ["b"],
         "additionalProperties": False},
    ]},
    "allOf merge": {"allOf": [
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
        {"properties": {"b": {"type": "integer", "maximum": -3}}, "required": ["b"]},
    ]},
    "$ref into $defs": {
        "$defs": {"Address": {"type": "object", "properties": {
            "street": {"type": "string"}, "zip": {"type": "string", "pattern": "^.*$"}},
            "required": ["street"]}},
        "type": "object", "properties": {"home": {"$ref": "#/$defs/Address"},
                                         "work": {"$ref": "#/$defs/Address"}},
        "required": ["home"],
    },
    "definitions (draft 7)": {
        "definitions": {"Id": {"type": "string", "format": "uuid"}},
        "type": "array", "items": {"$ref": "#/definitions/Id"}, "minItems": 2,
        "uniqueItems": True,
    },
    "recursive tree": {
        "$defs": {"Node": {"type": "object", "properties": {
            "name": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
            "required": ["name"]}},
        "$ref": "#/$defs/Node",
    },
    "nested arrays and objects": {
        "type": "object",
        "properties": {"matrix": {"type": "array", "minItems": 2, "maxItems": 2,
                                  "items": {"type": "array", "items": {"type": "number"},
                                            "minItems": 3}},
                       "people": {"type": "array", "items": {
                           "type": "object", "properties": {
                               "name": {"type": "string", "maxLength": 4},
                               "age": {"type": "integer", "minimum": 0, "maximum": 130}},
                           "required": ["name", "age"], "additionalProperties": False}}},
        "required": ["matrix", "people"],
    },
    "bounds": {
        "type": "object",
        "properties": {"pct": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                       "tiny": {"type": "integer", "minimum": 7, "maximum": 7},
                       "neg": {"type": "integer", "exclusiveMaximum": -10},
                       "step": {"type": "integer", "multipleOf": 5, "minimum": 11},
                       "big": {"type": "number", "minimum": 1e6}},
    },
    "string lengths": {"type": "array", "prefixItems": [
        {"type": "string", "minLength": 40}, {"type": "string", "maxLength": 2},
        {"type": "string", "minLength": 5, "maxLength": 5}], "items": False},
    "formats": {"type": "object", "properties": {
        name: {"type": "string", "format": name}
        for name in ("date-time", "date", "time", "email", "uri", "uuid", "hostname", "ipv4",
                     "ipv6")}},
    "empty array allowed": {"type": "array", "maxItems": 0},
    "additionalProperties only": {"type": "object", "minProperties": 2,
                                  "additionalProperties": {"type": "boolean"}},
    "maxProperties": {"type": "object", "maxProperties": 1, "required": ["a"],
                      "properties": {"a": {"type": "string"}, "b": {"type": "string"}}},
    "no type at all": {"properties": {"x": {}}, "required": ["x", "y"]},
    "upper-case types in JSON Schema": {"type": "OBJECT", "properties": {"n": {"type": "INTEGER"}}},
}


@pytest.mark.parametrize("name", SCHEMAS)
@pytest.mark.parametrize("seed", [0, 1, 12345678901234])
def test_generated_values_are_valid(name, seed):
    schema = SCHEMAS[name]
    value = instance(schema, Hints(seed))
    validator_schema = openapi_to_json_schema(schema) if name.startswith("upper") else schema
    Draft202012Validator(validator_schema, format_checker=FORMATS).validate(value)


def test_generation_is_deterministic_and_seeded():
    schema = SCHEMAS["flat object"]
    assert instance(schema, Hints(3)) == instance(schema, Hints(3))
    assert instance(schema, Hints(3)) != instance(schema, Hints(4))


def test_objects_fill_every_property_and_arrays_hold_one_item():
    value = instance(SCHEMAS["flat object"], Hints(1))
    assert list(value) == ["query", "limit", "exact", "score"]
    assert len(instance({"type": "array", "items": {"type": "string"}}, Hints(1))) == 1


def test_first_choices_enum_const_and_non_null_branch():
    value = instance(SCHEMAS["enum and const"], Hints(1))
    assert value == {"unit": "celsius", "kind": "weather", "level": 2}
    assert isinstance(instance(SCHEMAS["anyOf with null first"], Hints(1)), int)
    assert isinstance(instance(SCHEMAS["type list with null"], Hints(1)), str)
    assert instance({"type": "null"}, Hints(1)) is None


def test_place_names_take_the_place_hint_unless_constrained():
    schema = {"type": "object", "properties": {
        "city": {"type": "string"}, "location": {"type": "string"},
        "city_code": {"type": "string", "maxLength": 3}, "unit": {"type": "string"},
        "destination": {"type": "string", "enum": ["Rome"]}}}
    value = instance(schema, Hints(1, place="Paris"))
    assert value["city"] == value["location"] == "Paris"
    assert value["city_code"] == "Par"
    assert value["unit"] != "Paris"
    assert value["destination"] == "Rome"


def test_recursion_stops_and_optional_depth_is_bounded():
    value = instance(SCHEMAS["recursive tree"], Hints(1))
    depth, node = 0, value
    while node.get("children"):
        node, depth = node["children"][0], depth + 1
    assert 1 <= depth <= 4


OPENAPI = {
    "type": "OBJECT",
    "title": "Recipe",
    "properties": {
        "name": {"type": "STRING"},
        "servings": {"type": "INTEGER", "minimum": 1, "maximum": 8, "nullable": True},
        "tags": {"type": "ARRAY", "items": {"type": "STRING", "format": "enum",
                                            "enum": ["quick", "vegan"]},
                 "minItems": "2", "maxItems": "2"},
        "rating": {"anyOf": [{"type": "NUMBER"}, {"type": "BOOLEAN"}], "nullable": True},
    },
    "required": ["name", "tags"],
    "propertyOrdering": ["tags", "name", "servings", "rating"],
}
OPENAPI_AS_JSON_SCHEMA = {
    "type": "object",
    "title": "Recipe",
    "properties": {
        "name": {"type": "string"},
        "servings": {"type": ["integer", "null"], "minimum": 1, "maximum": 8},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["quick", "vegan"]},
                 "minItems": 2, "maxItems": 2},
        "rating": {"anyOf": [{"type": "number"}, {"type": "boolean"}, {"type": "null"}]},
    },
    "required": ["name", "tags"],
}


def test_openapi_subset_converts_to_json_schema_and_keeps_the_key_order():
    converted = openapi_to_json_schema(OPENAPI)
    assert converted == {**OPENAPI_AS_JSON_SCHEMA, "propertyOrdering": OPENAPI["propertyOrdering"]}
    value = instance(converted, Hints(9))
    Draft202012Validator(OPENAPI_AS_JSON_SCHEMA).validate(value)
    assert list(value) == ["tags", "name", "servings", "rating"]
    assert value["tags"] == ["quick", "vegan"]  # n-th item takes the n-th enum value


@pytest.mark.parametrize("seed", [0, 7, 2**63 + 5])
def test_formats_without_a_jsonschema_checker_here_are_well_formed_too(seed):
    import datetime
    import re
    import uuid
    from urllib.parse import urlparse

    value = instance(SCHEMAS["formats"], Hints(seed))
    assert datetime.datetime.fromisoformat(value["date-time"].replace("Z", "+00:00")).tzinfo
    assert datetime.time.fromisoformat(value["time"].replace("Z", "+00:00"))
    assert urlparse(value["uri"]).scheme == "https"
    assert " " not in value["uri"]
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)+", value["hostname"])
    assert uuid.UUID(value["uuid"]).version == 4


def test_gemini_ref_and_defs_resolve_and_a_dangling_ref_is_a_400():
    from gemini_emulator.errors import EmulatorError

    schema = openapi_to_json_schema({"type": "OBJECT", "defs": {"Id": {"type": "INTEGER"}},
                                     "properties": {"id": {"ref": "#/defs/Id"}}})
    assert isinstance(instance(schema, Hints(1))["id"], int)
    for ref in ("#/$defs/Missing", "https://example.com/schema.json"):
        with pytest.raises(EmulatorError, match="cannot resolve") as caught:
            instance({"type": "object", "properties": {"x": {"$ref": ref}}}, Hints(1))
        assert caught.value.code == 400
