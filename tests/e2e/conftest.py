"""Real processes on loopback: the emulator (`python -m gemini_proxy.emulator`) and gunicorn
with the project's own gunicorn.conf.py, driven by the official openai SDK."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import openai
import pytest
import requests

from gemini_proxy.emulator.process import start_process, stop_process

ROOT = Path(__file__).resolve().parents[2]
# One file for every gunicorn of the run, as on a machine whose workers share it.
SIGNATURE_DB = Path(tempfile.gettempdir()) / f"gemini-proxy-tests-{os.getpid()}" / "signatures.sqlite3"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"process exited with {process.returncode}"
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(url)


def gunicorn_env(port: int, **env: str | None) -> dict[str, str]:
    """The environment of a gunicorn child: the parent's, minus anything that would point it
    at a real Gemini (an empty GEMINI_API_KEY also keeps a developer's .env from doing so).
    A value of None removes the variable, so gunicorn.conf.py's default applies."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "EMULATOR_", "GUNICORN_"))}
    merged = {**base, "GEMINI_API_KEY": "", "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2",
              "GUNICORN_THREADS": "16", "ACCESS_LOG": "", "SIGNATURE_DB": str(SIGNATURE_DB), **env}
    return {k: v for k, v in merged.items() if v is not None}


@dataclass
class Gunicorn:
    process: subprocess.Popen
    url: str

    def stop(self, sig=signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)


def start_gunicorn(**env: str | None) -> Gunicorn:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                               cwd=ROOT, env=gunicorn_env(port, **env))
    server = Gunicorn(process, f"http://127.0.0.1:{port}")
    try:
        wait_for(f"{server.url}/healthz", process)
    except BaseException:
        server.stop(signal.SIGKILL)
        raise
    return server


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
