"""Real processes on loopback for the tests: gunicorn with the project's own gunicorn.conf.py,
nginx with deploy/nginx.conf, redis-server; free ports and waiting for them to serve."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.support import ROOT

# One file for every gunicorn of the run, as on a machine whose workers share it.
SIGNATURE_DB = Path(tempfile.gettempdir()) / f"gemini-proxy-tests-{os.getpid()}" / "signatures.sqlite3"
RESPONSES_DB = SIGNATURE_DB.parent / "responses.sqlite3"


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
              "GUNICORN_THREADS": "16", "ACCESS_LOG": "", "SIGNATURE_DB": str(SIGNATURE_DB),
              "RESPONSES_DB": str(RESPONSES_DB), **env}
    return {k: v for k, v in merged.items() if v is not None}


@dataclass
class Gunicorn:
    process: subprocess.Popen
    url: str

    def stop(self, sig=signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)


def start_gunicorn(stderr=None, cwd: Path = ROOT, **env: str | None) -> Gunicorn:
    """gunicorn with `cwd`'s gunicorn.conf.py and wsgi.py (the project's own by default)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                               cwd=cwd, env=gunicorn_env(port, **env), stderr=stderr)
    server = Gunicorn(process, f"http://127.0.0.1:{port}")
    try:
        wait_for(f"{server.url}/healthz", process)
    except BaseException:
        server.stop(signal.SIGKILL)
        raise
    return server


def installed(binary: str, package: str) -> str:
    """The path of a system binary, or a skip that says how to get it (in CI a skip fails)."""
    path = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/local/sbin")
    if not path:
        pytest.skip(f"{binary} is not installed: `apt-get install {package}` (.ci/run does)")
    return path


def nginx_config(upstream: str, port: int, workdir: Path, site_file: Path = ROOT / "deploy" / "nginx.conf",
                 **replace: str) -> Path:
    """deploy/nginx.conf as shipped (or another site file), pointed at the test gunicorn and port,
    inside a minimal main configuration that keeps every file under `workdir`."""
    site = site_file.read_text()
    site = site.replace("server 127.0.0.1:8000;", f"server {upstream};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    for old, new in replace.items():
        assert old in site, old
        site = site.replace(old, new)
    (workdir / "site.conf").write_text(site)
    main = workdir / "nginx.conf"
    main.write_text(f"""
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
worker_processes 1;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    include {workdir}/site.conf;
}}
""")
    return main


@contextmanager
def running_nginx(upstream: str, workdir: Path, **replace: str):
    binary = installed("nginx", "nginx")
    port = free_port()
    config = nginx_config(upstream, port, workdir, **replace)
    process = subprocess.Popen([binary, "-p", str(workdir), "-c", str(config)])
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def start_redis(port: int, workdir: Path) -> subprocess.Popen:
    binary = installed("redis-server", "redis-server")
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(workdir)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    return process
