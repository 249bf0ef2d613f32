"""POST /v1/images/generations and /v1/images/edits through the Flask test client, with the emulator behind
the real SDK: bodies valid against OpenAI's ImagesResponse, images that open with the asked aspect ratio,
what reaches Gemini, and every refusal a 400 naming its param."""
from __future__ import annotations

import base64
import io

import pytest
import requests
from PIL import Image

from gemini_emulator.drawing import draw_png
from tests.support import assert_openai

GENERATIONS = ["/v1/images/generations", "/images/generations"]
EDITS = ["/v1/images/edits", "/images/edits"]


@pytest.fixture
def upstream_calls(emulator):
    def last(n: int = 1, method: str = "generateContent") -> list[dict]:
        return requests.get(f"{emulator.url}/emulator/requests", params={"last": n, "method": method},
                            timeout=5).json()
    return last


def opened(item: dict) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(item["b64_json"])))
    image.load()
    return image


def refused(response, param, status=400):
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["param"] == param, error
    return error


@pytest.mark.parametrize("path", GENERATIONS)
def test_generation_is_an_openai_images_response(client, path, upstream_calls):
    response = client.post(path, json={"prompt": "a lighthouse at dusk", "size": "1792x1024"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert_openai("ImagesResponse", body)
    [item] = body["data"]
    image = opened(item)
    assert (image.format, image.size) == ("PNG", (1344, 768))
    assert body["output_format"] == "png"
    assert body["usage"]["output_tokens"] == 1290
    assert response.headers["x-gemini-model"] == "gemini-2.5-flash-image"
    [sent] = upstream_calls()
    assert sent["model"] == "gemini-2.5-flash-image"
    assert sent["body"]["generationConfig"] == {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "16:9"}}


def test_n_images_are_n_calls_side_by_side(client, upstream_calls):
    body = client.post("/v1/images/generations", json={"prompt": "a fox", "n": 3, "model": "dall-e-3"}).get_json()
    assert len(body["data"]) == 3
    assert body["usage"]["output_tokens"] == 3 * 1290
    assert [c["model"] for c in upstream_calls(3)] == ["gemini-2.5-flash-image"] * 3


def test_quality_hd_asks_gemini_3_pro_image_for_2k(client, upstream_calls):
    body = client.post("/v1/images/generations", json={
        "prompt": "a map", "model": "gemini-3-pro-image-preview", "quality": "hd", "size": "1024x1024"}).get_json()
    assert opened(body["data"][0]).size == (2048, 2048)
    assert upstream_calls()[0]["body"]["generationConfig"]["imageConfig"] == {"aspectRatio": "1:1",
                                                                               "imageSize": "2K"}


@pytest.mark.parametrize(("output_format", "pillow"), [("jpeg", "JPEG"), ("webp", "WEBP")])
def test_output_format_is_really_that_format(client, output_format, pillow):
    body = client.post("/v1/images/generations", json={"prompt": "a cat", "output_format": output_format,
                                                        "output_compression": 80}).get_json()
    assert_openai("ImagesResponse", body)
    assert body["output_format"] == output_format
    assert opened(body["data"][0]).format == pillow


def test_imagen_predicts_in_batches_of_four(client, upstream_calls):
    response = client.post("/v1/images/generations", json={
        "prompt": "a castle", "model": "imagen-4.0-generate-001", "n": 6, "size": "1536x1024", "quality": "high"})
    body = response.get_json()
    assert response.status_code == 200, body
    assert_openai("ImagesResponse", body)
    assert len(body["data"]) == 6
    assert "usage" not in body
    assert {opened(item).size for item in body["data"]} == {(2560, 1792)}  # 4:3 at 2K
    calls = upstream_calls(2, "predict")
    assert [c["body"]["parameters"]["sampleCount"] for c in calls] == [4, 2]
    assert calls[0]["body"]["parameters"]["aspectRatio"] == "4:3"
    assert calls[0]["body"]["parameters"]["sampleImageSize"] == "2K"


@pytest.mark.parametrize(("fields", "param"), [
    ({"size": "5x1"}, "size"), ({"size": "huge"}, "size"), ({"response_format": "url"}, "response_format"),
    ({"n": 11}, "n"), ({"n": 0}, "n"), ({"prompt": ""}, "prompt"), ({"quality": "ultra"}, "quality"),
    ({"output_format": "gif"}, "output_format"), ({"background": "transparent"}, "background"),
    ({"stream": True}, "stream"), ({"model": "../x"}, "model"), ({"output_compression": 101}, "output_compression"),
])
def test_refusals_name_their_param(client, fields, param):
    error = refused(client.post("/v1/images/generations", json={"prompt": "a cat", **fields}), param)
    assert error["type"] == "invalid_request_error"


def test_missing_prompt_and_ignored_fields(client):
    error = refused(client.post("/v1/images/generations", json={}), "prompt")
    assert error["code"] == "missing_required_parameter"
    accepted = client.post("/v1/images/generations", json={"prompt": "x", "style": "vivid", "user": "u-1",
                                                            "response_format": "b64_json", "moderation": "low",
                                                            "background": "opaque", "quality": "standard"})
    assert accepted.status_code == 200


def test_unsupported_size_for_imagen_is_a_400(client):
    refused(client.post("/v1/images/generations", json={"prompt": "x", "model": "imagen-4.0-fast-generate-001",
                                                         "size": "2100x900"}), "size")


def test_content_policy_and_no_image(client):
    blocked = client.post("/v1/images/generations", json={"prompt": "x [emulator finish=IMAGE_SAFETY]"})
    assert blocked.status_code == 400
    assert blocked.get_json()["error"]["code"] == "content_policy_violation"
    prompt_blocked = client.post("/v1/images/generations", json={"prompt": "x [emulator fault=block]"})
    assert prompt_blocked.get_json()["error"]["code"] == "content_policy_violation"
    imagen = client.post("/v1/images/generations", json={"prompt": "x [emulator finish=IMAGE_SAFETY]",
                                                          "model": "imagen-4.0-generate-001"})
    assert imagen.get_json()["error"]["code"] == "content_policy_violation"
    nothing = client.post("/v1/images/generations", json={"prompt": "x [emulator finish=NO_IMAGE]"})
    assert nothing.status_code == 502
    assert nothing.get_json()["error"]["code"] == "no_image_generated"


def test_a_text_model_refuses_images_as_gemini_does(client):
    response = client.post("/v1/images/generations", json={"prompt": "x", "model": "gemini-2.5-flash"})
    assert response.status_code == 400
    assert "response modalities" in response.get_json()["error"]["message"]


def upload(name="a.png", width=1200, height=680):
    return (io.BytesIO(draw_png(width, height, name)), name)


@pytest.mark.parametrize("path", EDITS)
def test_edit_sends_the_images_then_the_prompt(client, path, upstream_calls):
    response = client.post(path, content_type="multipart/form-data", data={
        "prompt": "make the sky purple", "n": "2", "image[]": [upload("a.png"), upload("b.png", 64, 64)]})
    body = response.get_json()
    assert response.status_code == 200, body
    assert_openai("ImagesResponse", body)
    assert len(body["data"]) == 2
    assert body["usage"]["input_tokens_details"]["image_tokens"] == 2 * 2 * 258
    parts = upstream_calls()[0]["body"]["contents"][0]["parts"]
    assert [p.get("inlineData", {}).get("mimeType") for p in parts] == ["image/png", "image/png", None]
    assert parts[-1] == {"text": "make the sky purple"}
    assert opened(body["data"][0]).size == (1344, 768)  # no size: Gemini follows the first image (16:9 here)


def test_edit_with_one_image_and_a_size(client):
    response = client.post("/v1/images/edits", content_type="multipart/form-data", data={
        "prompt": "add a hat", "image": upload(), "size": "1024x1536", "output_format": "jpeg"})
    assert response.status_code == 200, response.get_json()
    assert opened(response.get_json()["data"][0]).size == (832, 1248)


@pytest.mark.parametrize(("data", "param"), [
    ({"prompt": "x"}, "image"),
    ({"prompt": "x", "image": upload(), "mask": upload("m.png")}, "mask"),
    ({"prompt": "x", "image": (io.BytesIO(b"GIF89a not really"), "a.gif")}, "image"),
    ({"image": upload()}, "prompt"),
    ({"prompt": "x", "image": upload(), "n": "many"}, "n"),
    ({"prompt": "x", "image": upload(), "model": "imagen-4.0-generate-001"}, "model"),
    ({"prompt": "x", "image": upload(), "response_format": "url"}, "response_format"),
])
def test_edit_refusals(client, data, param):
    refused(client.post("/v1/images/edits", content_type="multipart/form-data", data=data), param)


def test_edit_needs_multipart_and_respects_the_body_limit(client_with):
    small = client_with(max_body_bytes=50_000)
    assert small.post("/v1/images/edits", json={"prompt": "x"}).status_code == 400
    big = {"prompt": "x", "image": (io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(100_000)), "big.png")}
    response = small.post("/v1/images/edits", content_type="multipart/form-data", data=big)
    assert response.status_code == 413
    assert set(response.get_json()["error"]) == {"message", "type", "param", "code"}


def test_image_aliases_are_listed(client):
    listed = {model["id"] for model in client.get("/v1/models").get_json()["data"]}
    assert {"dall-e-3", "gpt-image-1", "gemini-2.5-flash-image", "imagen-4.0-generate-001"} <= listed


def test_edit_with_prompt_logging_on(client_with):
    logging_client = client_with(log_prompts=True)
    response = logging_client.post("/v1/images/edits", content_type="multipart/form-data",
                                   data={"prompt": "add a hat", "image": upload()})
    assert response.status_code == 200, response.get_json()


def test_safety_settings_reach_gemini(client_with, upstream_calls):
    harassment = {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_LOW_AND_ABOVE"}
    strict = client_with(safety_settings=(harassment,))
    assert strict.post("/v1/images/generations", json={"prompt": "a dog"}).status_code == 200
    assert upstream_calls()[0]["body"]["safetySettings"] == [harassment]


@pytest.mark.parametrize(("content_type", "data"), [
    ("multipart/form-data", b"no boundary"),
    ("multipart/form-data; boundary=xyz", b'--xyz\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhi\r\n--xy'),
])
def test_malformed_multipart_is_a_400_saying_so(client, content_type, data):
    response = client.post("/v1/images/edits", data=data, content_type=content_type)
    assert response.status_code == 400
    assert "could not be read" in response.get_json()["error"]["message"]


def test_imagen_calls_keep_the_retry_rule(client_with, upstream_calls):
    retrying = client_with(upstream_retries=1, upstream_retry_delay=0.01)
    prompt = "a bridge [emulator fault=503 times=1]"
    response = retrying.post("/v1/images/generations", json={"prompt": prompt, "model": "imagen-4.0-generate-001"})
    assert response.status_code == 200, response.get_json()
    assert [call["body"]["instances"][0]["prompt"] for call in upstream_calls(2, "predict")] == [prompt, prompt]
    limited = client_with().post("/v1/images/generations", json={
        "prompt": "a bridge [emulator fault=429]", "model": "imagen-4.0-generate-001"})
    assert limited.status_code == 429
    assert set(limited.get_json()["error"]) == {"message", "type", "param", "code"}
