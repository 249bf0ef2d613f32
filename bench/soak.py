"""The soak: `python bench/soak.py --seconds N [--streams 300] [--fault-rate 0.05] [--out DIR] [--docs FILE]`.

Many concurrent streams for N seconds against the gateway as it is deployed (gunicorn with the
shipped gunicorn.conf.py and its defaults, in front of an emulator process), with a share of
the requests carrying an injected fault (soak_results.FAULTS: Gemini's errors before and after
the first byte, dropped connections, a blocked prompt, clients that leave mid-stream), then an
idle period. It answers:

- lost: did every request get an answer the client can use? A complete stream ending in
  `data: [DONE]`, or an error it can read: an error status with OpenAI's envelope, or an error
  event followed by [DONE]. Anything else (a reset, a stream cut short) is lost;
- hung: did any request outlive its deadline?
- resources: are the open file descriptors (workers, arbiter, emulator) and the workers' memory
  back within a stated bound after the idle period? Measured at baseline (after a warm-up),
  peak (sampled through the run) and after the idle period.

It writes DIR/soak-<date>-<N>s.json (every number, the bounds and the verdicts) and .md, and with
--docs rewrites the generated section of that file (docs/reliability.md) from the same results.
Exit status 1 when a check failed. tests/e2e/test_soak.py runs it for 60 s in CI.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import itertools
import json
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp
import psutil

import soak_results
import targets
from soak_results import FAULTS, NONE, Reading

RESULTS = targets.BENCH / "results"
MODEL = "gemini-2.5-flash"


@dataclass(frozen=True)
class Plan:
    seconds: float
    streams: int = 300
    fault_rate: float = 0.05
    # After the load: gunicorn closes idle client connections after 5 s (keep-alive), the
    # upstream pool its idle connections after 5 s (swept every second): 10 s leaves a margin.
    idle: float = 10.0
    deadline: float = 30.0  # a request still open this long after it was sent is hung
    ramp: float = 3.0  # the clients start spread over this many seconds
    tokens: int = 100  # per answer: 0.2 s to the first token, then 50 tokens/s: a 2.2 s stream
    ttft: float = 0.2
    tokens_per_second: float = 50.0
    chunk_tokens: int = 10
    sample_every: float = 0.5  # longer runs sample less often (at most ~600 samples)
    seed: int = 11


def prompt(number: int, kind: str, plan: Plan) -> str:
    directive = FAULTS.get(kind) or ""
    return f"Soak request {number}. [emulator tokens={plan.tokens} thoughts=0 {directive}]"


class Client:
    """The load: `plan.streams` asyncio workers sending streamed chat requests back to back."""

    def __init__(self, url: str, plan: Plan):
        self.url, self.plan = url, plan
        self.in_flight = self.max_in_flight = 0
        self.counts: dict[str, dict[str, int]] = {}
        self.seconds: dict[str, list[float]] = {}
        self._numbers = itertools.count(1)
        self._rng = random.Random(plan.seed)
        self._kinds = itertools.cycle(FAULTS)

    def next_kind(self) -> str:
        return next(self._kinds) if self._rng.random() < self.plan.fault_rate else NONE

    async def one(self, session: aiohttp.ClientSession, kind: str) -> str:
        number = next(self._numbers)
        body = {"model": MODEL, "stream": True,
                "messages": [{"role": "user", "content": prompt(number, kind, self.plan)}]}
        reading = Reading()
        began = time.monotonic()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            async with asyncio.timeout(self.plan.deadline):
                await self._read(session, body, reading, leave=kind == "client-abort")
        except TimeoutError:
            reading.hung = True
        except (aiohttp.ClientError, OSError) as exc:
            reading.failure = type(exc).__name__
        finally:
            self.in_flight -= 1
        name = soak_results.outcome(reading)
        by_kind = self.counts.setdefault(kind, {})
        by_kind[name] = by_kind.get(name, 0) + 1
        self.seconds.setdefault(kind, []).append(time.monotonic() - began)
        return name

    def latency(self) -> dict[str, dict[str, float]]:
        quantiles = (("p50", 50), ("p99", 99), ("max", 100))
        return {kind: {q: round(soak_results.percentile(values, n), 2) for q, n in quantiles}
                for kind, values in self.seconds.items()}

    @staticmethod
    async def _read(session: aiohttp.ClientSession, body: dict, reading: Reading, leave: bool) -> None:
        headers = {"Authorization": "Bearer soak"}
        async with session.post("/v1/chat/completions", json=body, headers=headers) as response:
            reading.status = response.status
            if response.status != 200:
                try:
                    reading.envelope = soak_results.is_envelope(await response.json(content_type=None))
                except ValueError:
                    reading.envelope = False
                return
            # Events are not parsed as JSON: the client shares the 2 CPUs with what it measures.
            async for line in response.content:
                if not line.startswith(b"data: "):
                    continue
                payload = line[6:].rstrip()
                if reading.done:
                    reading.after_done = True
                elif payload == b"[DONE]":
                    reading.done = True
                elif payload.startswith(b'{"error"'):
                    reading.error_event = True
                else:
                    reading.events += 1
                    reading.finished = reading.finished or b'"finish_reason":"' in payload
                if leave:
                    reading.left = True
                    response.close()  # the connection is closed, not returned to the pool
                    return

    async def run(self, seconds: float, concurrency: int, ramp: float) -> float:
        """Sends for `seconds`, then waits for what is in flight (each bounded by its deadline)."""
        began = time.monotonic()
        stop_at = began + seconds
        connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None)
        no_timeout = aiohttp.ClientTimeout(total=None)
        async with aiohttp.ClientSession(self.url, connector=connector, timeout=no_timeout) as session:
            async def worker(delay: float) -> None:
                await asyncio.sleep(delay)
                while time.monotonic() < stop_at:
                    await self.one(session, self.next_kind())

            await asyncio.gather(*(worker(ramp * i / concurrency) for i in range(concurrency)))
        return time.monotonic() - began

    async def run_each(self, kinds: list[str]) -> None:
        """One request of each kind given, all at once."""
        async with aiohttp.ClientSession(self.url, connector=aiohttp.TCPConnector(limit=0)) as session:
            await asyncio.gather(*(self.one(session, kind) for kind in kinds))


@dataclass
class Processes:
    """The measured processes: gunicorn's arbiter, its workers, the emulator."""
    arbiter: psutil.Process
    emulator: psutil.Process
    emulator_port: int
    gateway_port: int

    def workers(self) -> list[psutil.Process]:
        try:
            return sorted(self.arbiter.children(), key=lambda p: p.pid)
        except psutil.NoSuchProcess:
            return []

    @staticmethod
    def usage(process: psutil.Process) -> dict:
        with process.oneshot():
            return {"pid": process.pid, "rss": process.memory_info().rss, "fds": process.num_fds(),
                    "threads": process.num_threads()}

    def detail(self, process: psutil.Process, port: int) -> dict:
        """usage() plus its TCP connections (not listening ones): those its clients opened to
        `port`, the one it serves, and those it opened to the emulator."""
        found = self.usage(process)
        connections = [c for c in process.net_connections(kind="tcp") if c.status != psutil.CONN_LISTEN]
        found["connections"] = len(connections)
        found["from_clients"] = sum(1 for c in connections if c.laddr.port == port)
        found["to_emulator"] = sum(1 for c in connections if c.raddr and c.raddr.port == self.emulator_port)
        return found

    def snapshot(self) -> dict:
        return {"arbiter": self.detail(self.arbiter, self.gateway_port),
                "workers": [self.detail(w, self.gateway_port) for w in self.workers()],
                "emulator": self.detail(self.emulator, self.emulator_port)}


@dataclass
class Sampler:
    """Resource use every `every` seconds while the load runs and after it (a background thread)."""
    processes: Processes
    client: Client
    every: float
    samples: list[dict] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _began: float = 0.0

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                workers = [self.processes.usage(w) for w in self.processes.workers()]
                arbiter = self.processes.usage(self.processes.arbiter)
                emulator = self.processes.usage(self.processes.emulator)
            except psutil.NoSuchProcess:
                workers, arbiter, emulator = [], {}, {}
            self.samples.append({
                "t": round(time.monotonic() - self._began, 2), "in_flight": self.client.in_flight,
                "workers_rss": sum(w["rss"] for w in workers),
                "worker_rss_max": max((w["rss"] for w in workers), default=0),
                "workers_fds": sum(w["fds"] for w in workers),
                "worker_fds_max": max((w["fds"] for w in workers), default=0),
                "workers_threads": sum(w["threads"] for w in workers), "worker_pids": [w["pid"] for w in workers],
                "arbiter_fds": arbiter.get("fds", 0), "emulator_fds": emulator.get("fds", 0),
                "emulator_rss": emulator.get("rss", 0), "emulator_threads": emulator.get("threads", 0)})
            self._stop.wait(self.every)

    def start(self) -> None:
        self._began = time.monotonic()
        self._thread = threading.Thread(target=self._sample, name="soak-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Phases:
    """Seconds each phase of the run took."""
    seconds: dict[str, float] = field(default_factory=dict)
    _last: float = field(default_factory=time.monotonic)

    def end(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = round(now - self._last, 1)
        self._last = now


def log_errors(log: Path) -> list[str]:
    """The gateway's log lines at level ERROR or above (one JSON object per line), and any
    traceback gunicorn wrote outside that format."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            if "Traceback" in line:
                found.append(line[:500])
            continue
        if isinstance(record, dict) and str(record.get("level", "")).upper() in ("ERROR", "CRITICAL"):
            found.append(line[:500])
    return found


def soak(plan: Plan, command: str) -> dict:
    targets.raise_fd_limit()
    workdir = Path(tempfile.mkdtemp(prefix="gemini-proxy-soak-"))
    started = datetime.datetime.now(datetime.UTC)
    phases = Phases()
    emulator = targets.start_emulator(workdir, "emulator", plan.ttft, plan.tokens_per_second, plan.chunk_tokens)
    gateway = None
    try:
        gateway = targets.start_gateway(workdir, emulator.url)
        processes = Processes(psutil.Process(gateway.process.pid), psutil.Process(emulator.process.pid),
                              _port(emulator.url), _port(gateway.url))
        phases.end("start")
        # A warm-up that takes every path (imports, metric files, the SQLite store), then a pause
        # for its client connections to close: the baseline is the gateway warm and idle.
        warm = Client(gateway.url, plan)
        asyncio.run(warm.run_each([kind for kind in [*FAULTS, *[NONE] * 24]]))
        time.sleep(2.0)
        baseline = processes.snapshot()
        phases.end("warm-up")

        client = Client(gateway.url, plan)
        sampler = Sampler(processes, client, plan.sample_every)
        calls = _emulator_requests(emulator.url)
        sampler.start()
        load_seconds = asyncio.run(client.run(plan.seconds, plan.streams, plan.ramp))
        load_samples = len(sampler.samples)
        calls = _emulator_requests(emulator.url) - calls
        phases.end("load")
        time.sleep(plan.idle)
        after = processes.snapshot()
        sampler.stop()
        phases.end("idle")
    except BaseException:
        print(f"The soak stopped; its processes' logs are in {workdir}", file=sys.stderr)
        raise
    finally:
        if gateway is not None:
            gateway.stop()
        emulator.stop()
    phases.end("stop")
    results = {
        "date": started.isoformat(timespec="seconds"),
        "command": command,
        "commit": _commit(),
        "plan": asdict(plan),
        "faults": FAULTS,
        "machine": {"cpus": psutil.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
                    "python": sys.version.split()[0]},
        "load_seconds": round(load_seconds, 1),
        "max_in_flight": client.max_in_flight,
        "upstream_calls": calls,
        "counts": client.counts,
        "latency": client.latency(),
        "warm_up": warm.counts,
        "baseline": baseline,
        "after": after,
        "load_samples": load_samples,
        "samples": sampler.samples,
        "log_errors": log_errors(gateway.log)[:20],
        "phases": phases.seconds,
    }
    results["checks"] = soak_results.evaluate(results)
    shutil.rmtree(workdir, ignore_errors=True)
    return results


def _commit() -> str | None:
    """The checkout's commit (+dirty when it has changes), or None outside git."""
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=10"], cwd=targets.ROOT,
                              capture_output=True, text=True, timeout=10, check=False).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _emulator_requests(url: str) -> int:
    """Requests the emulator received so far (Gemini calls, retries included)."""
    with urllib.request.urlopen(f"{url}/emulator/stats", timeout=10) as response:
        return json.load(response)["requests"]


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _relative(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(targets.ROOT)) if path.is_relative_to(targets.ROOT) else str(path)


def dump(results: dict) -> str:
    """The results as JSON, indented, with one line per resource sample."""
    samples = ",\n  ".join(json.dumps(sample, separators=(",", ":")) for sample in results["samples"])
    text = json.dumps({**results, "samples": "SAMPLES"}, indent=1)
    return text.replace('"samples": "SAMPLES"', f'"samples": [\n  {samples}\n ]') + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/soak.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, required=True, help="how long the load lasts (CI: 60)")
    parser.add_argument("--streams", type=int, default=Plan.streams, help="concurrent streams (default %(default)s)")
    parser.add_argument("--fault-rate", type=float, default=Plan.fault_rate,
                        help="share of requests with an injected fault (default %(default)s)")
    parser.add_argument("--idle", type=float, default=Plan.idle,
                        help="seconds idle before the after-idle measurement (default %(default)s)")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="where the JSON and Markdown go (default bench/results)")
    parser.add_argument("--docs", type=Path,
                        help="rewrite the generated soak section of this file (docs/reliability.md)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.streams <= 0 or not 0 <= args.fault_rate <= 1 or args.idle < 0:
        parser.error("--seconds and --streams must be > 0, --fault-rate in 0..1, --idle >= 0")
    plan = Plan(seconds=args.seconds, streams=args.streams, fault_rate=args.fault_rate, idle=args.idle,
                sample_every=max(Plan.sample_every, round((args.seconds + args.idle) / 600, 1)))
    results = soak(plan, " ".join(["python", _relative(Path(sys.argv[0])), *sys.argv[1:]]))
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"soak-{results['date'][:10]}-{plan.seconds:g}s"
    (args.out / f"{stem}.json").write_text(dump(results))
    section = soak_results.markdown(results)
    (args.out / f"{stem}.md").write_text(f"# Soak {results['date']}\n\n{section}")
    if args.docs:
        soak_results.update_docs(args.docs, section, _relative(args.out / f"{stem}.json"))
    print(section)
    failed = [check for check in results["checks"] if not check["met"]]
    for check in failed:
        print(f"FAILED {check['name']}: {check['detail']}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
