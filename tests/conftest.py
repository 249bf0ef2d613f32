"""Fixtures shared by every layer: a real emulator (in process, on a socket) behind the real SDK,
an app built on it, and a redis-server. Helpers live in tests/support/."""
from __future__ import annotations

import os

import pytest
import requests

from gemini_emulator import EmulatorConfig, EmulatorServer
from gemini_proxy.app import create_app
from tests.support import gateway_settings
from tests.support.processes import free_port, start_redis


@pytest.fixture(scope="session")
def emulator():
    """An in-process emulator over a real socket (the SDK talks HTTP to it)."""
    with EmulatorServer(EmulatorConfig(), host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture(scope="session")
def emulator_requests(emulator):
    """The request bodies the emulator received, newest last."""
    def last(n: int = 1) -> list[dict]:
        return requests.get(f"{emulator.url}/emulator/requests", params={"last": n}, timeout=5).json()
    return last


@pytest.fixture(scope="session")
def app(emulator):
    app = create_app(gateway_settings(emulator))
    yield app
    # Its pooled upstream sockets, left to the garbage collector, are ResourceWarnings (errors here).
    app.extensions["gemini_proxy"].upstream.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def client_with(emulator):
    """Test clients of apps with their own settings (`client_with(max_tools=2)`); their upstream
    pools (and Redis clients) are closed after."""
    apps = []

    def make(**overrides):
        apps.append(create_app(gateway_settings(emulator, **overrides)))
        return apps[-1].test_client()

    yield make
    for app in apps:
        app.extensions["gemini_proxy"].upstream.close()
        app.extensions["gemini_proxy"].signatures.close()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real redis-server on loopback, for the whole session."""
    port = free_port()
    process = start_redis(port, tmp_path_factory.mktemp("redis"))
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def pytest_sessionfinish(session, exitstatus):
    """In CI every component is installed, so a skipped test means something did not run."""
    if os.environ.get("CI") == "true":
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        skipped = reporter.stats.get("skipped", []) if reporter else []
        if skipped:
            reporter.write_line(f"CI=true: {len(skipped)} test(s) skipped; in CI a skip is a failure.", red=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
