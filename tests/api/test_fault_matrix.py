"""The fault matrix of docs/faults.md, row by row: each emulator fault, streamed and not, through
the real google-genai SDK and the emulator over HTTP, gives the documented status, error body
or event, after the documented number of calls to Gemini. The table lives only in the docs."""
import time

import pytest
import requests

from gemini_proxy.app import create_app
from tests.support import assert_fault_outcome, fault_matrix, gateway_settings

TIMEOUT = 1.5  # UPSTREAM_TIMEOUT of these tests
CHUNK_TIMEOUT = 0.5  # UPSTREAM_CHUNK_TIMEOUT
CASES = fault_matrix()


def matrix_settings(emulator):
    """The shipped retry count, with short waits so that every case is quick."""
    return gateway_settings(emulator, upstream_retries=2, upstream_retry_delay=0.01, upstream_timeout=TIMEOUT,
                            upstream_chunk_timeout=CHUNK_TIMEOUT, upstream_connect_timeout=1.0)


@pytest.fixture(scope="module")
def matrix_client(emulator):
    return create_app(matrix_settings(emulator)).test_client()


def upstream_calls(emulator) -> int:
    return requests.get(f"{emulator.url}/emulator/stats", timeout=5).json()["requests"]


def test_the_matrix_covers_every_emulator_fault_streamed_and_not():
    from gemini_emulator.directives import FAULTS
    covered = {(case.directive.split("fault=")[1].split()[0].rstrip("]"), case.stream) for case in CASES
               if "fault=" in case.directive}  # the rest are finish= rows (honest endings)
    assert {(fault, stream) for fault in FAULTS for stream in (False, True)} <= covered


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_fault_matrix(matrix_client, emulator, case):
    prompt = f"{case.directive} Tell me something. (fault matrix: {case.id})"  # times=N counts per prompt
    before = upstream_calls(emulator)
    started = time.monotonic()
    response = matrix_client.post("/v1/chat/completions", json={
        "model": "gemini-2.5-flash", "messages": [{"role": "user", "content": prompt}], "stream": case.stream})
    raw = response.get_data()
    elapsed = time.monotonic() - started
    assert_fault_outcome(case, response.status_code, response.headers, raw)
    assert upstream_calls(emulator) - before == case.calls
    if "after `UPSTREAM_TIMEOUT`" in case.also:  # one deadline, not one per attempt
        assert TIMEOUT <= elapsed < 2 * TIMEOUT
    if "after `UPSTREAM_CHUNK_TIMEOUT`" in case.also:
        assert CHUNK_TIMEOUT <= elapsed < TIMEOUT
