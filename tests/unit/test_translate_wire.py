"""SDK-shaped dicts <-> Gemini's REST JSON, without the SDK's models."""
import json

from google.genai import types

from gemini_proxy.translate.messages import signature_bytes
from gemini_proxy.translate.wire import rest_request, sdk_names
from gemini_proxy.upstream.client import dump
from tests.support import recorded_gemini

SCHEMA = {"type": "object", "properties": {"snake_case_name": {"type": "string"}}, "additionalProperties": False}


def test_request_fields_go_where_gemini_expects_them_and_user_data_is_untouched():
    body = rest_request(
        [{"role": "model", "parts": [{"function_call": {"name": "f", "args": {"max_items": 3}},
                                      "thought_signature": b"\xfb\xff"}]},
         {"role": "user", "parts": [{"function_response": {"name": "f", "response": {"item_list": []}}},
                                    {"inline_data": {"mime_type": "image/png", "data": b"\x89PNG"}}]}],
        {"temperature": 0, "max_output_tokens": 5, "system_instruction": {"parts": [{"text": "S"}]},
         "tools": [{"function_declarations": [{"name": "f", "parameters_json_schema": SCHEMA}]}],
         "tool_config": {"function_calling_config": {"mode": "ANY", "allowed_function_names": ["f"]}},
         "response_json_schema": SCHEMA, "thinking_config": {"thinking_budget": 0, "include_thoughts": False},
         "safety_settings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "OFF"}]})
    assert body["generationConfig"] == {"temperature": 0, "maxOutputTokens": 5, "responseJsonSchema": SCHEMA,
                                        "thinkingConfig": {"thinkingBudget": 0, "includeThoughts": False}}
    assert body["systemInstruction"] == {"parts": [{"text": "S"}]}
    assert body["tools"] == [{"functionDeclarations": [{"name": "f", "parametersJsonSchema": SCHEMA}]}]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}}
    assert body["safetySettings"] == [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "OFF"}]
    call, result = body["contents"][0]["parts"][0], body["contents"][1]["parts"]
    assert call == {"functionCall": {"name": "f", "args": {"max_items": 3}}, "thoughtSignature": "-_8="}
    assert result[0] == {"functionResponse": {"name": "f", "response": {"item_list": []}}}
    assert result[1] == {"inlineData": {"mimeType": "image/png", "data": "iVBORw=="}}
    json.dumps(body)  # all of it is JSON


def test_the_sdk_would_send_the_same_request():
    """Gemini's names for every field, as the SDK's own serialiser spells them."""
    config = {"temperature": 0.5, "top_p": 0.9, "top_k": 3, "candidate_count": 2, "stop_sequences": ["x"],
              "presence_penalty": 0.1, "frequency_penalty": 0.2, "seed": 1, "response_mime_type": "application/json",
              "response_logprobs": True, "logprobs": 2, "max_output_tokens": 9}
    ours = rest_request([{"role": "user", "parts": [{"text": "hi"}]}], config)
    sdk = types.GenerateContentConfig(**config).model_dump(by_alias=True, exclude_none=True)
    assert ours["generationConfig"] == sdk


def _without_signatures(content):
    return [{k: v for k, v in part.items() if k != "thought_signature"} for part in content.get("parts", [])]


def test_recorded_answers_read_as_the_sdk_reads_them():
    for recording in ("text/response.json", "streaming_function_calling/response_0.json", "audio/response.json"):
        for chunk in recorded_gemini(recording):
            ours, theirs = sdk_names(chunk), dump(types.GenerateContentResponse.model_validate(chunk))
            mine, sdk = ours["candidates"][0], theirs["candidates"][0]
            assert _without_signatures(mine["content"]) == _without_signatures(sdk["content"])
            assert signature_bytes(mine["content"]["parts"][0].get("thought_signature", "")) == \
                signature_bytes(sdk["content"]["parts"][0].get("thought_signature", ""))
            assert mine.get("finish_reason") == sdk.get("finish_reason")
            assert ours["usage_metadata"] == theirs["usage_metadata"]
