"""json_limits: strict JSON within a nesting limit, and the schemas' integer bounds."""
import pytest

from gemini_proxy.schemas import ChatCompletionSchema
from gemini_proxy.schemas.completions import CompletionSchema
from gemini_proxy.schemas.embeddings import EmbeddingSchema
from gemini_proxy.translate.json_limits import JsonRefused, JsonTooDeep, LoneSurrogate, loads, nested_deeper_than
from tests.support import assert_int32_bounds


@pytest.mark.parametrize("text, depth", [
    ("1", 0), ('"[[["', 0), ("{}", 1), ("[]", 1), ("[[]]", 2), ('{"a": [1, {"b": []}], "c": {}}', 4),
    ("[[], [[], [[[]]]], []]", 5), ('[{"a": "]]]]"}]', 2),
])
def test_depth_counts_nested_objects_and_arrays(text, depth):
    loads(text, depth)
    if depth:
        with pytest.raises(JsonTooDeep):
            loads(text, depth - 1)


def test_nesting_past_python_s_own_limit_is_too_deep_not_a_recursion_error():
    for depth in (990, 5_000, 1_000_000):
        with pytest.raises(JsonTooDeep):
            loads(b"[" * depth + b"]" * depth, 128)


def test_the_walk_does_not_recurse():
    value: list = []
    for _ in range(100_000):
        value = [value]
    assert nested_deeper_than(value, 99_999)
    assert not nested_deeper_than(value, 100_001)


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}', "1e400", "-2E999", "", "[1,]", "{'a': 1}",
                                  b"\xff\xfe\xfa", "1" + "0" * 5000])
def test_what_python_takes_but_json_does_not_have_is_refused(text):
    with pytest.raises(JsonRefused):
        loads(text, 10)


@pytest.mark.parametrize("text, path", [
    ('"\\ud800"', []), ('["ok", "\\udc00"]', [1]), ('{"a": {"b": ["x", "y\\ud83d"]}}', ["a", "b", 1]),
    ('{"a": {"\\ud800": 1}}', ["a"]), ('{"a": "\\udc00\\ud800"}', ["a"]),
])
def test_a_lone_surrogate_is_refused_with_where_it_is(text, path):
    with pytest.raises(LoneSurrogate) as caught:
        loads(text, 10)
    assert caught.value.path == path
    with pytest.raises(LoneSurrogate):
        loads(text.encode("utf-16"), 10)  # an escape in UTF-16 text is no byte-level "\\u"


@pytest.mark.parametrize("raw", [b'"\xed\xa0\x80"', b'["a", "\xed\xb0\x80"]',
                                 "\"\ud800\"".encode("utf-16-le", "surrogatepass")])
def test_encoded_surrogates_are_refused(raw):
    # json.loads decodes bytes with surrogatepass: these would reach the app as lone surrogates.
    with pytest.raises(JsonRefused):
        loads(raw, 10)


@pytest.mark.parametrize("text, value", [
    ('"\\ud83d\\ude00"', "\U0001F600"), ('"\\\\ud800"', "\\ud800"), ('"\U0001F600"', "\U0001F600"), ("1.5e3", 1500.0),
])
def test_pairs_and_escaped_backslashes_are_text(text, value):
    assert loads(text, 10) == value


@pytest.mark.parametrize("schema", [ChatCompletionSchema(max_messages=1), CompletionSchema(max_prompts=1),
                                    EmbeddingSchema(max_inputs=1)], ids=["chat", "completions", "embeddings"])
def test_every_integer_parameter_has_both_bounds_within_int32(schema):
    found = assert_int32_bounds(schema)
    assert found, "no integer fields found: the walk is broken"


@pytest.mark.parametrize("raw, value", [
    (b'{"maximum": 123456789012345678901234567890}', {"maximum": 123456789012345678901234567890}),
    (b"[-9223372036854775809, 18446744073709551615]", [-9223372036854775809, 18446744073709551615]),
    (b'{"x": 1e19, "y": 2.5}', {"x": 1e19, "y": 2.5}),
])
def test_bodies_keep_every_number_exact(raw, value):
    # Bodies are parsed by orjson first, which makes integers beyond 64 bits floats.
    parsed = loads(raw, 10)
    assert parsed == value
    assert [type(v) for v in (parsed.values() if isinstance(parsed, dict) else parsed)] == [
        type(v) for v in (value.values() if isinstance(value, dict) else value)]


@pytest.mark.parametrize("raw, refused", [
    (b"[NaN]", JsonRefused), (b"1e400", JsonRefused), (b'"\\ud800"', LoneSurrogate),
    (b"[" * 2000 + b"]" * 2000, JsonTooDeep),
])
def test_what_orjson_refuses_is_refused_in_the_gateway_s_words(raw, refused):
    with pytest.raises(refused):
        loads(raw, 64)


def test_a_body_orjson_refuses_but_json_takes_is_taken():
    assert loads(b'\xef\xbb\xbf{"a": 1}', 64) == {"a": 1}  # a UTF-8 byte-order mark
