"""GET /openapi.json and /docs: the document validates, lists every route of the app, is
generated from the request schemas, and its response schemas describe what the gateway
really answers (checked against real answers from the emulator)."""
import json
import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from gemini_proxy.api.docs import EXTENSION
from gemini_proxy.openapi.document import UNDOCUMENTED_ENDPOINTS, openapi_path
from gemini_proxy.schemas import ChatCompletionSchema
from gemini_proxy.schemas.completions import CompletionSchema
from gemini_proxy.schemas.embeddings import EmbeddingSchema
from tests.support import sse_events

DOC_URI = "urn:gemini-proxy-openapi"
# Flask's own static route (none while the package has no static folder) and what /docs
# loads (Swagger UI's files) are not API operations; everything else must be documented.
NOT_OPERATIONS = {"static", *UNDOCUMENTED_ENDPOINTS}


@pytest.fixture(scope="module")
def document(app):
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def document_validator(document, pointer: str) -> Draft202012Validator:
    """A validator for the schema at `pointer` (a JSON pointer into the document)."""
    registry = Registry().with_resource(DOC_URI, Resource.from_contents(document, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"{DOC_URI}#{pointer}"}, registry=registry)


def conforms(document, component, body, pointer=None):
    validator = document_validator(document, pointer or f"/components/schemas/{component}")
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(body)]
    assert not errors, f"{component}: {errors[:5]}"


def test_the_document_is_valid_openapi_3_1(document):
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_every_route_of_the_app_is_in_the_document(app, document):
    routes = {(openapi_path(rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.endpoint not in NOT_OPERATIONS
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert routes - documented == set(), "routes missing from /openapi.json (add them to openapi.OPERATIONS)"
    assert documented - routes == set(), "documented paths the app does not serve"
    assert {"/v1/chat/completions", "/chat/completions", "/v1/models/{model_id}", "/openapi.json", "/docs"} <= {
        path for path, _ in routes}


def test_operation_ids_are_unique_and_aliases_say_so(document):
    operations = [op for item in document["paths"].values() for op in item.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    assert document["paths"]["/v1/chat/completions"]["post"]["operationId"] == "createChatCompletion"
    assert document["paths"]["/chat/completions"]["post"]["summary"].endswith("(alias)")


@pytest.mark.parametrize("component, schema", [
    ("CreateChatCompletionRequest", ChatCompletionSchema(max_messages=1)),
    ("CreateCompletionRequest", CompletionSchema(max_prompts=1)),
    ("CreateEmbeddingRequest", EmbeddingSchema(max_inputs=1)),
])
def test_request_bodies_are_generated_from_the_marshmallow_schemas(document, component, schema):
    generated = document["components"]["schemas"][component]
    assert set(generated["properties"]) == set(schema.fields)
    assert set(generated["required"]) == {name for name, f in schema.fields.items() if f.required}


def test_custom_fields_have_their_json_types(app, document):
    schemas = document["components"]["schemas"]
    chat = schemas["CreateChatCompletionRequest"]["properties"]
    assert chat["temperature"] == {"type": ["number", "null"], "minimum": 0, "maximum": 2}
    assert chat["n"]["type"] == ["integer", "null"]
    assert chat["stream"] == {"type": ["boolean", "null"]}
    assert [branch.get("type") for branch in chat["stop"]["anyOf"]] == ["string", "array", "null"]
    assert chat["stop"]["anyOf"][1]["maxItems"] == 5
    assert chat["tool_choice"]["anyOf"][0]["enum"] == ["none", "auto", "required"]
    assert chat["messages"]["maxItems"] == app.extensions["gemini_proxy"].settings.max_messages
    assert "Not supported" in chat["logit_bias"]["description"]
    content = schemas["Message"]["properties"]["content"]["anyOf"]
    assert content[0] == {"type": "string"}
    assert content[1]["items"] == {"$ref": "#/components/schemas/ContentPart"}
    prompt = schemas["CreateCompletionRequest"]["properties"]["prompt"]["anyOf"]
    assert prompt[0]["type"] == "string"
    assert prompt[1]["minItems"] == 1


def test_streaming_and_errors_are_documented(document):
    chat = document["paths"]["/v1/chat/completions"]["post"]
    ok = chat["responses"]["200"]["content"]
    assert ok["application/json"]["schema"] == {"$ref": "#/components/schemas/ChatCompletion"}
    # One event as parsed from the stream: its data is a chunk, an error, or [DONE].
    event = ok["text/event-stream"]["schema"]
    assert event["type"] == "object"
    assert event["required"] == ["data"]
    assert event["properties"]["data"]["anyOf"] == [
        {"type": "string", "contentMediaType": "application/json",
         "contentSchema": {"$ref": "#/components/schemas/ChatCompletionChunk"}},
        {"type": "string", "contentMediaType": "application/json",
         "contentSchema": {"$ref": "#/components/schemas/Error"}},
        {"type": "string", "const": "[DONE]"}]
    assert "data: [DONE]" in event["description"]
    assert chat["responses"]["400"] == {"$ref": "#/components/responses/InvalidRequest"}
    too_many = document["components"]["responses"]["RateLimited"]
    assert "Retry-After" in too_many["headers"]
    assert too_many["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_the_document_is_built_once_per_app(app, client):
    first = client.get("/openapi.json").get_json()
    cached = app.extensions[EXTENSION]
    assert cached.get(app) is cached.get(app)
    assert client.get("/openapi.json").get_json() == first


def ask(**fields):
    return {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "Say hello"}], **fields}


def test_response_schemas_describe_real_answers(client, document):
    checks = [
        ("ChatCompletion", client.post("/v1/chat/completions", json=ask(logprobs=True, top_logprobs=2))),
        ("ChatCompletion", client.post("/v1/chat/completions", json=ask(
            messages=[{"role": "user", "content": "Call get_weather for Paris"}],
            tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {
                "type": "object", "properties": {"city": {"type": "string"}}}}}]))),
        ("TextCompletion", client.post("/v1/completions", json={"model": "gemini-2.5-flash", "prompt": ["a", "b"],
                                                                 "logprobs": 1})),
        ("EmbeddingList", client.post("/v1/embeddings", json={"input": ["one", "two"]})),
        ("EmbeddingList", client.post("/v1/embeddings", json={"input": "one", "encoding_format": "base64"})),
        ("ModelList", client.get("/v1/models")),
        ("Model", client.get("/v1/models/gpt-4o-mini")),
        ("Health", client.get("/healthz")),
        ("Error", client.post("/v1/chat/completions", json={"model": "gemini-2.5-flash"})),
        ("Error", client.get("/v1/models/no-such-model")),
    ]
    for component, response in checks:
        conforms(document, component, response.get_json())
    assert checks[1][1].get_json()["choices"][0]["message"]["tool_calls"], "the tool case made no call"


@pytest.mark.parametrize("path, body, component", [
    ("/v1/chat/completions", ask(stream=True, stream_options={"include_usage": True}, n=2), "ChatCompletionChunk"),
    ("/v1/completions", {"prompt": "Say hello", "stream": True, "echo": True}, "TextCompletion"),
])
def test_stream_events_match_their_documented_schema(client, document, path, body, component):
    response = client.post(path, json=body)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    events = sse_events(response.get_data())
    assert events[-1] == "[DONE]"
    assert len(events) > 2
    for data in events[:-1]:
        conforms(document, component, json.loads(data))
    # Each event as a client's SSE parser reads it matches the text/event-stream schema.
    pointer = f"/paths/{path.replace('/', '~1')}/post/responses/200/content/text~1event-stream/schema"
    for data in events:
        conforms(document, "event", {"data": data, "event": "message"}, pointer)
    assert not document_validator(document, pointer).is_valid({"data": 42, "event": "message"})


def tool_call_turns(**tool_message):
    return [{"role": "user", "content": "Call f"},
            {"role": "assistant",
             "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "content": "done", **tool_message}]


@pytest.mark.parametrize("fields, valid", [
    ({"max_tokens": 5.0, "n": 1.0, "seed": -3.0, "top_k": 2.0}, True),  # JSON Schema's integers include 5.0
    ({"max_tokens": 5.5}, False),
    ({"model": "gpt-4o-mini"}, True),  # an alias
    ({"model": "models/gemini-2.5-flash"}, True),
    ({"model": "../cachedContents?x="}, False),
    ({"messages": [{"role": "user", "content": ""}]}, False),  # nothing for Gemini
    ({"messages": [{"role": "system", "content": "Be terse."}]}, False),
    ({"tool_choice": "required"}, False),  # without tools
    ({"logprobs": False, "top_logprobs": 2}, False),
    ({"logit_bias": {}, "functions": [], "modalities": ["text"], "audio": None}, True),  # their "off" values
    ({"logit_bias": {"50256": -100}}, False),
    ({"seed": 2**31}, False),
    ({"messages": tool_call_turns(tool_call_id="c1")}, True),
    ({"messages": tool_call_turns()}, False),  # a tool message without tool_call_id
    ({"messages": tool_call_turns(tool_call_id="")}, False),
    ({"messages": [{"role": "function", "name": "f", "content": "x"}]}, False),
    ({"messages": [{"role": "user", "content": "x", "function_call": {"name": "f"}}]}, False),
    ({"messages": [{"role": "user"}]}, False),
    ({"messages": [{"role": "user", "content": None}]}, False),
    ({"messages": [{"role": "user", "content": "x", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}]}, False),
    ({"messages": [{"role": "system",
                    "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]},
                   {"role": "user", "content": "x"}]}, False),
    ({"messages": [{"role": "system", "content": [{"type": "refusal", "refusal": "no"}]},
                   {"role": "user", "content": "x"}]}, True),
    ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, False),
    ({"messages": [{"role": "user", "content": [{"type": "file", "file": {"file_id": "file-1"}}]}]}, False),
    ({"messages": [{"role": "user", "content": [{"type": "file", "file": {"filename": "a.txt"}}]}]}, False),
    ({"messages": [{"role": "user",
                    "content": [{"type": "file", "file": {"file_data": "aGk=", "filename": "a.txt"}}]}]}, True),
])
def test_the_document_calls_valid_what_the_gateway_takes(client, document, fields, valid):
    body = {**ask(), **fields}
    in_document = document_validator(document, "/components/schemas/CreateChatCompletionRequest").is_valid(body)
    response = client.post("/v1/chat/completions", json=body)
    assert (in_document, response.status_code == 200) == (valid, valid), response.get_data(as_text=True)[:300]
    if not valid:
        assert response.status_code == 400


def test_docs_page_is_swagger_ui_served_by_the_app(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "SwaggerUIBundle(" in page
    assert '"url": "/openapi.json"' in page
    assert '"validatorUrl": null' in page
    # Offline: no other host, no protocol-relative URL, nothing but the app's own files.
    assert not re.search(r"(?i)\b(?:https?:)?//", page), "the page names another host"
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert {"/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"} <= set(assets)
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.get_data()) > 100, asset
        served.close()


def test_docs_assets_do_not_escape_their_folder(client):
    assert client.get("/docs/../__init__.py").status_code == 404
    assert client.get("/docs/no-such-file.js").status_code == 404
