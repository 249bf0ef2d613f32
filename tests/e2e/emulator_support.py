"""What the emulator's own e2e tests share: an emulator on a real socket and the real SDK."""
from __future__ import annotations

import pytest
import requests
from google import genai
from google.genai import types

from gemini_emulator import EmulatorConfig, EmulatorServer


def sdk_client(url: str, key: str = "k", **http_options) -> genai.Client:
    return genai.Client(api_key=key, http_options=types.HttpOptions(
        base_url=url, api_version="v1beta", **http_options))


@pytest.fixture(scope="module")
def server():
    with EmulatorServer(EmulatorConfig(chunk_tokens=4), port=0) as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    return sdk_client(server.url)  # module-scoped: Client.__del__ closes its pool


def stats(server) -> dict:
    return requests.get(f"{server.url}/emulator/stats", timeout=5).json()
