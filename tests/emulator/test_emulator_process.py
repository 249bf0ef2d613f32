"""The emulator as a child process (what gunicorn.conf.py starts): it must be the one answering
on its port, never another emulator that already holds it."""
import subprocess
import sys
import time

import pytest
import requests

from gemini_emulator.app import PID_HEADER
from gemini_emulator.process import (
    EmulatorPortTaken,
    EmulatorStartError,
    start_process,
    stop_process,
    wait_until_serving,
)
from tests.support.processes import free_port


def port_of(server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def test_a_taken_port_is_refused_at_once_naming_it(server):
    started = time.monotonic()
    with pytest.raises(EmulatorPortTaken, match=f"127.0.0.1:{port_of(server)} is already in use") as taken:
        start_process(port_of(server))
    assert taken.value.port == port_of(server)
    assert time.monotonic() - started < 1


def test_another_emulator_on_the_port_does_not_count_as_the_child_serving(server):
    """Two gateways started at once both find the port free; the child that loses it exits, and
    meanwhile the winner answers on the port: that answer must not pass for the loser's."""
    loser = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1)"])
    try:
        with pytest.raises(EmulatorStartError, match="exited with status 0"):
            wait_until_serving(server.url, loser, timeout=10)
    finally:
        loser.wait()


def test_the_child_serves_and_names_itself():
    port = free_port()
    process = start_process(port)
    try:
        answer = requests.get(f"http://127.0.0.1:{port}/emulator/stats", timeout=5)
        assert answer.headers[PID_HEADER] == str(process.pid)
    finally:
        stop_process(process)
