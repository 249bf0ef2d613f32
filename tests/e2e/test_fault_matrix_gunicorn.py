"""The retry, drop and timeout rows of docs/faults.md's fault matrix against gunicorn (the
shipped gunicorn.conf.py, gthread workers) and the emulator as its own process: retries,
deadlines and dropped connections behave the same in production as in the API tests."""
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support import assert_fault_outcome, fault_matrix
from tests.support.processes import start_gunicorn

pytestmark = pytest.mark.e2e

TIMEOUT = 1.5
CHUNK_TIMEOUT = 0.5
CASES = [case for case in fault_matrix()
         if case.calls > 1 or any(word in case.directive for word in ("drop", "close", "hang", "midstream"))]


@pytest.fixture(scope="module")
def faulty_gateway(emulator_process):
    server = start_gunicorn(GEMINI_BASE_URL=emulator_process, UPSTREAM_RETRIES="2", UPSTREAM_RETRY_DELAY="0.01",
                            UPSTREAM_TIMEOUT=str(TIMEOUT), UPSTREAM_CHUNK_TIMEOUT=str(CHUNK_TIMEOUT))
    yield server
    assert server.stop() == 0


def test_the_selection_has_every_kind_of_row():
    assert {case.code for case in CASES} >= {"upstream_unreachable", "timeout", "overloaded", None}
    assert any(case.error_event for case in CASES)
    assert any(case.calls == 3 for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_fault_matrix_through_gunicorn(faulty_gateway, emulator_stats, case):
    prompt = f"{case.directive} Tell me something. (gunicorn fault matrix: {case.id})"
    before = emulator_stats()["requests"]
    started = time.monotonic()
    response = requests.post(f"{faulty_gateway.url}/v1/chat/completions", timeout=30, json={
        "model": "gemini-2.5-flash", "messages": [{"role": "user", "content": prompt}], "stream": case.stream})
    elapsed = time.monotonic() - started
    assert_fault_outcome(case, response.status_code, response.headers, response.content)
    assert emulator_stats()["requests"] - before == case.calls
    if "after `UPSTREAM_TIMEOUT`" in case.also:
        assert TIMEOUT <= elapsed < 2 * TIMEOUT
    if "after `UPSTREAM_CHUNK_TIMEOUT`" in case.also:
        assert CHUNK_TIMEOUT <= elapsed < TIMEOUT


def connections_to(port: int) -> int:
    """Established TCP connections on this machine whose remote end is 127.0.0.1:`port`."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                remote, state = line.split()[2:4]
                if state == "01" and int(remote.rsplit(":", 1)[1], 16) == port:
                    count += 1
    return count


def test_idle_upstream_connections_close_on_a_timer_after_a_burst(emulator_process):
    """Issue 11 saw 347 idle sockets to Gemini 30 s after a burst: they were expired only when the
    pool was next used. Now the pool's timer closes them KEEPALIVE_EXPIRY (5 s) after their use."""
    port = int(emulator_process.rsplit(":", 1)[1])
    gateway = start_gunicorn(GEMINI_BASE_URL=emulator_process, UPSTREAM_RETRIES="0")
    try:
        def one_stream(_):
            return requests.post(f"{gateway.url}/v1/chat/completions", timeout=30, json={
                "model": "gemini-2.5-flash", "stream": True,
                "messages": [{"role": "user", "content": "[emulator ttft=0.5 tokens=8] burst"}]}).status_code
        baseline = connections_to(port)
        with ThreadPoolExecutor(40) as pool:
            assert set(pool.map(one_stream, range(40))) == {200}
        kept = connections_to(port) - baseline
        assert kept >= 10  # the burst left kept-alive connections behind
        deadline = time.monotonic() + 15
        while connections_to(port) > baseline and time.monotonic() < deadline:
            time.sleep(0.25)
        assert connections_to(port) <= baseline, f"{connections_to(port) - baseline} of {kept} idle sockets still open"
    finally:
        assert gateway.stop() == 0
