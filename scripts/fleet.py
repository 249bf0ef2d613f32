"""A small production fleet on 127.0.0.1, and what its clients see when parts of it fail.

    .venv/bin/python scripts/fleet.py [--json FILE]

Starts what docs/deployment.md describes for several machines, each part a real process: the
Gemini emulator holding two keys, one Redis, two gateways (separate gunicorn process trees with
separate data folders, both using the pool of the two keys and the Redis) and nginx
load-balancing them (deploy/nginx.conf with both gateways in its upstream). Then it runs the
scenarios below, prints a table of what happened and exits 1 if any outcome is not the expected
one. tests/e2e/test_fleet.py runs it; it needs what the README's test command installs (the
openai package, nginx and redis-server).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import openai
import requests

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("fleet-key-one", "fleet-key-two")
CLIENT_KEYS = {"main": "sk-fleet-main", "limited": "sk-fleet-limited", "probe": "sk-fleet-probe"}
LIMITED_RPM, PROBE_RPM = 10, 3
WORKERS = 4  # two gateways of two worker processes
MODEL = "gemini-2.5-flash"
TOOL_MODEL = "gemini-3-pro-preview"  # refuses a tool-call history without its thought signature
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city.", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Part:
    """One running program of the fleet, in a process group of its own (a machine, for SIGKILL)."""
    name: str
    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def _wait(port: int, process: subprocess.Popen, name: str, path: str | None = "/healthz") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            if path is None:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            if requests.get(f"http://127.0.0.1:{port}{path}", timeout=2).ok:
                return
        except (OSError, requests.RequestException):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not start on port {port}")


def start(name: str, argv: list[str], workdir: Path, port: int, env: dict | None = None,
          path: str | None = "/healthz") -> Part:
    log = workdir / f"{name}.log"
    with log.open("ab") as output:
        process = subprocess.Popen(argv, cwd=ROOT, env=env or os.environ.copy(), stdout=output, stderr=output,
                                   start_new_session=True)
    try:
        _wait(port, process, name, path)
    except RuntimeError as exc:
        Part(name, process, port).kill()
        raise RuntimeError(f"{exc}:\n{log.read_text()[-3000:]}") from None
    return Part(name, process, port)


def start_redis(workdir: Path, port: int) -> Part:
    return start("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--dir", str(workdir)], workdir, port, path=None)


def start_gateway(name: str, workdir: Path, emulator: Part, redis_port: int) -> Part:
    data = workdir / name
    data.mkdir()
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "EMULATOR_", "GUNICORN_"))}
    env = {**clean, "GEMINI_API_KEYS": f"{KEYS[0]} one, {KEYS[1]} two", "GEMINI_BASE_URL": emulator.url,
           "REQUIRE_GEMINI_KEY": "true", "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "GATEWAY_API_KEYS": f"{CLIENT_KEYS['main']} main rpm=100000, "
                               f"{CLIENT_KEYS['limited']} limited rpm={LIMITED_RPM}, "
                               f"{CLIENT_KEYS['probe']} probe rpm={PROBE_RPM}",
           "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(WORKERS // 2), "GUNICORN_THREADS": "32",
           "ACCESS_LOG": "",
           "SIGNATURE_DB": str(data / "signatures.sqlite3"), "RESPONSES_DB": str(data / "responses.sqlite3")}
    return start(name, [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], workdir, port, env)


def start_nginx(workdir: Path, gateways: list[Part]) -> Part:
    port = free_port()
    servers = "".join(f"server 127.0.0.1:{g.port} max_fails=1 fail_timeout=10s;\n    " for g in gateways)
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = site.replace("server 127.0.0.1:8000;\n    ", servers).replace("listen 80;", f"listen 127.0.0.1:{port};")
    (workdir / "site.conf").write_text(site)
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = " ".join(f"{kind}_temp_path {workdir}/{kind};" for kind in kinds)
    (workdir / "nginx.conf").write_text(
        f"daemon off; pid {workdir}/nginx.pid; error_log {workdir}/nginx-error.log warn; worker_processes 1;\n"
        f"events {{ worker_connections 1024; }}\nhttp {{ access_log off; {temp} include {workdir}/site.conf; }}\n")
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin") or "nginx"
    return start("nginx", [binary, "-p", str(workdir), "-c", str(workdir / "nginx.conf")], workdir, port)


def post(url: str, body: dict, key: str = "main", timeout: float = 30) -> requests.Response:
    return requests.post(f"{url}/v1/chat/completions", json=body, timeout=timeout,
                         headers={"Authorization": f"Bearer {CLIENT_KEYS[key]}"})


def chat(url: str, text: str, key: str = "main", timeout: float = 30) -> requests.Response:
    return post(url, {"model": MODEL, "messages": [{"role": "user", "content": text}]}, key, timeout)


def emulator_stats(emulator: Part) -> dict:
    return requests.get(f"{emulator.url}/emulator/stats", timeout=5).json()


def row(scenario: str, expected: str, observed: str, ok: bool) -> dict:
    return {"scenario": scenario, "expected": expected, "observed": observed, "ok": ok}


def signature_across_instances(a: Part, b: Part, emulator: Part) -> dict:
    """Turn 1 on one gateway, turn 2 (the tool result, with no signature: clients drop it) on the other."""
    messages = [{"role": "user", "content": "Use get_weather for Paris."}]
    first = post(a.url, {"model": TOOL_MODEL, "messages": messages, "tools": [WEATHER]}).json()
    call = first["choices"][0]["message"]["tool_calls"][0]
    messages += [{"role": "assistant", "content": None, "tool_calls": [
                      {"id": call["id"], "type": "function", "function": call["function"]}]},
                 {"role": "tool", "tool_call_id": call["id"], "content": json.dumps({"temperature_c": 21})}]
    before = emulator_stats(emulator)
    second = post(b.url, {"model": TOOL_MODEL, "messages": messages, "tools": [WEATHER]})
    after = emulator_stats(emulator)
    verified = after["signatures_verified"] - before["signatures_verified"]
    dummy = after["signatures_dummy"] - before["signatures_dummy"]
    return row("Tool-call turns alternate between the instances", "turn 2 answered, its signature verified by Gemini",
               f"HTTP {second.status_code}; signatures verified {verified}, stand-ins {dummy}",
               second.ok and verified == 1 and dummy == 0)


def _quiet_minute() -> None:
    """Rate limits count per calendar minute: start a count well inside one."""
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)


def limits_across_instances(a: Part, b: Part) -> dict:
    _quiet_minute()
    sent = 3 * LIMITED_RPM
    statuses = Counter(chat((a, b)[i % 2].url, "hi", key="limited").status_code for i in range(sent))
    return row("Rate limit across both instances", f"{sent} requests at RPM {LIMITED_RPM}: {LIMITED_RPM} accepted",
               f"{statuses[200]} accepted, {statuses[429]} refused (429)",
               statuses[200] == LIMITED_RPM and statuses[429] == sent - LIMITED_RPM)


def key_rate_limited(front: Part, emulator: Part) -> dict:
    """Key one answers 429 (RetryInfo 60 s): each worker process meets that at most once before
    the shared cooldown keeps it off key one."""
    before = emulator_stats(emulator)["requests_by_key"]
    sent = 20
    statuses = Counter(chat(front.url, f"hi [emulator fault=429 retry=60 apikey={KEYS[0]}]").status_code
                       for _ in range(sent))
    after = emulator_stats(emulator)["requests_by_key"]
    calls = {key: after.get(key, 0) - before.get(key, 0) for key in KEYS}
    return row("One Gemini key rate-limited by Gemini",
               f"{sent} requests through nginx: all answered, by the other key",
               f"{statuses[200]} answered; calls with key one {calls[KEYS[0]]}, with key two {calls[KEYS[1]]}",
               statuses[200] == sent and 1 <= calls[KEYS[0]] <= WORKERS and calls[KEYS[1]] >= sent)


class Traffic:
    """Client threads sending requests through nginx until stopped; what each request ended as."""

    def __init__(self, url: str, threads: int = 6, streams: int = 0):
        self.url, self.outcomes, self._stop = url, Counter(), threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._plain) for _ in range(threads)]
        self._threads += [threading.Thread(target=self._streams) for _ in range(streams)]

    def _count(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1

    def _plain(self) -> None:
        while not self._stop.is_set():
            try:
                status = chat(self.url, "hi [emulator tokens=20]", timeout=20).status_code
                self._count(f"plain {status}")
            except requests.Timeout:
                self._count("plain hung")
            except requests.RequestException:
                self._count("plain connection error")

    def _streams(self) -> None:
        client = openai.OpenAI(base_url=f"{self.url}/v1", api_key=CLIENT_KEYS["main"], max_retries=0, timeout=20)
        while not self._stop.is_set():
            try:
                stream = client.chat.completions.create(
                    model=MODEL, stream=True, messages=[{"role": "user", "content": "hi [emulator tps=40 tokens=60]"}])
                text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
                self._count("stream completed" if text else "stream empty")
            except openai.APITimeoutError:
                self._count("stream hung")
            except openai.APIError as error:
                self._count(f"stream raised {type(error).__name__}")

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def server_errors(self) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome.startswith("plain 5"))

    def text(self) -> str:
        return ", ".join(f"{outcome}: {n}" for outcome, n in sorted(self.outcomes.items()))


def redis_outage(front: Part, a: Part, b: Part, redis: Part, workdir: Path) -> tuple[dict, Part]:
    with Traffic(front.url) as traffic:
        time.sleep(1.5)
        redis.stop()
        time.sleep(2.5)
        redis = start_redis(workdir, redis.port)
        time.sleep(2.0)
    time.sleep(1.5)  # each worker tries Redis again at most once a second
    _quiet_minute()
    probe = Counter(chat((a, b)[i % 2].url, "hi", key="probe").status_code for i in range(PROBE_RPM + 3))
    outage = row("Redis stopped for 2.5 s and restarted, mid-traffic",
                 "no 5xx (rate limits fail open), counting shared again afterwards without a restart",
                 f"{traffic.text()}; afterwards {probe[200]} of {PROBE_RPM + 3} accepted at RPM {PROBE_RPM}",
                 traffic.server_errors() == 0 and "plain hung" not in traffic.outcomes and probe[200] == PROBE_RPM)
    return outage, redis


def instance_killed(front: Part, victim: Part) -> dict:
    with Traffic(front.url, threads=6, streams=4) as traffic:
        time.sleep(2.0)
        victim.kill()
        time.sleep(3.0)
    after = Counter(chat(front.url, "hi").status_code for _ in range(10))
    hung = traffic.outcomes["plain hung"] + traffic.outcomes["stream hung"]
    return row("One instance killed (SIGKILL of its process tree) mid-traffic",
               "no request hangs; requests in flight on it fail with an error the client sees; new ones all answered",
               f"{traffic.text()}; afterwards {after[200]} of 10 answered",
               hung == 0 and after[200] == 10 and traffic.outcomes["stream completed"] > 0)


def table(rows: list[dict]) -> str:
    lines = ["| Scenario | Expected | Observed | Result |", "|---|---|---|---|"]
    lines += [f"| {r['scenario']} | {r['expected']} | {r['observed']} | {'as expected' if r['ok'] else '**NOT**'} |"
              for r in rows]
    return "\n".join(lines)


def run(workdir: Path) -> list[dict]:
    parts: list[Part] = []
    try:
        emulator_port = free_port()
        emulator = start("emulator", [sys.executable, "-m", "gemini_emulator", "--port", str(emulator_port),
                                      "--api-key", KEYS[0], "--api-key", KEYS[1]], workdir, emulator_port,
                         path="/emulator/stats")
        parts.append(emulator)
        redis = start_redis(workdir, free_port())
        parts.append(redis)
        a = start_gateway("gateway-a", workdir, emulator, redis.port)
        parts.append(a)
        b = start_gateway("gateway-b", workdir, emulator, redis.port)
        parts.append(b)
        front = start_nginx(workdir, [a, b])
        parts.append(front)
        rows = [signature_across_instances(a, b, emulator), limits_across_instances(a, b),
                key_rate_limited(front, emulator)]
        outage, parts[1] = redis_outage(front, a, b, redis, workdir)
        rows += [outage, instance_killed(front, a)]
        return rows
    finally:
        for part in reversed(parts):
            part.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the outcomes to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gemini-proxy-fleet-") as folder:
        rows = run(Path(folder))
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
