"""Starting real gunicorn (gunicorn.conf.py): settings checked before anything listens, the
production switch, one emulator per key-less gateway, and .env.example copied to .env."""
import json
import shutil
import socket
import subprocess
import sys

import pytest
import requests

from tests.support.processes import ROOT, free_port, gunicorn_env, start_gunicorn

pytestmark = pytest.mark.e2e

CHAT = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}


def refused(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def failed_start(port: int, **env: str | None) -> subprocess.CompletedProcess:
    """gunicorn that is expected to stop by itself (not to serve): its exit status and stderr."""
    return subprocess.run([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                          env=gunicorn_env(port, **env), capture_output=True, text=True, timeout=60, check=False)


def test_require_gemini_key_refuses_to_start_without_one(tmp_path):
    port, emulator_port = free_port(), free_port()
    result = failed_start(port, REQUIRE_GEMINI_KEY="true", EMULATOR_PORT=str(emulator_port), TMPDIR=str(tmp_path))
    assert result.returncode == 1
    assert ("gemini-proxy cannot start: REQUIRE_GEMINI_KEY=true, but GEMINI_API_KEY is not set (nor GEMINI_API_KEYS, "
            "GEMINI_API_KEYS_FILE or GEMINI_BASE_URL)"
            in result.stderr)
    assert "Traceback" not in result.stderr
    assert refused(port)
    assert refused(emulator_port)
    assert list(tmp_path.iterdir()) == []  # no metrics folder left behind


def test_require_gemini_key_starts_with_an_upstream_and_readyz_names_it(emulator_process):
    server = start_gunicorn(GEMINI_BASE_URL=emulator_process, REQUIRE_GEMINI_KEY="true", UPSTREAM_RETRIES="0")
    try:
        ready = requests.get(f"{server.url}/readyz", timeout=30)
        assert (ready.status_code, ready.json()["upstream"]) == (200, emulator_process.removeprefix("http://"))
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize(("env", "message"), [
    ({"WEB_CONCURRENCY": "0"}, "gemini-proxy cannot start: WEB_CONCURRENCY='0': must be at least 1"),
    ({"UPSTREAM_TIMEOUT": "soon"}, "gemini-proxy cannot start: UPSTREAM_TIMEOUT='soon'"),
    ({"GUNICORN_TIMEOUT": "-1"}, "gemini-proxy cannot start: GUNICORN_TIMEOUT='-1': must be 0 or more"),
])
def test_a_bad_value_stops_the_start_with_one_line_naming_it(emulator_process, env, message):
    port = free_port()
    result = failed_start(port, GEMINI_BASE_URL=emulator_process, **env)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert refused(port)


def test_a_second_keyless_gateway_on_a_taken_emulator_port_refuses_to_start(tmp_path):
    emulator_port = free_port()
    first = start_gunicorn(EMULATOR_PORT=str(emulator_port), EMULATOR_TTFT="0")
    try:
        port = free_port()
        second = failed_start(port, EMULATOR_PORT=str(emulator_port), TMPDIR=str(tmp_path))
        assert second.returncode == 1
        assert f"EMULATOR_PORT={emulator_port}: the built-in Gemini emulator cannot start" in second.stderr
        assert f"127.0.0.1:{emulator_port} is already in use" in second.stderr
        assert refused(port)
        assert list(tmp_path.iterdir()) == []  # its metrics folder was removed
        assert requests.post(f"{first.url}/v1/chat/completions", json=CHAT, timeout=30).status_code == 200
        assert requests.get(f"{first.url}/readyz", timeout=30).json()["upstream"] == "emulator"
        models = requests.get(f"{first.url}/v1/models", timeout=30).json()["data"]
        assert {m["owned_by"] for m in models} == {"gemini-emulator", "gemini-proxy"}
    finally:
        assert first.stop() == 0


def chat_requests_counted(metrics: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith("gemini_proxy_requests_total{") and 'route="/v1/chat/completions"' in line)


def test_env_example_copied_to_dotenv_still_adds_up_every_worker(emulator_process, tmp_path):
    """.env.example sets PROMETHEUS_MULTIPROC_DIR= (empty): gunicorn must still make its metrics
    folder, else each worker writes its metrics into the working directory and /metrics reports
    only the numbers of the worker that answers the scrape."""
    site, temp = tmp_path / "site", tmp_path / "tmp"
    site.mkdir()
    temp.mkdir()
    for name in ("gunicorn.conf.py", "wsgi.py"):
        shutil.copy(ROOT / name, site / name)
    shutil.copy(ROOT / ".env.example", site / ".env")
    # The variables gunicorn_env sets (BIND, WEB_CONCURRENCY, ...) win over .env; this one must come from it.
    server = start_gunicorn(cwd=site, PYTHONPATH=str(ROOT), TMPDIR=str(temp), PROMETHEUS_MULTIPROC_DIR=None,
                            GEMINI_BASE_URL=emulator_process, UPSTREAM_RETRIES="0", WEB_CONCURRENCY="4")
    try:
        for _ in range(12):  # a new connection each: they land on several workers
            assert requests.post(f"{server.url}/v1/chat/completions", json=CHAT, timeout=30).status_code == 200
        scrapes = [chat_requests_counted(requests.get(f"{server.url}/metrics", timeout=30).text) for _ in range(4)]
        assert scrapes == [12.0] * 4
        assert [p.name.startswith("gemini-proxy-metrics-") for p in temp.iterdir()] == [True]
        assert list(site.glob("*.db")) == []
    finally:
        assert server.stop() == 0
    assert list(temp.iterdir()) == []


def test_gunicorn_conf_takes_its_values_from_the_settings_and_imports_no_metrics_client():
    """The arbiter loads gunicorn.conf.py before it sets PROMETHEUS_MULTIPROC_DIR, and
    prometheus_client picks its mode when it is imported: the file must not import it."""
    names = ("bind", "workers", "threads", "timeout", "loglevel", "control_socket_disable")
    script = (f"import json, runpy, sys; conf = runpy.run_path('gunicorn.conf.py'); print(json.dumps({{"
              f"'values': [conf[k] for k in {names}],"
              "'loaded': [m for m in ('prometheus_client', 'flask', 'google.genai') if m in sys.modules]}))")
    port = free_port()
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env=gunicorn_env(port, GUNICORN_TIMEOUT="7", LOG_LEVEL="WARNING"), check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"values": [[f"127.0.0.1:{port}"], 2, 16, 7, "warning", True], "loaded": []}
