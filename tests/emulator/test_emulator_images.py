"""The emulator's image models: Gemini's (generateContent with an IMAGE modality) through the real SDK, and
Imagen's :predict on AI Studio (raw REST: the SDK refuses generate_images there) and Vertex AI (the SDK)."""
from __future__ import annotations

import base64
import io
import time

import pytest
import requests
from google.genai import errors as genai_errors
from google.genai import types
from PIL import Image

from gemini_emulator.drawing import draw_jpeg, draw_png, png_size
from gemini_emulator.images import GEMINI_SIZES
from tests.support.vertex import service_account_info, vertex_client

IMAGE_ONLY = types.GenerateContentConfig(response_modalities=["IMAGE"])


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def image_parts(answer) -> list:
    return [p.inline_data for p in answer.candidates[0].content.parts if p.inline_data]


def test_drawing_is_a_real_png_quickly():
    started = time.perf_counter()
    data = draw_png(1344, 768, "a lighthouse")
    assert time.perf_counter() - started < 0.5
    assert png_size(data) == (1344, 768)
    assert opened(data).size == (1344, 768)
    assert data == draw_png(1344, 768, "a lighthouse")  # deterministic
    assert data != draw_png(1344, 768, "a mountain")


@pytest.mark.parametrize("ratio", ["1:1", "16:9", "9:16", "3:2", "21:9"])
def test_gemini_image_follows_the_aspect_ratio(client, ratio):
    config = types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"],
                                         image_config=types.ImageConfig(aspect_ratio=ratio))
    answer = client.models.generate_content(model="gemini-2.5-flash-image", contents="a red fox", config=config)
    [image] = image_parts(answer)
    assert image.mime_type == "image/png"
    assert opened(image.data).size == GEMINI_SIZES[ratio]
    assert answer.text
    assert "a red fox" in answer.text
    details = {d.modality.value: d.token_count for d in answer.usage_metadata.candidates_tokens_details}
    assert details["IMAGE"] == 1290


def test_image_size_2k_on_gemini_3_pro_image_and_refused_on_flash(client):
    config = types.GenerateContentConfig(response_modalities=["IMAGE"],
                                         image_config=types.ImageConfig(aspect_ratio="16:9", image_size="2K"))
    answer = client.models.generate_content(model="gemini-3-pro-image-preview", contents="a boat", config=config)
    [image] = image_parts(answer)
    assert opened(image.data).size == (2688, 1536)
    assert answer.text is None  # IMAGE only: no text part
    with pytest.raises(genai_errors.ClientError) as refused:
        client.models.generate_content(model="gemini-2.5-flash-image", contents="a boat", config=config)
    assert refused.value.code == 400
    assert "image_size" in refused.value.message


def test_unsupported_aspect_ratio_is_invalid_argument(server):
    body = {"contents": [{"parts": [{"text": "x"}]}],
            "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "7:3"}}}
    answer = requests.post(f"{server.url}/v1beta/models/gemini-2.5-flash-image:generateContent", json=body,
                           headers={"x-goog-api-key": "k"}, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "7:3" in answer.json()["error"]["message"]


def test_text_model_asked_for_an_image_refuses(client):
    with pytest.raises(genai_errors.ClientError) as refused:
        client.models.generate_content(model="gemini-2.5-flash", contents="draw", config=IMAGE_ONLY)
    assert refused.value.code == 400
    assert "response modalities" in refused.value.message


def test_edit_takes_an_input_image_and_keeps_its_ratio(client):
    source = draw_png(1200, 680, "source")
    answer = client.models.generate_content(
        model="gemini-2.5-flash-image", config=types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"]),
        contents=[types.Part.from_bytes(data=source, mime_type="image/png"), "make it blue"])
    [image] = image_parts(answer)
    assert opened(image.data).size == GEMINI_SIZES["16:9"]
    assert answer.usage_metadata.prompt_tokens_details[-1].modality.value == "IMAGE"


@pytest.mark.parametrize("reason", ["IMAGE_SAFETY", "NO_IMAGE", "IMAGE_PROHIBITED_CONTENT"])
def test_image_finish_reasons_by_directive(client, reason):
    answer = client.models.generate_content(model="gemini-2.5-flash-image", config=IMAGE_ONLY,
                                            contents=f"a thing [emulator finish={reason}]")
    assert answer.candidates[0].finish_reason.value == reason
    assert not answer.candidates[0].content.parts


def test_streamed_image_is_one_event(client):
    chunks = list(client.models.generate_content_stream(model="gemini-2.5-flash-image", contents="a cat",
                                                        config=IMAGE_ONLY))
    assert len(chunks) == 1
    assert opened(image_parts(chunks[0])[0].data).size == (1024, 1024)


def predict(server, model, parameters=None, prompt="a cat", path="v1beta/models"):
    return requests.post(f"{server.url}/{path}/{model}:predict", headers={"x-goog-api-key": "k"}, timeout=10,
                         json={"instances": [{"prompt": prompt}], "parameters": parameters or {}})


def test_imagen_predict_on_ai_studio(server):
    answer = predict(server, "imagen-4.0-generate-001", {"sampleCount": 2, "aspectRatio": "16:9"})
    assert answer.status_code == 200
    predictions = answer.json()["predictions"]
    assert [p["mimeType"] for p in predictions] == ["image/png", "image/png"]
    images = [opened(base64.b64decode(p["bytesBase64Encoded"])) for p in predictions]
    assert [i.size for i in images] == [(1408, 768)] * 2
    assert predictions[0]["bytesBase64Encoded"] != predictions[1]["bytesBase64Encoded"]
    assert len(predict(server, "imagen-4.0-fast-generate-001").json()["predictions"]) == 4  # the default


@pytest.mark.parametrize(("parameters", "words"), [
    ({"sampleCount": 5}, "sampleCount"), ({"aspectRatio": "2:3"}, "aspectRatio"),
    ({"outputOptions": {"mimeType": "image/webp"}}, "mimeType"), ({"seed": 3}, "seed"),
])
def test_imagen_refusals(server, parameters, words):
    answer = predict(server, "imagen-4.0-generate-001", parameters)
    assert answer.status_code == 400
    assert words in answer.json()["error"]["message"]


def test_imagen_jpeg_is_a_real_jpeg(server):
    answer = predict(server, "imagen-4.0-ultra-generate-001", {
        "sampleCount": 1, "aspectRatio": "9:16", "sampleImageSize": "2K",
        "outputOptions": {"mimeType": "image/jpeg", "compressionQuality": 80}})
    [prediction] = answer.json()["predictions"]
    assert prediction["mimeType"] == "image/jpeg"
    image = opened(base64.b64decode(prediction["bytesBase64Encoded"]))
    assert (image.format, image.size) == ("JPEG", (1536, 2816))


def test_jpeg_drawing_is_the_png_picture_in_blocks():
    for width, height in ((8, 8), (13, 7), (1344, 768)):
        jpeg, png = opened(draw_jpeg(width, height, "same")), opened(draw_png(width, height, "same")).convert("RGB")
        assert jpeg.size == png.size == (width, height)
        centre = (width // 2 // 8 * 8 + 4, height // 2 // 8 * 8 + 4) if width > 8 else (4, 4)
        assert all(abs(a - b) <= 3 for a, b in zip(jpeg.getpixel(centre), png.getpixel(centre), strict=True))


def test_imagen_filtered_prompt(server):
    prompt = "x [emulator finish=IMAGE_SAFETY]"
    assert predict(server, "imagen-4.0-generate-001", {"sampleCount": 1}, prompt).json() == {}
    with_reason = predict(server, "imagen-4.0-generate-001", {"sampleCount": 1, "includeRaiReason": True}, prompt)
    assert "raiFilteredReason" in with_reason.json()["predictions"][0]


def test_imagen_is_listed_with_predict_and_refuses_generate_content(server, client):
    model = client.models.get(model="imagen-4.0-ultra-generate-001")
    assert model.supported_actions == ["predict"]
    with pytest.raises(genai_errors.ClientError) as refused:
        client.models.generate_content(model="imagen-4.0-generate-001", contents="hi")
    assert refused.value.code == 404


def test_imagen_through_the_sdk_on_vertex(server):
    info = service_account_info(server.url)
    assert requests.post(f"{server.url}/emulator/service-accounts", json=info, timeout=5).status_code == 200
    vertex = vertex_client(server.url, info)
    with pytest.warns(Warning, match="generate_images method is deprecated"):
        answer = vertex.models.generate_images(model="imagen-4.0-generate-001", prompt="a lake",
                                               config=types.GenerateImagesConfig(
                                                   number_of_images=1, aspect_ratio="3:4",
                                                   output_mime_type="image/jpeg", output_compression_quality=70))
    [generated] = answer.generated_images
    assert generated.image.mime_type == "image/jpeg"
    image = opened(generated.image.image_bytes)
    assert (image.format, image.size) == ("JPEG", (896, 1280))


def test_imagen_prompt_faults(server):
    assert predict(server, "imagen-4.0-generate-001", prompt="x [emulator fault=429]").status_code == 429
    once = "y [emulator fault=503 times=1]"
    assert [predict(server, "imagen-4.0-generate-001", prompt=once).status_code for _ in range(2)] == [503, 200]
