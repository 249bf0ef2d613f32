"""The images endpoints on Vertex AI (GEMINI_BACKEND=vertex): Gemini image models and Imagen's :predict on the
project paths, with google-auth's real service-account flow against the emulator's /token."""
from __future__ import annotations

import base64
import io

import pytest
import requests
from PIL import Image

from gemini_proxy.app import create_app
from gemini_proxy.config import Settings
from tests.support import assert_openai
from tests.support.vertex import (
    LOCATION,
    PROJECT,
    registered_service_account,
)


@pytest.fixture(scope="module")
def vertex_client(emulator, tmp_path_factory):
    credentials = registered_service_account(emulator.url, tmp_path_factory.mktemp("vertex") / "sa.json")
    app = create_app(Settings(gemini_backend="vertex", vertex_project=PROJECT, vertex_location=LOCATION,
                              vertex_base_url=emulator.url, vertex_credentials_file=credentials,
                              upstream_retries=0, signature_db="", responses_db=""))
    yield app.test_client()
    app.extensions["gemini_proxy"].upstream.close()


def recorded(emulator, method):
    return requests.get(f"{emulator.url}/emulator/requests", params={"last": 1, "method": method}, timeout=5).json()[0]


@pytest.mark.parametrize(("model", "method", "size"), [
    ("gemini-2.5-flash-image", "generateContent", (768, 1344)),
    ("imagen-4.0-ultra-generate-001", "predict", (768, 1408)),
])
def test_images_on_vertex(vertex_client, emulator, model, method, size):
    response = vertex_client.post("/v1/images/generations", json={"prompt": "a tower", "model": model,
                                                                  "size": "1024x1792"})
    body = response.get_json()
    assert response.status_code == 200, body
    assert_openai("ImagesResponse", body)
    with Image.open(io.BytesIO(base64.b64decode(body["data"][0]["b64_json"]))) as image:
        assert image.size == size
    call = recorded(emulator, method)
    assert (call["model"], call["project"], call["location"]) == (model, PROJECT, LOCATION)
