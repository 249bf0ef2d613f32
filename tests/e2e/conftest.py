"""Fixtures of the end-to-end layer: the emulator as a process (`python -m gemini_emulator`, also
Vertex AI for a service account made for the run), gunicorn in front of it, the official openai
SDK as client (redis-server: tests/conftest.py). `sdk` is parametrised over the two backends: the
chat, Responses and embeddings suites that use it run once on AI Studio and once on Vertex AI
(google-auth's real token flow against the emulator's /token)."""
from __future__ import annotations

import openai
import pytest
import requests

from gemini_emulator.process import start_process, stop_process
from tests.support.processes import free_port, start_gunicorn
from tests.support.vertex import LOCATION, PROJECT, service_account_info, write_service_account


@pytest.fixture(scope="session")
def emulator_port():
    return free_port()


@pytest.fixture(scope="session")
def service_account_file(emulator_port, tmp_path_factory):
    """A service account the emulator accepts on its Vertex AI paths (a fresh key, token_uri at it)."""
    return write_service_account(tmp_path_factory.mktemp("vertex") / "service-account.json",
                                 service_account_info(f"http://127.0.0.1:{emulator_port}"))


@pytest.fixture(scope="session")
def emulator_process(emulator_port, service_account_file):
    process = start_process(emulator_port, extra_args=("--service-account-key", str(service_account_file)))
    yield f"http://127.0.0.1:{emulator_port}"
    stop_process(process)


@pytest.fixture(scope="session")
def gateway(emulator_process):
    server = start_gunicorn(GEMINI_BASE_URL=emulator_process, UPSTREAM_RETRIES="0")
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="session")
def vertex_gateway(emulator_process, service_account_file):
    server = start_gunicorn(GEMINI_BACKEND="vertex", VERTEX_PROJECT=PROJECT, VERTEX_LOCATION=LOCATION,
                            VERTEX_CREDENTIALS_FILE=str(service_account_file), VERTEX_BASE_URL=emulator_process,
                            UPSTREAM_RETRIES="0")
    yield server
    assert server.stop() == 0


@pytest.fixture(params=["ai-studio", "vertex"])
def sdk(request):
    gateway = request.getfixturevalue("gateway" if request.param == "ai-studio" else "vertex_gateway")
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key="any-key", max_retries=0, timeout=30) as client:
        yield client


@pytest.fixture
def emulator_stats(emulator_process):
    def stats() -> dict:
        return requests.get(f"{emulator_process}/emulator/stats", timeout=5).json()
    return stats
