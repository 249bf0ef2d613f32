"""Pure translation of OpenAI's images API to Gemini image models and Imagen: sizes, quality, the
request bodies, and what Gemini's answers (and refusals) become. Plus the Pillow re-encoding."""
from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from gemini_emulator.drawing import draw_png
from gemini_proxy.errors import ApiError
from gemini_proxy.media.images import checked_upload, encoded, image_mime
from gemini_proxy.translate.families import GEMINI_IMAGE, image_family
from gemini_proxy.translate.images import (
    aspect_ratio,
    gemini_request,
    image_size,
    imagen_request,
    images_from_gemini,
    images_from_imagen,
    images_response,
    usage_from_gemini,
)
from tests.support import assert_openai

GEMINI = image_family("gemini-2.5-flash-image")
IMAGEN = image_family("imagen-4.0-generate-001")
PNG = base64.b64encode(draw_png(64, 48, "unit")).decode()


@pytest.mark.parametrize(("size", "gemini", "imagen"), [
    ("256x256", "1:1", "1:1"), ("512x512", "1:1", "1:1"), ("1024x1024", "1:1", "1:1"),
    ("1792x1024", "16:9", "16:9"), ("1024x1792", "9:16", "9:16"),
    ("1536x1024", "3:2", "4:3"), ("1024x1536", "2:3", "3:4"),
    ("auto", None, None), (None, None, None),
    ("1920x1080", "16:9", "16:9"), ("1344x768", "16:9", "16:9"), ("2100x900", "21:9", None),
    ("800x1000", "4:5", None), ("1200x900", "4:3", "4:3"),
])
def test_size_table(size, gemini, imagen):
    assert aspect_ratio(size, GEMINI) == gemini
    if imagen is None and size not in (None, "auto"):
        with pytest.raises(ApiError) as refused:
            aspect_ratio(size, IMAGEN)
        assert refused.value.param == "size"
    else:
        assert aspect_ratio(size, IMAGEN) == imagen


@pytest.mark.parametrize("size", ["5x1", "1000x3000", "big", "0x10", "1024x", "1024*1024", "-1x5", "123456x1"])
def test_sizes_without_a_ratio_gemini_draws_are_a_400_naming_size(size):
    with pytest.raises(ApiError) as refused:
        aspect_ratio(size, GEMINI)
    assert (refused.value.status, refused.value.param, refused.value.code) == (400, "size", "invalid_size")


def test_families_and_quality():
    assert image_family("models/gemini-2.5-flash-image") == GEMINI_IMAGE
    assert image_family("imagen-4.0-fast-generate-001").sizes == ("1K",)
    assert not IMAGEN.edits
    assert IMAGEN.imagen
    pro = image_family("gemini-3-pro-image-preview")
    assert [image_size(q, pro) for q in ("hd", "high", "standard", "auto", None)] == ["2K", "2K", None, None, None]
    assert image_size("hd", GEMINI) is None  # 2.5 Flash Image draws 1K only: accepted, not asked for
    assert image_size("hd", IMAGEN) == "2K"


def test_gemini_request_puts_images_before_the_prompt():
    contents, config = gemini_request("make it blue", [(b"\x89PNG", "image/png")], "16:9", "2K")
    assert contents == [{"role": "user", "parts": [{"inline_data": {"data": b"\x89PNG", "mime_type": "image/png"}},
                                                   {"text": "make it blue"}]}]
    assert config == {"response_modalities": ["IMAGE"], "image_config": {"aspect_ratio": "16:9", "image_size": "2K"}}
    assert gemini_request("x", [], None, None)[1] == {"response_modalities": ["IMAGE"]}


def test_imagen_request():
    assert imagen_request("a cat", 3, "4:3", None) == {"instances": [{"prompt": "a cat"}], "parameters": {
        "sampleCount": 3, "outputOptions": {"mimeType": "image/png"}, "includeRaiReason": True, "aspectRatio": "4:3"}}


def gemini_answer(parts, reason="STOP", **extra):
    return {"candidates": [{"content": {"parts": parts, "role": "model"}, "finish_reason": reason, "index": 0}],
            **extra}


def test_images_and_usage_from_gemini():
    answer = gemini_answer([{"text": "Here"}, {"inline_data": {"mime_type": "image/png", "data": PNG}}],
                           usage_metadata={"prompt_token_count": 266, "candidates_token_count": 1290,
                                           "total_token_count": 1556, "prompt_tokens_details": [
                                               {"modality": "TEXT", "token_count": 8},
                                               {"modality": "IMAGE", "token_count": 258}]})
    assert images_from_gemini(answer) == [(PNG, "image/png")]
    usage = usage_from_gemini([answer, answer])
    assert usage == {"input_tokens": 532, "output_tokens": 2580, "total_tokens": 3112,
                     "input_tokens_details": {"text_tokens": 16, "image_tokens": 516}}
    body = images_response([PNG], 1700000000, "png", usage)
    assert_openai("ImagesResponse", body)


def test_thought_images_are_not_the_answer():
    draft = base64.b64encode(draw_png(8, 8, "draft")).decode()
    answer = gemini_answer([{"inline_data": {"mime_type": "image/png", "data": draft}, "thought": True},
                            {"text": "thinking", "thought": True},
                            {"inline_data": {"mime_type": "image/png", "data": PNG}}])
    assert images_from_gemini(answer) == [(PNG, "image/png")]


@pytest.mark.parametrize("reason", ["IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "SAFETY", "IMAGE_RECITATION"])
def test_safety_endings_are_content_policy_violations(reason):
    with pytest.raises(ApiError) as refused:
        images_from_gemini(gemini_answer([], reason))
    assert (refused.value.status, refused.value.code) == (400, "content_policy_violation")
    assert reason in refused.value.message


def test_blocked_prompt_is_a_content_policy_violation():
    with pytest.raises(ApiError) as refused:
        images_from_gemini({"prompt_feedback": {"block_reason": "PROHIBITED_CONTENT"}})
    assert refused.value.code == "content_policy_violation"


@pytest.mark.parametrize("reason", ["NO_IMAGE", "IMAGE_OTHER", "STOP"])
def test_no_image_is_a_502_that_says_what_gemini_said(reason):
    with pytest.raises(ApiError) as failed:
        images_from_gemini(gemini_answer([{"text": "I can only describe it."}], reason))
    assert (failed.value.status, failed.value.code) == (502, "no_image_generated")
    assert reason in failed.value.message
    assert "I can only describe it." in failed.value.message


def test_imagen_predictions():
    answer = {"predictions": [{"bytesBase64Encoded": PNG, "mimeType": "image/png"}, {"raiFilteredReason": "x"}]}
    assert images_from_imagen(answer) == [(PNG, "image/png")]
    for filtered in ({}, {"predictions": [{"raiFilteredReason": "filtered: person"}]}):
        with pytest.raises(ApiError) as refused:
            images_from_imagen(filtered)
        assert refused.value.code == "content_policy_violation"


@pytest.mark.parametrize(("output_format", "pillow"), [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_encoded_really_converts(output_format, pillow):
    data = base64.b64decode(encoded(PNG, "image/png", output_format, None))
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == (pillow, (64, 48))
    assert image_mime(data) == f"image/{output_format}"
    assert encoded(PNG, "image/png", "png", None) == PNG  # nothing to do


def test_compression_makes_a_smaller_jpeg():
    big = base64.b64encode(draw_png(512, 512, "c")).decode()
    assert len(encoded(big, "image/png", "jpeg", 10)) < len(encoded(big, "image/png", "jpeg", 100))


def test_uploads_are_sniffed_not_trusted():
    png = draw_png(8, 8, "u")
    assert checked_upload(png, "image", 1000) == (png, "image/png")
    for data, code in ((b"GIF89a....", "invalid_image_format"), (png, "image_too_large")):
        with pytest.raises(ApiError) as refused:
            checked_upload(data, "image[]", 10 if code == "image_too_large" else 1000)
        assert (refused.value.param, refused.value.code) == ("image[]", code)
