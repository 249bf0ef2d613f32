"""JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of what the gateway answers.

Written by hand from the translate/ functions that build these bodies; the request side is
generated from the marshmallow schemas. Each entry is one component of the OpenAPI document
and refers to the others as #/components/schemas/<name>.
"""
from __future__ import annotations


def ref(name: str, kind: str = "schemas") -> dict:
    """A reference to a component of the document (a schema, or a response...)."""
    return {"$ref": f"#/components/{kind}/{name}"}


def nullable(schema: dict) -> dict:
    """`schema` or null. A union (a lone anyOf) gets null as one more branch. anyOf, not oneOf,
    as apispec writes its own nullable fields: the branches never overlap, and a generator or
    validator need not prove that only one of them matches."""
    if set(schema) == {"anyOf"}:
        return {"anyOf": [*schema["anyOf"], {"type": "null"}]}
    return {"anyOf": [schema, {"type": "null"}]}


def _const(value: str) -> dict:
    return {"type": "string", "const": value}


FINISH_REASONS = ["stop", "length", "tool_calls", "content_filter"]

_STRING = {"type": "string"}
_INTEGER = {"type": "integer"}

USAGE = {
    "type": "object",
    "description": "Token counts. completion_tokens includes Gemini's thinking tokens "
                   "(also given as completion_tokens_details.reasoning_tokens).",
    "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
    "properties": {
        "prompt_tokens": _INTEGER,
        "completion_tokens": _INTEGER,
        "total_tokens": _INTEGER,
        "prompt_tokens_details": {"type": "object", "properties": {"cached_tokens": _INTEGER}},
        "completion_tokens_details": {"type": "object", "properties": {"reasoning_tokens": _INTEGER}},
        "server_tool_use": {"type": "object", "description": "Extension, in grounded answers: the Google "
                            "searches Gemini ran.", "properties": {"web_search_requests": _INTEGER}},
    },
}

TOKEN_LOGPROB = {
    "type": "object",
    "required": ["token", "logprob", "bytes"],
    "properties": {
        "token": _STRING,
        "logprob": {"type": "number"},
        "bytes": nullable({"type": "array", "items": _INTEGER}),
        "top_logprobs": {"type": "array", "items": {
            "type": "object", "required": ["token", "logprob"],
            "properties": {"token": _STRING, "logprob": {"type": "number"},
                           "bytes": nullable({"type": "array", "items": _INTEGER})}}},
    },
}

CHOICE_LOGPROBS = nullable({
    "type": "object",
    "properties": {
        "content": nullable({"type": "array", "items": ref("TokenLogprob")}),
        "refusal": nullable({"type": "array", "items": ref("TokenLogprob")}),
    },
})

TOOL_CALL = {
    "type": "object",
    "description": "A function call Gemini made. The gateway keeps Gemini's thought signature under `id`.",
    "required": ["id", "type", "function"],
    "properties": {
        "id": {"type": "string", "examples": ["call_3f2a9c0d4b5e6f7a8b9c0d1e"]},
        "type": _const("function"),
        "function": {
            "type": "object",
            "required": ["name", "arguments"],
            "properties": {"name": _STRING,
                           "arguments": {"type": "string", "description": "The arguments as a JSON object string."}},
        },
    },
}

URL_CITATIONS = {"type": "array", "description": "url_citation annotations of a grounded (web_search_options) "
                 "answer; indices count characters (code points) of the content.", "items": {
                     "type": "object", "required": ["type", "url_citation"], "properties": {
                         "type": {"const": "url_citation"},
                         "url_citation": {"type": "object", "required": ["start_index", "end_index", "url", "title"],
                                          "properties": {"start_index": {"type": "integer"},
                                                         "end_index": {"type": "integer"},
                                                         "url": {"type": "string"}, "title": {"type": "string"}}}}}}
GROUNDING_METADATA = {"type": "object", "description": "Extension: Gemini's groundingMetadata as it came "
                                                       "(webSearchQueries, searchEntryPoint, groundingChunks...)."}
SERVICE_TIER = {"type": "string", "enum": ["default", "flex", "priority"],
                "description": "Only when the request set service_tier: the tier asked for (auto: default)."}

CHAT_COMPLETION = {
    "type": "object",
    "required": ["id", "object", "created", "model", "choices", "usage"],
    "properties": {
        "id": {"type": "string", "examples": ["chatcmpl-9f1c2d3e4b5a69788796a5b4c3d2e1f0"]},
        "object": _const("chat.completion"),
        "created": {"type": "integer", "description": "Unix time, seconds."},
        "model": {"type": "string", "description": "The model name the client sent (an alias stays an alias)."},
        "choices": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["index", "message", "finish_reason"],
            "properties": {
                "index": _INTEGER,
                "message": {
                    "type": "object",
                    "required": ["role", "content"],
                    "properties": {
                        "role": _const("assistant"),
                        "content": nullable(_STRING),
                        "refusal": {"type": "null"},
                        "tool_calls": {"type": "array", "items": ref("ChatCompletionMessageToolCall")},
                        "reasoning_content": {"type": "string", "description": "Gemini's thought summaries."},
                        "annotations": URL_CITATIONS,
                        "grounding_metadata": GROUNDING_METADATA,
                    },
                },
                "logprobs": CHOICE_LOGPROBS,
                "finish_reason": {"type": "string", "enum": FINISH_REASONS},
            },
        }},
        "usage": ref("Usage"),
        "service_tier": SERVICE_TIER,
    },
}

CHAT_COMPLETION_CHUNK = {
    "type": "object",
    "description": "One event of a streamed chat completion. Every chunk has the same id, created and model; "
                   "each choice opens with delta {role: assistant, content: ''} and has exactly one chunk with "
                   "a finish_reason. With stream_options.include_usage every chunk has usage: null and a last "
                   "chunk has choices: [] and the usage.",
    "required": ["id", "object", "created", "model", "choices"],
    "properties": {
        "id": _STRING,
        "object": _const("chat.completion.chunk"),
        "created": _INTEGER,
        "model": _STRING,
        "choices": {"type": "array", "items": {
            "type": "object",
            "required": ["index", "delta", "finish_reason"],
            "properties": {
                "index": _INTEGER,
                "delta": {
                    "type": "object",
                    "properties": {
                        "role": _const("assistant"),
                        "content": nullable(_STRING),
                        "reasoning_content": _STRING,
                        "annotations": {**URL_CITATIONS, "description": "Sent once, just before the "
                                        "finish_reason: " + URL_CITATIONS["description"]},
                        "grounding_metadata": GROUNDING_METADATA,
                        "tool_calls": {"type": "array", "items": {
                            "type": "object",
                            "required": ["index"],
                            "description": "Gemini sends a call whole: its first delta has id, type, name and "
                                           "arguments.",
                            "properties": {
                                "index": _INTEGER, "id": _STRING, "type": _const("function"),
                                "function": {"type": "object",
                                             "properties": {"name": _STRING, "arguments": _STRING}},
                            },
                        }},
                    },
                },
                "logprobs": CHOICE_LOGPROBS,
                "finish_reason": nullable({"type": "string", "enum": FINISH_REASONS}),
            },
        }},
        "usage": nullable(ref("Usage")),
        "service_tier": SERVICE_TIER,
    },
}

LEGACY_LOGPROBS = nullable({
    "type": "object",
    "properties": {
        "tokens": {"type": "array", "items": _STRING},
        "token_logprobs": {"type": "array", "items": {"type": "number"}},
        "top_logprobs": {"type": "array", "items": {"type": "object", "additionalProperties": {"type": "number"}}},
        "text_offset": {"type": "array", "items": _INTEGER},
    },
})

TEXT_COMPLETION = {
    "type": "object",
    "description": "A legacy completion (also each event of a streamed one). Choices of prompt p are "
                   "numbered p * n + i.",
    "required": ["id", "object", "created", "model", "choices"],
    "properties": {
        "id": {"type": "string", "examples": ["cmpl-0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a"]},
        "object": _const("text_completion"),
        "created": _INTEGER,
        "model": _STRING,
        "choices": {"type": "array", "items": {
            "type": "object",
            "required": ["text", "index", "logprobs", "finish_reason"],
            "properties": {
                "text": _STRING,
                "index": _INTEGER,
                "logprobs": LEGACY_LOGPROBS,
                "finish_reason": nullable({"type": "string", "enum": FINISH_REASONS}),
            },
        }},
        "usage": ref("Usage"),
    },
}

EMBEDDING_LIST = {
    "type": "object",
    "required": ["object", "data", "model", "usage"],
    "properties": {
        "object": _const("list"),
        "data": {"type": "array", "items": {
            "type": "object",
            "required": ["object", "index", "embedding"],
            "properties": {
                "object": _const("embedding"),
                "index": {"type": "integer", "description": "The position of the input."},
                "embedding": {
                    "description": "Floats, or with encoding_format=base64 little-endian float32 in base64.",
                    "oneOf": [{"type": "array", "items": {"type": "number"}},
                              {"type": "string", "contentEncoding": "base64"}],
                },
            },
        }},
        "model": _STRING,
        "usage": {"type": "object", "required": ["prompt_tokens", "total_tokens"],
                  "properties": {"prompt_tokens": _INTEGER, "total_tokens": _INTEGER}},
    },
}

MODEL = {
    "type": "object",
    "required": ["id", "object", "created", "owned_by"],
    "properties": {
        "id": {"type": "string", "examples": ["gemini-2.5-flash"]},
        "object": _const("model"),
        "created": {"type": "integer", "description": "Gemini does not say when a model was created: 0."},
        "owned_by": {"type": "string", "description": "`google` (`gemini-emulator` when the built-in emulator "
                     "answers), or `gemini-proxy` for a configured alias."},
    },
}

MODEL_LIST = {
    "type": "object",
    "required": ["object", "data"],
    "properties": {"object": _const("list"), "data": {"type": "array", "items": ref("Model")}},
}

ERROR = {
    "type": "object",
    "description": "OpenAI's error envelope, for every failure (also sent as one `data:` event when a stream "
                   "fails after it started).",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["message", "type", "param", "code"],
        "properties": {
            "message": _STRING,
            "type": {"type": "string", "examples": ["invalid_request_error", "authentication_error",
                                                    "rate_limit_error", "server_error"]},
            "param": {"type": ["string", "null"], "description": "The request parameter at fault, "
                                                                  "e.g. messages[2].content."},
            "code": {"type": ["string", "null"], "examples": ["model_not_found", "invalid_api_key"]},
        },
    }},
}

HEALTH = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": _const("ok")},
}

COMPONENTS = {
    "Usage": USAGE,
    "TokenLogprob": TOKEN_LOGPROB,
    "ChatCompletionMessageToolCall": TOOL_CALL,
    "ChatCompletion": CHAT_COMPLETION,
    "ChatCompletionChunk": CHAT_COMPLETION_CHUNK,
    "TextCompletion": TEXT_COMPLETION,
    "EmbeddingList": EMBEDDING_LIST,
    "Model": MODEL,
    "ModelList": MODEL_LIST,
    "Error": ERROR,
    "Health": HEALTH,
}
