"""Fixtures of the emulator's own tests: one emulator on a real socket per module, and the real
google-genai SDK pointed at it (`client` here is that SDK client, not the gateway's test client)."""
from __future__ import annotations

import pytest

from gemini_emulator import EmulatorConfig, EmulatorServer
from tests.support.emulator import sdk_client


@pytest.fixture(scope="module")
def server():
    with EmulatorServer(EmulatorConfig(chunk_tokens=4), port=0) as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    return sdk_client(server.url)  # module-scoped: Client.__del__ closes its pool
