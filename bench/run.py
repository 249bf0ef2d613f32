"""The benchmark, in one command: `.venv/bin/python bench/run.py [--smoke] [--out DIR]`.

Starts two emulators (zero pace, to expose pure overhead; and a realistic pace) and the
targets in front of them (direct over raw HTTP, direct through the google-genai SDK, the
gateway, the bare stack, the tutorial's design, LiteLLM), drives them with bench/load.py,
measures each one's process tree (CPU seconds, peak RSS), and writes DIR/<date>.json,
DIR/<date>.md and the PNG charts (bench/report.py).
Targets of the issue are judged on ratios measured in this one run, so what is compared is
measured side by side: the non-streamed levels take the gateway (chat completions and the
Responses API), the bare stack and LiteLLM in turns, all of them up at once (10 turns at
concurrency 1, 2 at 32); each stream level below 1000 takes the gateway's two APIs, the bare stack
and LiteLLM one after the other, twice.
This machine's speed drifts by tens of percent in minutes: measured minutes apart, LiteLLM's
CPU per stream moved 82 / 114 / 98 ms in three runs of one day.

--smoke: every target briefly (seconds, for CI): no LiteLLM unless asked (its virtualenv takes
minutes to build and half a minute to start), no 1000-stream run; exits non-zero if a target
failed to serve.

--gateway-only: the floors and the gateway (chat completions and the Responses API) at the full
plan's non-streamed levels and 64 streams, nothing else (about 3 minutes): the Responses-vs-chat
targets, measured again without the rest.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata
from pathlib import Path

import psutil

import load
import report
import targets
from load import Load, Target
from targets import Monitor, Service

RESULTS = targets.BENCH / "results"
GATEWAY_APIS = ("chat", "responses")  # the gateway is measured with both, level by level


@dataclass(frozen=True)
class Pace:
    ttft: float
    tokens_per_second: float
    chunk_tokens: int

    def stream_seconds(self, tokens: int) -> float:
        return self.ttft + (tokens / self.tokens_per_second if self.tokens_per_second else 0.0)


@dataclass(frozen=True)
class Plan:
    paced: Pace
    nonstream_tokens: int
    # (concurrency, at most requests, at most seconds, turns): the targets measured side by side take
    # the level in that many turns. A turn ends by waiting for the requests in flight, which weighs on a
    # slow target's throughput: at concurrency 32 a turn lasts as long as a whole level used to (10 s).
    nonstream: tuple[tuple[int, int, float, int], ...]
    stream_tokens: int
    streams: tuple[tuple[int, int], ...]  # (concurrent streams, streams per client)
    tutorial_streams: tuple[int, ...]
    gateway_1000: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # (name, env) for the 1000-stream runs
    warmup: int
    zero: Pace = Pace(0.0, 0.0, 20)
    stream_turns: int = 2  # stream levels measured side by side: whole levels, the runs in turn
    others: bool = True  # the bare stack and the tutorial's design


FULL = Plan(
    # Recorded Gemini 2.5 Flash streams send 20 to 50 tokens per chunk (shared/recordings).
    paced=Pace(0.3, 50.0, 20),
    nonstream_tokens=100,
    nonstream=((1, 3000, 8.0, 10), (32, 60000, 20.0, 2)),
    stream_tokens=200,
    streams=((16, 3), (64, 2), (256, 2), (1000, 1)),
    tutorial_streams=(16, 64),
    gateway_1000=(("shipped", ()),
                  ("2x1024", (("WEB_CONCURRENCY", "2"), ("GUNICORN_THREADS", "1024"))),
                  ("2x256", (("WEB_CONCURRENCY", "2"), ("GUNICORN_THREADS", "256")))),
    warmup=64,
)
GATEWAY_ONLY = replace(FULL, streams=((64, 2),), tutorial_streams=(), gateway_1000=(), others=False)
SMOKE = Plan(
    paced=Pace(0.1, 400.0, 10),
    nonstream_tokens=100,
    nonstream=((1, 30, 3.0, 10), (4, 60, 3.0, 2)),
    stream_tokens=40,
    streams=((8, 1),),
    tutorial_streams=(8,),
    gateway_1000=(),
    warmup=8,
)


def prompt(tokens: int, stamp: bool) -> str:
    directives = f"tokens={tokens} thoughts=0" + (" stamp=1" if stamp else "")
    return f"Tell me a story. [emulator {directives}]"


@dataclass
class Bench:
    plan: Plan
    workdir: Path
    strict: bool  # any error is a failure (smoke); else only a target that served nothing
    runs: list[dict] = field(default_factory=list)
    commands: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def note_command(self, service: Service) -> None:
        self.commands.setdefault(service.name, " ".join(str(a) for a in service.process.args))

    def measure_alternating(self, runs: list[Run], emulator: Service, load_: Load, turns: int,
                            labels: dict) -> list[dict]:
        """`load_` on each run's target, split into `turns` turns that take the targets in turn,
        so that a machine getting faster or slower during the level shows in all of them alike;
        one row per run (`labels`, the run's own and its target's API label)."""
        part = replace(load_, count=max(1, load_.count // turns), seconds=load_.seconds / turns)
        results: dict[int, list[load.RunResult]] = {i: [] for i in range(len(runs))}
        cpu = {i: {"client": 0.0, "gateway": 0.0, "upstream": 0.0, "rss": 0, "start_rss": None}
               for i in range(len(runs))}
        client = psutil.Process()
        for _ in range(turns):
            for i, run in enumerate(runs):
                before = client.cpu_times()
                with Monitor(run.service) as gateway, Monitor(emulator) as upstream:
                    results[i].append(load.run(run.target, part))
                    gateway.settle()
                after = client.cpu_times()
                cpu[i]["client"] += after.user + after.system - before.user - before.system
                cpu[i]["gateway"] += gateway.cpu_seconds
                cpu[i]["upstream"] += upstream.cpu_seconds
                cpu[i]["rss"] = max(cpu[i]["rss"], gateway.peak_rss)
                if cpu[i]["start_rss"] is None:
                    cpu[i]["start_rss"] = gateway.start_rss
        return [self._row(run.target, run.service, load_, load.merged(results[i]), cpu[i],
                          {**labels, **run.labels, **_api(run.target.api)})
                for i, run in enumerate(runs)]

    def _row(self, target: Target, service: Service | None, load_: Load, result: load.RunResult, cpu: dict,
             labels: dict) -> dict:
        row = {"target": target.name, "mode": "stream" if load_.stream else "nonstream",
               "concurrency": load_.concurrency, **labels, **load.summary(result)}
        done = max(row["requests"], 1)
        row["client_cpu_ms_per_request"] = round(1000 * cpu["client"] / done, 3)
        row["upstream_cpu_ms_per_request"] = round(1000 * cpu["upstream"] / done, 3)
        if service is not None:
            row["cpu_ms_per_request"] = round(1000 * cpu["gateway"] / done, 3)
            row["peak_rss_mb"] = round(cpu["rss"] / 2**20, 1)
            row["start_rss_mb"] = round((cpu["start_rss"] or 0) / 2**20, 1)
        self.runs.append(row)
        errors = row["errors"]
        shown = target.name + ("/" + target.api if target.api != "chat" else "")
        print(f"  {shown:<10} {row['mode']:<9} c={load_.concurrency:<5} ok={row['ok']}/{row['requests']} "
              f"rps={row['throughput_rps']} p50={row['latency_ms']['p50']} "
              + (f"ttft p50={row['ttft_ms']['p50']} p99={row['ttft_ms']['p99']} relay p99={row['relay_ms']['p99']} "
                 if "ttft_ms" in row else "")
              + (f"cpu/req={row.get('cpu_ms_per_request')}ms rss={row.get('peak_rss_mb')}MB " if service else "")
              + (f"errors={errors}" if errors else ""), flush=True)
        if row["ok"] == 0 or (errors and self.strict):
            self.failures.append(f"{target.name} {row['mode']} c={load_.concurrency}: "
                                 f"{row['ok']}/{row['requests']} ok, {errors}")
        return row

    def warm(self, target: Target, stream: bool, tokens: int) -> None:
        load.run(target, Load(min(8, self.plan.warmup), self.plan.warmup, 20.0, stream, prompt(tokens, stream)))

    def nonstream(self, runs: list[Run], emulator: Service) -> None:
        """Each level once per run, the runs taking turns within the level (the plan's turns)."""
        text = prompt(self.plan.nonstream_tokens, False)
        for run in runs:
            self.warm(run.target, False, self.plan.nonstream_tokens)
        for concurrency, count, seconds, turns in self.plan.nonstream:
            self.measure_alternating(runs, emulator, Load(concurrency, count, seconds, False, text),
                                     turns if len(runs) > 1 else 1, {"pace": "zero"})

    def streams(self, runs: list[Run], emulator: Service, levels) -> None:
        """Each level for each run; side by side, in the plan's stream_turns turns that take the
        runs in turn. A turn is the whole level (its rounds are what keeps its streams open all
        along), so each run's row is that many levels' streams."""
        pace = self.plan.paced
        for run in runs:
            self.warm(run.target, True, 20)
        turns = self.plan.stream_turns if len(runs) > 1 else 1
        duration = pace.stream_seconds(self.plan.stream_tokens)
        if any(run.target.name == "tutorial" for run in runs):  # ~0.75 words per token, 10 ms apart, after it all
            duration += self.plan.stream_tokens * 0.75 * 0.01
        for concurrency, rounds in levels:
            ramp = min(duration, 3.0) if rounds == 1 else duration
            seconds = ramp + rounds * duration * 1.5 + 5
            self.measure_alternating(runs, emulator, Load(
                concurrency, concurrency * rounds * turns, seconds * turns, True, prompt(self.plan.stream_tokens, True),
                ramp=ramp, request_timeout=duration * 4 + 30, grace=duration * 4 + 30), turns, {"pace": "paced"})


@dataclass(frozen=True)
class Run:
    """A target, the service its CPU and memory are read from (None: none, as for the direct
    calls), and the labels of its rows."""
    target: Target
    service: Service | None = None
    labels: dict = field(default_factory=dict)


def served(service: Service, name: str, apis=("chat",), **labels) -> list[Run]:
    """One run per API of a started service."""
    return [Run(Target(name, service.url, "openai", service.api_key, api), service, labels) for api in apis]


def _api(api: str) -> dict[str, str]:
    """The label of a run's API: none for chat completions (as in the runs before the Responses API)."""
    return {} if api == "chat" else {"api": api}


def machine() -> dict:
    model = ""
    with contextlib.suppress(OSError):
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "platform": platform.platform(), "python": platform.python_version()}


def versions(litellm: str | None) -> dict:
    names = ("gunicorn", "flask", "google-genai", "httpx2", "marshmallow", "pydantic", "aiohttp", "werkzeug")
    found = {}
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    if litellm:
        found["litellm"] = litellm
    return found


def run(plan: Plan, out: Path, with_litellm: bool, smoke: bool) -> int:
    fds = targets.raise_fd_limit()
    started = datetime.datetime.now(datetime.UTC)
    workdir = Path(tempfile.mkdtemp(prefix="gemini-proxy-bench-"))
    bench = Bench(plan, workdir, strict=smoke)
    skipped: dict[str, str] = {}
    litellm = None
    if with_litellm:
        print("LiteLLM: preparing bench/.venv-litellm ...", flush=True)
        litellm = targets.ensure_litellm(timeout=900)
        if litellm is None:
            skipped["litellm"] = "its virtualenv could not be built (see the message above)"
    else:
        skipped["litellm"] = ("not asked for (--smoke runs without LiteLLM unless --litellm is given)" if smoke
                              else "not asked for (--no-litellm, or --gateway-only without --litellm)")
    workers = 4  # gunicorn.conf.py's WEB_CONCURRENCY default; LiteLLM gets as many
    services: list[Service] = []

    def start(service: Service) -> Service:
        services.append(service)
        bench.note_command(service)
        return service

    def stop(service: Service) -> None:
        service.stop()
        services.remove(service)

    try:
        zero = start(targets.start_emulator(workdir, "emulator-zero", 0.0, 0.0, plan.zero.chunk_tokens))
        paced = start(targets.start_emulator(workdir, "emulator-paced", plan.paced.ttft, plan.paced.tokens_per_second,
                                             plan.paced.chunk_tokens))

        print("Non-streamed requests, emulator at zero pace", flush=True)
        bench.nonstream([Run(Target("direct", zero.url, "gemini"))], zero)
        bench.nonstream([Run(Target("direct-sdk", zero.url, "sdk"))], zero)
        gateway = start(targets.start_gateway(workdir, zero.url))
        side_by_side = served(gateway, "gateway", GATEWAY_APIS)
        if plan.others:
            side_by_side += served(start(targets.start_bare(workdir, zero.url)), "bare")
        if litellm:
            side_by_side += served(start(targets.start_litellm(workdir, zero.url, workers)), "litellm")
        bench.nonstream(side_by_side, zero)
        for run in side_by_side:
            if run.service in services:
                stop(run.service)
        if plan.others:
            tutorial = start(targets.start_tutorial(workdir, zero.url))
            bench.nonstream(served(tutorial, "tutorial"), zero)
            stop(tutorial)

        print(f"Streams, emulator at {plan.paced.ttft} s to first token, {plan.paced.tokens_per_second:g} tokens/s, "
              f"{plan.paced.chunk_tokens} tokens per chunk", flush=True)
        below_1000 = tuple(level for level in plan.streams if level[0] < 1000)
        at_1000 = tuple(level for level in plan.streams if level[0] >= 1000)
        bench.streams([Run(Target("direct", paced.url, "gemini"))], paced, plan.streams)
        # The SDK parses every chunk into pydantic models in this one client process: beyond 64
        # streams the client itself would be what is measured.
        bench.streams([Run(Target("direct-sdk", paced.url, "sdk"))], paced,
                      tuple(level for level in plan.streams if level[0] <= 64))
        gateway = start(targets.start_gateway(workdir, paced.url))
        side_by_side = served(gateway, "gateway", GATEWAY_APIS, config="shipped")
        bare = start(targets.start_bare(workdir, paced.url)) if plan.others else None
        if bare:  # the thinnest relay of this stack (bench/apps/bare.py)
            side_by_side += served(bare, "bare")
        if litellm:
            litellm_paced = start(targets.start_litellm(workdir, paced.url, workers))
            side_by_side += served(litellm_paced, "litellm")
        bench.streams(side_by_side, paced, below_1000)
        stop(gateway)
        if bare:
            stop(bare)
        if litellm:
            bench.streams(served(litellm_paced, "litellm"), paced, at_1000)
            stop(litellm_paced)
        for config, env in plan.gateway_1000:
            service = start(targets.start_gateway(workdir, paced.url, dict(env), name=f"gateway-{config}"))
            bench.streams(served(service, "gateway", config=config), paced, at_1000)
            stop(service)
        if plan.others:
            service = start(targets.start_tutorial(workdir, paced.url))
            bench.streams(served(service, "tutorial"), paced,
                          tuple((n, rounds) for n, rounds in below_1000 if n in plan.tutorial_streams))
            stop(service)
    finally:
        for service in reversed(services):
            service.stop()

    results = {
        "date": started.isoformat(timespec="seconds"),
        "smoke": smoke,
        "duration_s": round((datetime.datetime.now(datetime.UTC) - started).total_seconds(), 1),
        "machine": machine(),
        "versions": versions(litellm),
        "open_files_limit": fds,
        "plan": asdict(plan),
        "commands": {"harness": " ".join([Path(sys.executable).name, *sys.argv]), **bench.commands},
        "skipped": skipped,
        "failures": bench.failures,
        "runs": bench.runs,
    }
    results["targets"] = report.evaluate(results)
    out.mkdir(parents=True, exist_ok=True)
    stem = started.strftime("%Y-%m-%d") + ("-smoke" if smoke else "-gateway" if not plan.others else "")
    (out / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n")
    report.write(results, out, stem)
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"Wrote {out / stem}.json, .md and charts in {results['duration_s']} s")
    for check in results["targets"]:
        verdict = "MET   " if check["met"] else "MISSED" if check["met"] is False else "n/a   "
        print(f"  {verdict} {check['name']}: {check['detail']}")
    if bench.failures:
        print("Targets that failed to serve:\n  " + "\n  ".join(bench.failures), file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds per target, for CI")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON, Markdown and charts go")
    parser.add_argument("--gateway-only", action="store_true",
                        help="only the floors and the gateway (chat and Responses), ~2 minutes")
    parser.add_argument("--litellm", action=argparse.BooleanOptionalAction, default=None,
                        help="include LiteLLM (default: yes, except with --smoke)")
    args = parser.parse_args(argv)
    with_litellm = not (args.smoke or args.gateway_only) if args.litellm is None else args.litellm
    plan = SMOKE if args.smoke else GATEWAY_ONLY if args.gateway_only else FULL
    return run(plan, args.out, with_litellm, args.smoke)


if __name__ == "__main__":
    raise SystemExit(main())
