"""The soak's vocabulary and verdicts, as pure functions of its results (no processes; files
only in `update_docs`): which faults are injected, how one stream's answer is classified, the
checks (lost, hung, file descriptors and memory after idle, each against a stated bound) and the
Markdown that docs/reliability.md carries.

bench/soak.py imports it as `soak_results`; the tests as `bench.soak_results`. As a script,
`python bench/soak_results.py RESULTS.json [DOCS.md]` writes the Markdown of a stored run again.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

# What each fault kind asks of the emulator (a directive in the prompt), or None: the client
# itself leaves. Kinds are injected in turn, so each gets an equal share of the faults.
FAULTS: dict[str, str | None] = {
    "midstream": "fault=midstream after=2 code=503",  # Gemini's error event after 2 chunks
    "drop": "fault=drop after=2",  # the connection to Gemini cut after 2 chunks
    "drop-at-start": "fault=drop after=0",  # cut before Gemini sent its status line
    "429": "fault=429 retry=3",
    "500": "fault=500",
    "503": "fault=503",
    "block": "fault=block",  # the prompt blocked (an answer that says so, not an error)
    "client-abort": None,  # the client closes its connection after the first event
}
NONE = "none"
# The faults a client must see as an error (an error status or an error event); a blocked prompt
# is an answer (finish_reason content_filter), and a client that left sees nothing.
ERRORS = frozenset(FAULTS) - {"block", "client-abort"}

COMPLETE = "complete"
ERROR_EVENT = "error event"
LEFT = "left by client"
HUNG = "hung"
LOST = "lost"


@dataclass
class Reading:
    """What the client saw of one streamed request."""
    status: int | None = None
    envelope: bool = False  # a non-200 body is OpenAI's {"error": {message, type, param, code}}
    events: int = 0
    finished: bool = False  # an event with a finish_reason
    error_event: bool = False
    done: bool = False  # data: [DONE]
    after_done: bool = False  # anything after [DONE]
    failure: str | None = None  # the connection failed (reset, payload error, ...)
    left: bool = False  # the client went away on purpose
    hung: bool = False  # still open at its deadline


def outcome(reading: Reading) -> str:
    """One of: complete, error event, HTTP <status> (an error the client can read), left by
    client, hung, or "lost: <why>" (the client got no usable answer)."""
    if reading.hung:
        return HUNG
    if reading.left:
        return LEFT
    if reading.failure:
        return f"{LOST}: {reading.failure}"
    if reading.status is None:
        return f"{LOST}: no answer"
    if reading.status != 200:
        if reading.envelope:
            return f"HTTP {reading.status}"
        return f"{LOST}: HTTP {reading.status} without an error envelope"
    if reading.after_done:
        return f"{LOST}: events after [DONE]"
    if not reading.done:
        return f"{LOST}: no [DONE]"
    if reading.error_event:
        return ERROR_EVENT
    if not reading.finished:
        return f"{LOST}: [DONE] without a finish_reason"
    return COMPLETE


def is_lost(name: str) -> bool:
    return name.startswith(LOST)


def is_envelope(body: object) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and {"message", "type", "param", "code"} <= error.keys() and isinstance(
        error["message"], str) and bool(error["message"])


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5))) - 1]


# What may stay in a worker's memory after the load, beyond its baseline (see docs/reliability.md):
# gthread's threads never exit, and each keeps its touched C stack (16 KB measured), Python's
# first data-stack chunk (16 KB) and thread state, plus its share of what the allocators (glibc's
# per-thread arenas, pymalloc's arenas) keep of the working set they served: 70-110 KB per thread
# measured in all. Plus a fixed allowance for caches bounded by settings and slow allocator creep.
THREAD_ALLOWANCE = 128 * 1024
WORKER_ALLOWANCE = 8 * 2**20
MB = 2**20


def _check(name: str, met: bool, detail: str) -> dict:
    return {"name": name, "met": met, "detail": detail}


def _total(counts: dict[str, dict[str, int]], which) -> dict[str, int]:
    """{"kind: outcome": n} of the outcomes `which` accepts."""
    return {f"{kind}: {name}": n
            for kind, outcomes in counts.items() for name, n in outcomes.items() if which(kind, name)}


def fixed_fds(snapshot: dict) -> dict[str, int]:
    """The files each role must hold when idle: what it held at baseline minus its TCP
    connections. Workers run the same program, so the warmest one's set is every worker's."""
    def fixed(process: dict) -> int:
        return process["fds"] - process["connections"]
    return {"arbiter": fixed(snapshot["arbiter"]), "worker": max(fixed(w) for w in snapshot["workers"]),
            "emulator": fixed(snapshot["emulator"])}


def memory_bound(baseline: dict, after: dict) -> int:
    """The most RSS a worker may hold after idle (bytes), given its baseline and its threads now."""
    return baseline["rss"] + max(0, after["threads"] - baseline["threads"]) * THREAD_ALLOWANCE + WORKER_ALLOWANCE


def _fds_detail(process: dict, bound: int) -> str:
    excess = [f"{process['fds'] - bound} over"] if process["fds"] > bound else []
    if process["connections"]:
        excess.append(f"{process['connections']} TCP connections open ({process['to_emulator']} to the emulator, "
                      f"{process['from_clients']} from clients)")
    return f"{process['fds']} (bound {bound})" + (": " + ", ".join(excess) if excess else "")


def evaluate(results: dict) -> list[dict]:
    """The verdicts of one soak: a list of {name, met, detail}."""
    plan, counts, baseline, after = results["plan"], results["counts"], results["baseline"], results["after"]
    checks = []
    lost = _total(counts, lambda kind, name: is_lost(name))
    checks.append(_check("0 lost: every request got a complete stream or an error it can read", not lost,
                         ", ".join(f"{k}: {n}" for k, n in lost.items()) or "none lost"))
    hung = _total(counts, lambda kind, name: name == HUNG)
    checks.append(_check(f"0 hung: no request open longer than {plan['deadline']:g} s", not hung,
                         ", ".join(f"{k}: {n}" for k, n in hung.items()) or "none hung"))
    failed = _total(counts, lambda kind, name: kind == NONE and name != COMPLETE)
    checks.append(_check("Every request without an injected fault complete", not failed,
                         ", ".join(f"{k}: {n}" for k, n in failed.items())
                         or f"{sum(counts.get(NONE, {}).values())} complete"))
    hidden = _total(counts, lambda kind, name: kind in ERRORS and name == COMPLETE)
    checks.append(_check("No injected error passed on as a successful answer", not hidden,
                         ", ".join(f"{k}: {n}" for k, n in hidden.items()) or "none"))
    missing = [kind for kind in FAULTS if not counts.get(kind)]
    checks.append(_check("Every fault kind injected", not missing,
                         f"missing: {', '.join(missing)}" if missing else f"{len(FAULTS)} kinds"))
    checks.append(_check(f"{plan['streams']} streams open at once", results["max_in_flight"] >= plan["streams"],
                         f"at most {results['max_in_flight']} open"))
    pids = {tuple(w["pid"] for w in baseline["workers"]), tuple(w["pid"] for w in after["workers"]),
            *(tuple(sample["worker_pids"]) for sample in results["samples"])}
    checks.append(_check("No worker died or was restarted", len(pids) == 1,
                         f"{len(baseline['workers'])} workers throughout" if len(pids) == 1
                         else f"worker pids seen: {sorted(pids)}"))
    errors = results["log_errors"]
    checks.append(_check("No ERROR line in the gateway's log", not errors, errors[0] if errors else "none"))

    idle = f"after {plan['idle']:g} s idle"
    bounds = fixed_fds(baseline)
    workers = after["workers"]
    checks.append(_check(f"Workers' open files back to their idle set {idle} (no connection left open)",
                         all(w["fds"] <= bounds["worker"] for w in workers),
                         "; ".join(f"worker {w['pid']}: {_fds_detail(w, bounds['worker'])}" for w in workers)))
    for role in ("arbiter", "emulator"):
        checks.append(_check(f"{role.capitalize()}'s open files back to its idle set {idle}",
                             after[role]["fds"] <= bounds[role], _fds_detail(after[role], bounds[role])))
    before = {w["pid"]: w for w in baseline["workers"]}
    memory = []
    for worker in workers:
        bound = memory_bound(before[worker["pid"]], worker) if worker["pid"] in before else 0
        memory.append((worker, bound))
    checks.append(_check(f"Workers' memory within bound {idle}: baseline + {THREAD_ALLOWANCE // 1024} KiB per thread "
                         f"added + {WORKER_ALLOWANCE // MB} MiB, each",
                         bool(memory) and all(w["rss"] <= bound for w, bound in memory),
                         "; ".join(f"worker {w['pid']}: {w['rss'] / MB:.1f} MB (bound {bound / MB:.1f})"
                                   for w, bound in memory)))
    return checks


def _range(values: list[float], unit: float = 1, digits: int = 0) -> str:
    low, high = min(values) / unit, max(values) / unit
    shown = f"{low:.{digits}f}" if round(low, digits) == round(high, digits) else f"{low:.{digits}f}-{high:.{digits}f}"
    return shown


def _settled(results: dict) -> str:
    """When, after the load, every process was back within its fd bound (from the samples)."""
    bounds = fixed_fds(results["baseline"])
    end = results["samples"][results["load_samples"] - 1]["t"] if results["load_samples"] else 0.0
    for sample in results["samples"][results["load_samples"]:]:
        if (sample["worker_fds_max"] <= bounds["worker"] and sample["emulator_fds"] <= bounds["emulator"]
                and sample["arbiter_fds"] <= bounds["arbiter"]):
            return f"{sample['t'] - end:.1f} s after the load"
    return f"not within the {results['plan']['idle']:g} s idle period"


def creep(results: dict) -> tuple[float, float] | None:
    """(MB, seconds): how much the workers' RSS grew over the second half of the load, while
    it was at full concurrency (a leak grows with requests; retained memory does not)."""
    full = [s for s in results["samples"][:results["load_samples"]]
            if s["in_flight"] >= 0.9 * results["plan"]["streams"]]
    half = [s for s in full if s["t"] >= full[-1]["t"] / 2] if full else []
    if len(half) < 2:
        return None
    return (half[-1]["workers_rss"] - half[0]["workers_rss"]) / MB, half[-1]["t"] - half[0]["t"]


def markdown(results: dict) -> str:
    """The figures of one soak, as the section docs/reliability.md carries."""
    plan, counts, baseline, after = results["plan"], results["counts"], results["baseline"], results["after"]
    samples = results["samples"]
    total = sum(n for outcomes in counts.values() for n in outcomes.values())
    faults = sum(n for kind, outcomes in counts.items() if kind != NONE for n in outcomes.values())
    lost = sum(_total(counts, lambda kind, name: is_lost(name)).values())
    hung = sum(_total(counts, lambda kind, name: name == HUNG).values())
    checks = results["checks"]
    lines = [
        f"Run {results['date']} (commit {results.get('commit') or 'unknown'}): `{results['command']}`; "
        f"{results['machine']['cpus']} CPUs shared by the load "
        f"client, the gateway and the emulator. The gateway: `gunicorn -c gunicorn.conf.py wsgi:app` as shipped "
        f"({len(baseline['workers'])} gthread workers), in front of the emulator at {plan['ttft']:g} s to first token, "
        f"{plan['tokens_per_second']:g} tokens/s, {plan['chunk_tokens']} tokens per chunk; "
        f"{plan['tokens']}-token answers.",
        "",
        "| Figure | Measured |", "|---|---|",
        f"| Streams | {total:,} requests in {results['load_seconds']:g} s ({total / results['load_seconds']:.0f}/s), "
        f"{plan['streams']} clients, at most {results['max_in_flight']} open at once |",
        f"| Injected faults | {faults:,} ({faults / max(total, 1):.1%}) |",
        f"| Gemini calls (the emulator's count, retries included) | {results['upstream_calls']:,} "
        f"({results['upstream_calls'] / max(total, 1):.2f} per request) |",
        f"| Lost | {lost} |",
        f"| Hung (open longer than {plan['deadline']:g} s) | {hung} |",
        f"| ERROR lines in the gateway's log | {len(results['log_errors'])} |",
        "| Duration | " + ", ".join(f"{name} {seconds:g} s" for name, seconds in results["phases"].items()) + " |",
        "",
        "| Fault | Directive | Requests | Outcomes | Time p50 / p99 / max (s) |", "|---|---|---|---|---|",
    ]
    for kind in [NONE, *FAULTS]:
        outcomes = counts.get(kind, {})
        if FAULTS.get(kind):
            directive = f"`[emulator {FAULTS[kind]}]`"
        else:
            directive = "client closes after 1 event" if kind in FAULTS else "-"
        latency = results["latency"].get(kind) or {}
        lines.append(f"| {kind} | {directive} | {sum(outcomes.values()):,} | "
                     + (", ".join(f"{name}: {n:,}" for name, n in sorted(outcomes.items())) or "-")
                     + " | " + " / ".join(str(latency.get(q, "-")) for q in ("p50", "p99", "max")) + " |")
    bounds = fixed_fds(baseline)
    during = samples[:results["load_samples"]] or samples
    before = {w["pid"]: w for w in baseline["workers"]}
    memory_bounds = [memory_bound(before[w["pid"]], w) for w in after["workers"] if w["pid"] in before]
    lines += [
        "",
        f"Resources: baseline = warm and idle before the load; peak = the highest of samples every "
        f"{plan['sample_every']:g} s; after = {plan['idle']:g} s after the load ended.",
        "",
        "| Resource | Baseline | Peak | After idle | Bound after idle |", "|---|---|---|---|---|",
        f"| Workers' RSS, MB, each | {_range([w['rss'] for w in baseline['workers']], MB)} | "
        f"{max(s['worker_rss_max'] for s in during) / MB:.0f} | {_range([w['rss'] for w in after['workers']], MB)} | "
        + (f"{_range(memory_bounds, MB)} |" if memory_bounds else "- |"),
        f"| Workers' RSS, MB, all {len(after['workers'])} | {sum(w['rss'] for w in baseline['workers']) / MB:.0f} | "
        f"{max(s['workers_rss'] for s in during) / MB:.0f} | {sum(w['rss'] for w in after['workers']) / MB:.0f} | |",
        f"| Workers' threads, all | {sum(w['threads'] for w in baseline['workers'])} | "
        f"{max(s['workers_threads'] for s in during)} | {sum(w['threads'] for w in after['workers'])} | |",
        f"| Workers' open files, each | {_range([w['fds'] for w in baseline['workers']])} | "
        f"{max(s['worker_fds_max'] for s in during)} | {_range([w['fds'] for w in after['workers']])} | "
        f"{bounds['worker']} |",
        f"| Arbiter's open files | {baseline['arbiter']['fds']} | {max(s['arbiter_fds'] for s in during)} | "
        f"{after['arbiter']['fds']} | {bounds['arbiter']} |",
        f"| Emulator's open files | {baseline['emulator']['fds']} | {max(s['emulator_fds'] for s in during)} | "
        f"{after['emulator']['fds']} | {bounds['emulator']} |",
        f"| TCP connections held, workers / emulator | {sum(w['connections'] for w in baseline['workers'])} / "
        f"{baseline['emulator']['connections']} | | {sum(w['connections'] for w in after['workers'])} / "
        f"{after['emulator']['connections']} | 0 / 0 |",
        "",
        f"Open files back within bound: {_settled(results)}."
        + (" Workers' RSS over the second half of the load, at full concurrency: {:+.1f} MB in {:.0f} s.".format(*grown)
           if (grown := creep(results)) else ""),
        "",
        "| Check | Result | Detail |", "|---|---|---|",
        *(f"| {c['name']} | {'met' if c['met'] else '**failed**'} | {c['detail']} |" for c in checks),
    ]
    return "\n".join(lines) + "\n"


BEGIN = "<!-- soak results: generated by bench/soak.py from {source}; do not edit by hand -->"
END = "<!-- end of soak results -->"
_SECTION = re.compile(re.escape(BEGIN).replace(re.escape("{source}"), r"(?P<source>\S+)")
                      + r"\n(?P<body>.*?)" + re.escape(END), re.DOTALL)


def generated_section(text: str) -> tuple[str, str] | None:
    """(the results file it was made from, the section) of a document, if it has one."""
    match = _SECTION.search(text)
    return (match["source"], match["body"]) if match else None


def update_docs(path: Path, section: str, source: str) -> None:
    """Writes `section` between the markers of `path` (appended, markers and all, if absent)."""
    block = f"{BEGIN.format(source=source)}\n{section}{END}"
    text = path.read_text() if path.exists() else ""
    if generated_section(text):
        text = _SECTION.sub(lambda _: block, text, count=1)
    else:
        text = (text.rstrip("\n") + "\n\n" if text else "") + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


if __name__ == "__main__":
    # `python bench/soak_results.py RESULTS.json [DOCS.md]`: the Markdown (and the docs section)
    # of an earlier run again, its checks evaluated anew, without running the soak again.
    source = Path(sys.argv[1])
    results = json.loads(source.read_text())
    results["checks"] = evaluate(results)
    section = markdown(results)
    source.with_suffix(".md").write_text(f"# Soak {results['date']}\n\n{section}")
    if len(sys.argv) > 2:
        update_docs(Path(sys.argv[2]), section, sys.argv[1])
    print(section)
