"""Fixtures of the end-to-end layer: the emulator as a process (`python -m gemini_emulator`),
gunicorn in front of it, the official openai SDK as client (redis-server: tests/conftest.py)."""
from __future__ import annotations

import openai
import pytest
import requests

from gemini_emulator.process import start_process, stop_process
from tests.support.processes import free_port, start_gunicorn


@pytest.fixture(scope="session")
def emulator_process():
    port = free_port()
    process = start_process(port)
    yield f"http://127.0.0.1:{port}"
    stop_process(process)


@pytest.fixture(scope="session")
def gateway(emulator_process):
    server = start_gunicorn(GEMINI_BASE_URL=emulator_process, UPSTREAM_RETRIES="0")
    yield server
    assert server.stop() == 0


@pytest.fixture
def sdk(gateway):
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key="any-key", max_retries=0, timeout=30) as client:
        yield client


@pytest.fixture
def emulator_stats(emulator_process):
    def stats() -> dict:
        return requests.get(f"{emulator_process}/emulator/stats", timeout=5).json()
    return stats
