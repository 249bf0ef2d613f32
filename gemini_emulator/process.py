"""Run the emulator as a child process (what gunicorn.conf.py and the e2e tests do)."""
from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request


class EmulatorStartError(RuntimeError):
    pass


def wait_until_serving(url: str, process: subprocess.Popen | None = None, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise EmulatorStartError(f"the emulator exited with status {process.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(f"{url}/emulator/stats", timeout=1):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    raise EmulatorStartError(f"the emulator did not answer at {url} within {timeout:.0f} s")


def start_process(port: int, *, host: str = "127.0.0.1", ttft: float = 0.0, tokens_per_second: float = 0.0,
                  extra_args: tuple[str, ...] = ()) -> subprocess.Popen:
    """Start `python -m gemini_emulator` and return once it serves."""
    process = subprocess.Popen([
        sys.executable, "-m", "gemini_emulator", "--host", host, "--port", str(port),
        "--ttft", str(ttft), "--tokens-per-second", str(tokens_per_second), *extra_args,
    ])
    try:
        wait_until_serving(f"http://{host}:{port}", process)
    except EmulatorStartError:
        process.kill()
        raise
    return process


def stop_process(process: subprocess.Popen, timeout: float = 5.0) -> None:
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
