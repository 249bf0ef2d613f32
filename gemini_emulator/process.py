"""Run the emulator as a child process (what gunicorn.conf.py and the e2e tests do)."""
from __future__ import annotations

import errno
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from gemini_emulator.app import PID_HEADER


class EmulatorStartError(RuntimeError):
    pass


class EmulatorPortTaken(EmulatorStartError):
    def __init__(self, host: str, port: int):
        super().__init__(f"{host}:{port} is already in use (by another gateway's emulator, or another program)")
        self.host, self.port = host, port


def port_taken(host: str, port: int) -> bool:
    """Whether something listens on host:port, asked the way the emulator's server binds
    (SO_REUSEADDR: a port that a stopped server left in TIME_WAIT is free to it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise EmulatorStartError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return False


def wait_until_serving(url: str, process: subprocess.Popen | None = None, timeout: float = 20.0) -> None:
    """Return once the emulator at `url` answers; with `process`, once that process answers
    there: another emulator on the same port does not count."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise EmulatorStartError(f"the emulator exited with status {process.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(f"{url}/emulator/stats", timeout=1) as answer:
                if process is None or answer.headers.get(PID_HEADER) == str(process.pid):
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    raise EmulatorStartError(f"the emulator did not answer at {url} within {timeout:.0f} s")


def start_process(port: int, *, host: str = "127.0.0.1", ttft: float = 0.0, tokens_per_second: float = 0.0,
                  extra_args: tuple[str, ...] = ()) -> subprocess.Popen:
    """Start `python -m gemini_emulator` and return once it serves. EmulatorPortTaken when
    something else listens on the port (or takes it first)."""
    if port_taken(host, port):
        raise EmulatorPortTaken(host, port)
    process = subprocess.Popen([
        sys.executable, "-m", "gemini_emulator", "--host", host, "--port", str(port),
        "--ttft", str(ttft), "--tokens-per-second", str(tokens_per_second), *extra_args,
    ])
    try:
        wait_until_serving(f"http://{host}:{port}", process)
    except EmulatorStartError:
        process.kill()
        process.wait()
        if port_taken(host, port):  # another process bound it between the check and the child
            raise EmulatorPortTaken(host, port) from None
        raise
    return process


def stop_process(process: subprocess.Popen, timeout: float = 5.0) -> None:
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
