"""Start and stop everything the benchmark measures, each as its own processes on 127.0.0.1.

- the emulator (`python -m gemini_emulator`), at a given pace;
- the gateway: gunicorn with the shipped gunicorn.conf.py and wsgi:app, pointed at the emulator;
- the bare stack and the tutorial's design: small Flask apps (bench/apps/) under the very same
  gunicorn.conf.py, so workers, threads and timeouts are the gateway's;
- the LiteLLM proxy, from its own virtualenv (bench/.venv-litellm, made on demand from
  bench/requirements-litellm.txt), with as many workers as the gateway.

Every process is started in its own session (process group) and stopped by the harness:
SIGTERM, then SIGKILL of that group if it does not go in time. A `Monitor` samples the CPU
time and the resident memory of a target's whole process tree (master and workers).
"""
from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
LITELLM_VENV = BENCH / ".venv-litellm"
LITELLM_REQUIREMENTS = BENCH / "requirements-litellm.txt"
LITELLM_KEY = "sk-bench-4f3c2a1b9e8d7c6b5a4f3e2d1c0b9a8f"
PYTHON = sys.executable


class StartError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def raise_fd_limit() -> int:
    """Open-file limit of this process and its children raised to the hard limit (1000 streams
    need 1000 client sockets, and as many in the gateway and the emulator)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass
class Service:
    """One started program: its process (the root of its tree), URL and log file."""
    name: str
    process: subprocess.Popen
    url: str
    log: Path
    api_key: str = "bench"

    def tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)
        with contextlib.suppress(ProcessLookupError):  # what is left of its group (workers, an emulator)
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _spawn(name: str, argv: list[str], env: dict[str, str], workdir: Path,
           cwd: Path = ROOT) -> tuple[subprocess.Popen, Path]:
    log = workdir / f"{name}.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    return process, log


def _wait_ready(service: Service, path: str, timeout: float) -> Service:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(service.url + path, timeout=2):
                return service
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    service.stop()
    raise StartError(f"{service.name} did not start within {timeout:.0f} s:\n{service.log_tail()}")


def start_emulator(workdir: Path, name: str, ttft: float, tokens_per_second: float, chunk_tokens: int) -> Service:
    port = free_port()
    process, log = _spawn(name, [PYTHON, "-m", "gemini_emulator", "--port", str(port), "--ttft", str(ttft),
                                 "--tokens-per-second", str(tokens_per_second), "--chunk-tokens", str(chunk_tokens)],
                          dict(os.environ), workdir)
    return _wait_ready(Service(name, process, f"http://127.0.0.1:{port}", log), "/emulator/stats", 30)


def _gunicorn_env(port: int, upstream: str, workdir: Path, overrides: dict[str, str]) -> dict[str, str]:
    """The environment of a gunicorn child: the shipped defaults (no GUNICORN_* or WEB_CONCURRENCY
    of the caller leaks in), pointed at the benchmark's emulator."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("GEMINI_", "EMULATOR_", "GUNICORN_", "UPSTREAM_"))
            and k not in ("WEB_CONCURRENCY", "BIND")}
    return {**base, "GEMINI_API_KEY": "", "GEMINI_BASE_URL": upstream, "BIND": f"127.0.0.1:{port}",
            "SIGNATURE_DB": str(workdir / "signatures.sqlite3"), "RESPONSES_DB": str(workdir / "responses.sqlite3"),
            **overrides}


def start_gunicorn(workdir: Path, name: str, app: str, upstream: str, overrides: dict[str, str] | None = None,
                   pythonpath: Path | None = None) -> Service:
    """gunicorn -c gunicorn.conf.py APP, as the README runs the gateway."""
    port = free_port()
    argv = [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
    if pythonpath:
        argv += ["--pythonpath", str(pythonpath)]
    process, log = _spawn(name, [*argv, app], _gunicorn_env(port, upstream, workdir, overrides or {}), workdir)
    return _wait_ready(Service(name, process, f"http://127.0.0.1:{port}", log), "/healthz", 60)


def start_gateway(workdir: Path, upstream: str, overrides: dict[str, str] | None = None,
                  name: str = "gateway") -> Service:
    return start_gunicorn(workdir, name, "wsgi:app", upstream, overrides)


def start_bare(workdir: Path, upstream: str) -> Service:
    return start_gunicorn(workdir, "bare", "bare:app", upstream, pythonpath=BENCH / "apps")


def start_tutorial(workdir: Path, upstream: str) -> Service:
    return start_gunicorn(workdir, "tutorial", "tutorial:app", upstream, pythonpath=BENCH / "apps")


def litellm_version() -> str | None:
    python = LITELLM_VENV / "bin" / "python"
    if not python.exists():
        return None
    result = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
                            capture_output=True, text=True, check=False)
    return result.stdout.strip() or None


def ensure_litellm(timeout: float) -> str | None:
    """The LiteLLM virtualenv, created (pinned litellm[proxy]) if missing; its version, or None
    when it could not be made within `timeout` seconds."""
    if version := litellm_version():
        return version
    try:
        subprocess.run([PYTHON, "-m", "venv", "--clear", str(LITELLM_VENV)], check=True, timeout=120)
        subprocess.run([str(LITELLM_VENV / "bin" / "pip"), "install", "--quiet", "-r", str(LITELLM_REQUIREMENTS)],
                       check=True, timeout=timeout)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        print(f"LiteLLM could not be installed: {error}", file=sys.stderr)
        return None
    return litellm_version()


def start_litellm(workdir: Path, upstream: str, workers: int) -> Service:
    port = free_port()
    config = workdir / "litellm.yaml"
    config.write_text(f"""model_list:
  - model_name: gemini-2.5-flash
    litellm_params:
      model: gemini/gemini-2.5-flash
      api_base: {upstream}/v1beta
      api_key: bench
general_settings:
  master_key: {LITELLM_KEY}
litellm_settings:
  telemetry: false
""")
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    argv = [str(LITELLM_VENV / "bin" / "litellm"), "--config", str(config), "--host", "127.0.0.1",
            "--port", str(port), "--num_workers", str(workers)]
    process, log = _spawn("litellm", argv, env, workdir, cwd=workdir)
    service = Service("litellm", process, f"http://127.0.0.1:{port}", log, api_key=LITELLM_KEY)
    return _wait_ready(service, "/health/liveliness", 180)


@dataclass
class Monitor:
    """CPU seconds and peak resident memory of a service's process tree during a run; RSS is
    sampled every `interval` seconds as the sum over the tree, whose processes are listed again
    every `walk_every` seconds: listing them reads every process of the machine (2-3 ms, in the
    load client's process, whose GIL it holds meanwhile) while their RSS takes tens of us."""
    service: Service | None
    interval: float = 0.1
    walk_every: float = 1.0
    peak_rss: int = 0
    start_rss: int = 0  # the tree's RSS as the run started: what the peak adds to it is the run's own
    cpu_seconds: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _cpu_start: dict[int, float] = field(default_factory=dict)

    @staticmethod
    def _cpu(processes: list[psutil.Process]) -> dict[int, float]:
        times = {}
        for process in processes:
            try:
                cpu = process.cpu_times()
                times[process.pid] = cpu.user + cpu.system
            except psutil.NoSuchProcess:
                pass
        return times

    @staticmethod
    def _rss(processes: list[psutil.Process]) -> int:
        total = 0
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += process.memory_info().rss
        return total

    def _sample(self, processes: list[psutil.Process]) -> None:
        walked = time.monotonic()
        while not self._stop.wait(self.interval):
            if time.monotonic() - walked >= self.walk_every:
                processes, walked = self.service.tree(), time.monotonic()
            self.peak_rss = max(self.peak_rss, self._rss(processes))

    def __enter__(self) -> Monitor:
        if self.service is not None:
            processes = self.service.tree()
            self._cpu_start = self._cpu(processes)
            self.start_rss = self.peak_rss = self._rss(processes)
            self._thread = threading.Thread(target=self._sample, args=(processes,), daemon=True)
            self._thread.start()
        return self

    def settle(self, window: float = 0.1, busy: float = 0.05, limit: float = 3.0) -> None:
        """Waits, at most `limit` seconds, until the tree uses less than `busy` of a CPU over
        `window`: what a target does after its last answer (a flush, a batch written later) is
        still its own, and does not spill into the next target's turn."""
        if self.service is None:
            return
        deadline = time.monotonic() + limit
        used = sum(self._cpu(self.service.tree()).values())
        while time.monotonic() < deadline:
            time.sleep(window)
            now = sum(self._cpu(self.service.tree()).values())
            if now - used < busy * window:
                return
            used = now

    def __exit__(self, *exc_info: object) -> None:
        if self.service is None:
            return
        self._stop.set()
        self._thread.join()
        end = self._cpu(self.service.tree())
        self.cpu_seconds = sum(seconds - self._cpu_start.get(pid, 0.0) for pid, seconds in end.items())
