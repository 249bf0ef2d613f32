"""Benchmark results (the JSON of bench/run.py) -> the issue's targets, a Markdown report and
PNG charts (throughput by target, time to first token by concurrency).

`python bench/report.py bench/results/DATE.json` rewrites the report of an earlier run.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def find(results: dict, target: str, mode: str, concurrency: int, config: str | None = None,
         api: str = "chat") -> dict | None:
    """The run of a target at a level; `api`: the gateway's chat completions (rows without an
    "api" label) or its Responses API."""
    for row in results["runs"]:
        found = (row["target"], row["mode"], row["concurrency"], row.get("api", "chat"))
        if found == (target, mode, concurrency, api) and (config is None or row.get("config") == config):
            return row
    return None


def shown_as(row: dict) -> str:
    """A run's target as the tables show it: the gateway's Responses API runs are "gateway /responses"."""
    return row["target"] + (f" /{row['api']}" if row.get("api", "chat") != "chat" else "")


def _check(name: str, met: bool | None, detail: str) -> dict:
    return {"name": name, "met": met, "detail": detail}


def _missing(name: str, *rows: dict | None) -> dict | None:
    if all(rows):
        return None
    return _check(name, None, "not measured in this run")


def _p(row: dict, metric: str, q: str) -> float | None:
    return (row.get(metric) or {}).get(q)


def _clean(row: dict) -> bool:
    return not row["errors"] and row["ok"] == row["requests"]


def _throughput(name: str, gateway: dict | None, other: dict | None, at_least: float, shown: str) -> dict:
    """The gateway's throughput as a multiple of another target's."""
    if missing := _missing(name, gateway, other):
        return missing
    ratio = gateway["throughput_rps"] / max(other["throughput_rps"], 1e-9)
    return _check(name, ratio >= at_least,
                  f"{gateway['throughput_rps']} vs {other['throughput_rps']} requests/s: {shown.format(ratio)}")


def _added(name: str, gateway: dict | None, direct: dict | None, metric: str, limit_ms: float) -> dict:
    """What the gateway adds to the direct floor, p50 of `metric`."""
    if missing := _missing(name, gateway, direct):
        return missing
    ours, floor = _p(gateway, metric, "p50"), _p(direct, metric, "p50")
    return _check(name, ours - floor <= limit_ms, f"{ours} - {floor} = {ours - floor:.2f} ms")


def evaluate(results: dict) -> list[dict]:
    """Each target of the issue: met (True/False), or None when this run did not measure it."""
    checks = []
    gateway32, litellm32, bare32 = (find(results, t, "nonstream", 32) for t in ("gateway", "litellm", "bare"))
    checks.append(_throughput("Non-streamed throughput at concurrency 32 >= 10x LiteLLM's", gateway32, litellm32,
                              10, "{:.1f}x"))
    checks.append(_throughput("Non-streamed throughput at concurrency 32 >= 25% of the bare stack's", gateway32,
                              bare32, 0.25, "{:.0%}"))
    gateway1 = find(results, "gateway", "nonstream", 1)
    checks.append(_added("Added latency at concurrency 1 (gateway - direct, p50) <= 2 ms, direct = the google-genai "
                         "SDK calling the emulator (the issue's floor)", gateway1,
                         find(results, "direct-sdk", "nonstream", 1), "latency_ms", 2))
    checks.append(_added("The same against raw HTTP to the emulator (a stricter floor: the load client's own "
                         "requests, no SDK)", gateway1, find(results, "direct", "nonstream", 1), "latency_ms", 2))

    gateway64, direct64 = find(results, "gateway", "stream", 64), find(results, "direct", "stream", 64)
    checks.append(_added("64 streams: added time to first token p50 <= 10 ms (raw-HTTP floor)", gateway64, direct64,
                         "ttft_ms", 10))
    name = "64 streams: each chunk relayed within 5 ms p99 of the emulator sending it"
    if not (missing := _missing(name, gateway64, direct64)):
        relay = _p(gateway64, "relay_ms", "p99")
        checks.append(_check(name, relay is not None and relay <= 5,
                             f"gateway {relay} ms p99 (direct, no gateway: {_p(direct64, 'relay_ms', 'p99')} ms)"))
    else:
        checks.append(missing)

    checks += _cpu_ratios(results)
    checks += _responses_vs_chat(results)

    direct1000 = find(results, "direct", "stream", 1000)
    configs = [row for row in results["runs"]
               if (row["target"], row["mode"], row["concurrency"], row.get("api", "chat")) == (
                   "gateway", "stream", 1000, "chat")]
    if configs and direct1000:
        complete = [row for row in configs if _clean(row) and row["completed"] == row["requests"] == 1000]
        checks.append(_check("1000 streams: all complete with [DONE], none refused or reset", bool(complete), "; ".join(
            f"{row['config']}: {row['completed']}/{row['requests']} completed, errors {row['errors'] or 'none'}"
            for row in configs)))
        added = {row["config"]: _p(row, "ttft_ms", "p99") - _p(direct1000, "ttft_ms", "p99")
                 for row in configs if _p(row, "ttft_ms", "p99") is not None}
        checks.append(_check("1000 streams: added time to first token p99 <= 250 ms (raw-HTTP floor)",
                             any(added.get(row["config"], 1e9) <= 250 for row in complete), "; ".join(
            f"{config}: {_p(next(r for r in configs if r['config'] == config), 'ttft_ms', 'p99')} - "
            f"{_p(direct1000, 'ttft_ms', 'p99')} = {value:.0f} ms" for config, value in added.items())))
        shipped = next((row for row in configs if row["config"] == "shipped"), None)
        relay = _p(shipped, "relay_ms", "p99") if shipped else None
        checks.append(_check(f"1000 streams, shipped settings: each chunk relayed within {RELAY_1000_MS} ms p99",
                             relay is not None and relay <= RELAY_1000_MS and shipped in complete, "; ".join(
            f"{row['config']}: relay p99 {_p(row, 'relay_ms', 'p99')} ms (p50 {_p(row, 'relay_ms', 'p50')})"
            for row in configs)))
        added_memory = {row["config"]: _memory_per_100(row) for row in configs}
        checks.append(_check(f"1000 streams, shipped settings: memory per 100 open streams <= {MEMORY_PER_100_MB} "
                             "MB (peak RSS of the gateway's processes minus their RSS as the run started, per 100)",
                             None if added_memory.get("shipped") is None
                             else added_memory["shipped"] <= MEMORY_PER_100_MB, "; ".join(
            f"{row['config']}: {added_memory[row['config']]:.1f} MB per 100 streams ({row['start_rss_mb']} -> "
            f"{row['peak_rss_mb']} MB in all; the whole peak per 100 streams: {row['peak_rss_mb'] / 10:.1f} MB)"
            for row in configs if added_memory[row["config"]] is not None)))
    else:
        checks.append(_check("1000 streams", None, "not measured in this run"))

    levels = sorted({row["concurrency"] for row in results["runs"]
                     if row["target"] == "tutorial" and row["mode"] == "stream"})
    name = "Time to first token >= 10x lower than the tutorial's design"
    tutorial = find(results, "tutorial", "stream", levels[0]) if levels else None
    gateway = find(results, "gateway", "stream", levels[0]) if levels else None
    if not (missing := _missing(name, tutorial, gateway)):
        ratio = _p(tutorial, "ttft_ms", "p50") / max(_p(gateway, "ttft_ms", "p50"), 1e-9)
        tokens = results["plan"]["stream_tokens"]
        checks.append(_check(name, ratio >= 10, f"{tokens}-token answers, {levels[0]} streams: tutorial "
                                                f"{_p(tutorial, 'ttft_ms', 'p50')} ms vs gateway "
                                                f"{_p(gateway, 'ttft_ms', 'p50')} ms"
                                                f" p50: {ratio:.1f}x"))
    else:
        checks.append(missing)
    return checks


RESPONSES_MARGIN = 1.10  # the Responses API may cost at most 10% more than chat completions
CPU_RATIO = 10  # the gateway's CPU per request and per stream: at most a tenth of LiteLLM's
RELAY_1000_MS = 50
MEMORY_PER_100_MB = 25


def _memory_per_100(row: dict) -> float | None:
    """What 1000 open streams added to the gateway's resident memory, per 100 streams (runs before
    the start RSS was recorded: None)."""
    if not row.get("start_rss_mb"):
        return None
    return (row["peak_rss_mb"] - row["start_rss_mb"]) / 10


def _cpu_ratios(results: dict) -> list[dict]:
    """CPU per non-streamed request (concurrency 32) and per stream (64 streams) of the gateway's
    processes, as a ratio to LiteLLM's (and to the bare stack's) in the same run."""
    checks = []
    tokens = results["plan"]["stream_tokens"] // results["plan"]["paced"]["chunk_tokens"]
    for measure, mode, concurrency in (
            ("CPU per non-streamed request at concurrency 32", "nonstream", 32),
            (f"CPU per stream ({tokens} chunks) with 64 streams", "stream", 64)):
        gateway, litellm, bare = (find(results, target, mode, concurrency) for target in ("gateway", "litellm", "bare"))
        name = f"{measure} <= 1/{CPU_RATIO} of LiteLLM's"
        if missing := _missing(name, gateway, litellm):
            checks.append(missing)
            continue
        ours, theirs = gateway["cpu_ms_per_request"], litellm["cpu_ms_per_request"]
        detail = f"gateway {ours} ms vs LiteLLM {theirs} ms: {theirs / max(ours, 1e-9):.1f}x less"
        if bare is not None and bare.get("cpu_ms_per_request"):
            floor = bare["cpu_ms_per_request"]
            detail += f"; the bare stack {floor} ms (the gateway: {ours / floor:.1f}x)"
        checks.append(_check(name, ours * CPU_RATIO <= theirs, detail))
    return checks


def _responses_vs_chat(results: dict) -> list[dict]:
    """The Responses API next to chat completions on the same gateway, in the same run: what each
    adds at concurrency 1 (over raw HTTP to the emulator), and time to first token with 64 streams."""
    checks = []
    name = ("Responses API: added latency at concurrency 1 (p50, over raw HTTP to the emulator) <= 110% of chat "
            "completions'")
    chat, responses, direct = (find(results, "gateway", "nonstream", 1), find(results, "gateway", "nonstream", 1,
                               api="responses"), find(results, "direct", "nonstream", 1))
    if not (missing := _missing(name, chat, responses, direct)):
        floor = _p(direct, "latency_ms", "p50")
        ours, theirs = _p(responses, "latency_ms", "p50") - floor, _p(chat, "latency_ms", "p50") - floor
        checks.append(_check(name, ours <= RESPONSES_MARGIN * theirs,
                             f"responses {_p(responses, 'latency_ms', 'p50')} - {floor} = {ours:.2f} ms vs chat "
                             f"{_p(chat, 'latency_ms', 'p50')} - {floor} = {theirs:.2f} ms: "
                             f"{ours / max(theirs, 1e-9):.0%}"))
    else:
        checks.append(missing)
    name = "Responses API: 64 streams, time to first token p50 <= 110% of chat completions'"
    chat, responses, direct = (find(results, "gateway", "stream", 64), find(results, "gateway", "stream", 64,
                               api="responses"), find(results, "direct", "stream", 64))
    if not (missing := _missing(name, chat, responses, direct)):
        ours, theirs, floor = (_p(row, "ttft_ms", "p50") for row in (responses, chat, direct))
        checks.append(_check(name, _clean(responses) and ours <= RESPONSES_MARGIN * theirs,
                             f"responses {ours} ms vs chat {theirs} ms: {ours / max(theirs, 1e-9):.0%} (added to "
                             f"raw HTTP's {floor} ms: {ours - floor:.2f} vs {theirs - floor:.2f} ms; relay p99 "
                             f"{_p(responses, 'relay_ms', 'p99')} vs {_p(chat, 'relay_ms', 'p99')} ms)"))
    else:
        checks.append(missing)
    return checks


def _fmt(value) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _errors(row: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in row["errors"].items()) or "none"


def markdown(results: dict, stem: str) -> str:
    plan = results["plan"]
    lines = [f"# Benchmark run {results['date']}{' (smoke)' if results['smoke'] else ''}", "",
             f"Machine: {results['machine']['cpus']} CPUs ({results['machine']['cpu_model']}), "
             f"{results['machine']['memory_gib']} GiB, {results['machine']['platform']}, "
             f"Python {results['machine']['python']}.  ",
             "Versions: " + ", ".join(f"{k} {v}" for k, v in results["versions"].items()) + ".  ",
             f"Run took {results['duration_s']} s.", ""]
    if results["skipped"]:
        lines += ["Skipped: " + "; ".join(f"{k}: {v}" for k, v in results["skipped"].items()) + ".", ""]
    lines += ["## Targets (ratios measured in this run)", "", "| Target | Result | Measured |", "|---|---|---|"]
    for check in results["targets"]:
        verdict = {True: "met", False: "**missed**", None: "reported"}[check["met"]]
        if check["met"] is None and check["detail"].startswith("not measured"):
            verdict = "-"
        lines.append(f"| {check['name']} | {verdict} | {check['detail']} |")
    lines += ["", f"## Non-streamed requests (emulator at zero pace, {plan['nonstream_tokens']}-token answers)", "",
              "| Target | Concurrency | Requests ok | Throughput (req/s) | Latency p50 (ms) | p99 (ms) | "
              "CPU per request (ms) | Peak RSS (MB) | Emulator CPU/req (ms) | Client CPU/req (ms) | Errors |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in (r for r in results["runs"] if r["mode"] == "nonstream"):
        lines.append(f"| {shown_as(row)} | {row['concurrency']} | {row['ok']}/{row['requests']} | "
                     f"{row['throughput_rps']} | "
                     f"{_fmt(row['latency_ms']['p50'])} | {_fmt(row['latency_ms']['p99'])} | "
                     f"{_fmt(row.get('cpu_ms_per_request'))} | {_fmt(row.get('peak_rss_mb'))} | "
                     f"{_fmt(row['upstream_cpu_ms_per_request'])} | {_fmt(row['client_cpu_ms_per_request'])} | "
                     f"{_errors(row)} |")
    paced = plan["paced"]
    lines += ["", f"## Streams (emulator: {paced['ttft']} s to first token, {paced['tokens_per_second']:g} tokens/s, "
                  f"{paced['chunk_tokens']} tokens per chunk; {plan['stream_tokens']}-token answers)", "",
              "Relay: the client's receive time of a chunk minus the emulator's send time stamped in it "
              "(direct: no gateway in between).", "",
              "| Target | Config | Streams | Completed | Most open at once | TTFT p50 (ms) | TTFT p99 (ms) | "
              "Relay p50 (ms) | Relay p99 (ms) | CPU per stream (ms) | Peak RSS (MB) | Errors |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in (r for r in results["runs"] if r["mode"] == "stream"):
        lines.append(f"| {shown_as(row)} | {row.get('config', '-')} | {row['concurrency']} | "
                     f"{row['completed']}/{row['requests']} | "
                     f"{row['max_in_flight']} | {_fmt(row['ttft_ms']['p50'])} | {_fmt(row['ttft_ms']['p99'])} | "
                     f"{_fmt(row['relay_ms']['p50'])} | {_fmt(row['relay_ms']['p99'])} | "
                     f"{_fmt(row.get('cpu_ms_per_request'))} | "
                     f"{_fmt(row.get('peak_rss_mb'))} | {_errors(row)} |")
    lines += ["", f"![Throughput by target]({stem}-throughput.png)", "",
              f"![Time to first token by concurrency]({stem}-ttft.png)", "", "## Commands", ""]
    lines += [f"- {name}: `{command}`" for name, command in results["commands"].items()]
    return "\n".join(lines) + "\n"


def charts(results: dict, out: Path, stem: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nonstream = [r for r in results["runs"] if r["mode"] == "nonstream"]
    names = list(dict.fromkeys(shown_as(r) for r in nonstream))
    levels = sorted({r["concurrency"] for r in nonstream})
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / max(len(levels), 1)
    for i, level in enumerate(levels):
        values = [next((r["throughput_rps"] for r in nonstream if shown_as(r) == n and r["concurrency"] == level), 0)
                  for n in names]
        bars = ax.bar([x + i * width for x in range(len(names))], values, width, label=f"concurrency {level}")
        ax.bar_label(bars, fmt="%.0f", fontsize=8)
    ax.set_xticks([x + width * (len(levels) - 1) / 2 for x in range(len(names))], names)
    ax.set_ylabel("requests/s")
    ax.set_title("Non-streamed throughput (emulator at zero pace)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / f"{stem}-throughput.png", dpi=100)
    plt.close(fig)

    streams = [r for r in results["runs"] if r["mode"] == "stream" and r["ttft_ms"]["p50"] is not None]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    series = list(dict.fromkeys((shown_as(r), r.get("config")) for r in streams))
    for target, config in series:
        rows = sorted((r for r in streams if (shown_as(r), r.get("config")) == (target, config)),
                      key=lambda r: r["concurrency"])
        label = target + (f" ({config})" if config else "")
        line, = ax.plot([r["concurrency"] for r in rows], [r["ttft_ms"]["p50"] for r in rows], marker="o",
                        label=f"{label} p50")
        ax.plot([r["concurrency"] for r in rows], [r["ttft_ms"]["p99"] for r in rows], marker="x", linestyle="--",
                color=line.get_color(), label=f"{label} p99")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("concurrent streams")
    ax.set_ylabel("time to first token (ms)")
    ax.set_title("Time to first token by concurrency")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(out / f"{stem}-ttft.png", dpi=100)
    plt.close(fig)


def write(results: dict, out: Path, stem: str) -> None:
    (out / f"{stem}.md").write_text(markdown(results, stem))
    charts(results, out, stem)


if __name__ == "__main__":
    path = Path(sys.argv[1])
    data = json.loads(path.read_text())
    data["targets"] = evaluate(data)
    write(data, path.parent, path.stem)
