"""What create_app hands the pure parts: the server's request defaults, media limits and JSON
depth (as plain values, since translate/ reads no Settings), seen where they take effect."""
import base64
import json
import logging

HARASSMENT = {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}


def user(content):
    return {"role": "user", "content": content}


def test_server_defaults_reach_gemini_when_the_request_is_silent(client_with, emulator_requests):
    client = client_with(default_temperature=0.3, default_top_p=0.8, default_top_k=20, default_max_tokens=99,
                      safety_settings=(HARASSMENT,))
    assert client.post("/v1/chat/completions", json={"messages": [user("hi")]}).status_code == 200
    sent = emulator_requests()[0]["body"]
    assert sent["generationConfig"] == {"temperature": 0.3, "topP": 0.8, "topK": 20, "maxOutputTokens": 99}
    assert sent["safetySettings"] == [HARASSMENT]
    assert client.post("/v1/completions", json={"prompt": "hi", "temperature": 1.5}).status_code == 200
    assert emulator_requests()[0]["body"]["generationConfig"] == {
        "temperature": 1.5, "topP": 0.8, "topK": 20, "maxOutputTokens": 99}


def test_max_media_bytes_limits_a_data_url(client_with, emulator_requests):
    client = client_with(max_media_bytes=1024)
    url = "data:image/png;base64," + base64.b64encode(b"x" * 1025).decode()
    image = {"type": "image_url", "image_url": {"url": url}}
    response = client.post("/v1/chat/completions", json={"messages": [user([{"type": "text", "text": "see"}, image])]})
    assert response.status_code == 400
    assert response.get_json()["error"]["param"] == "messages[0].content[1]"
    assert "1 KiB" in response.get_json()["error"]["message"]
    image["image_url"]["url"] = "data:image/png;base64," + base64.b64encode(b"x" * 1024).decode()
    response = client.post("/v1/chat/completions", json={"messages": [user([{"type": "text", "text": "see"}, image])]})
    assert response.status_code == 200
    part = emulator_requests()[0]["body"]["contents"][0]["parts"][1]
    assert base64.urlsafe_b64decode(part["inlineData"]["data"]) == b"x" * 1024


def test_max_json_depth_limits_tool_call_arguments(client_with):
    client = client_with(max_json_depth=8)
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": None}}
    body = {"messages": [user("hi"), {"role": "assistant", "content": None, "tool_calls": [call]},
                         {"role": "tool", "tool_call_id": "call_1", "content": "{}"}]}
    call["function"]["arguments"] = json.dumps({"a": [[[[[[[{}]]]]]]]})  # 9 levels: the body itself has 6
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["param"] == "messages[1].tool_calls[0].function.arguments"
    call["function"]["arguments"] = json.dumps({"a": [[[[[[{}]]]]]]})
    assert client.post("/v1/chat/completions", json=body).status_code == 200


def test_a_generated_request_id_is_the_one_logged(client, caplog):
    logger = logging.getLogger("gemini_proxy")
    logger.addHandler(caplog.handler)
    try:
        response = client.post("/v1/chat/completions", json={"messages": [user("hi")]})
        response.close()  # the request's line is written when its response is closed
    finally:
        logger.removeHandler(caplog.handler)
    logged = [r.fields["request_id"] for r in caplog.records if getattr(r, "fields", {}).get("path")]
    assert response.headers["X-Request-ID"].startswith("req_")
    assert logged == [response.headers["X-Request-ID"]]
