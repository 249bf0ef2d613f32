"""Images as users make them: gunicorn + the emulator process, the official openai SDK as client, on AI Studio
and on Vertex AI (`sdk`). The images decode and open with Pillow in the shape asked for."""
from __future__ import annotations

import base64
import io

import openai
import pytest
from PIL import Image

from gemini_emulator.drawing import draw_png

pytestmark = pytest.mark.e2e


def opened(item) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(item.b64_json)))
    image.load()
    return image


@pytest.mark.parametrize(("size", "ratio"), [("1792x1024", 16 / 9), ("1024x1536", 2 / 3), ("1024x1024", 1.0)])
def test_generate_with_the_sdk(sdk, size, ratio):
    result = sdk.images.generate(model="gpt-image-1", prompt="a lighthouse at dusk", size=size)
    [item] = result.data
    image = opened(item)
    assert image.format == "PNG"
    assert abs(image.width / image.height - ratio) < 0.03
    assert result.usage.output_tokens > 0
    assert result.output_format == "png"


def test_two_images_and_imagen(sdk):
    assert len(sdk.images.generate(prompt="a fox", n=2, response_format="b64_json").data) == 2
    imagen = sdk.images.generate(model="imagen-4.0-fast-generate-001", prompt="a fox", n=2, size="1792x1024",
                                 output_format="jpeg")
    assert [opened(item).format for item in imagen.data] == ["JPEG", "JPEG"]


def test_edit_with_the_sdk(sdk, tmp_path):
    path = tmp_path / "photo.png"
    path.write_bytes(draw_png(1024, 1024, "photo"))
    with path.open("rb") as single:
        result = sdk.images.edit(image=single, prompt="add a red hat", model="dall-e-2")
    assert opened(result.data[0]).size == (1024, 1024)
    with path.open("rb") as first, path.open("rb") as second:
        several = sdk.images.edit(image=[first, second], prompt="blend them", n=2, size="1536x1024")
    assert len(several.data) == 2
    assert several.usage.input_tokens_details.image_tokens == 2 * 2 * 258


@pytest.mark.parametrize(("options", "param"), [
    ({"response_format": "url"}, "response_format"), ({"size": "5x1"}, "size"), ({"n": 11}, "n")])
def test_refusals_are_bad_requests_naming_the_param(sdk, options, param):
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.images.generate(prompt="a cat", **options)
    assert refused.value.param == param
    assert refused.value.status_code == 400


def test_safety_is_a_content_policy_violation(sdk):
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.images.generate(prompt="something [emulator finish=IMAGE_SAFETY]")
    assert refused.value.code == "content_policy_violation"
