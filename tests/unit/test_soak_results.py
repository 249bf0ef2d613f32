"""The soak's verdicts (bench/soak_results.py), without running it: how one stream's answer is
classified, that each check fails on what it is meant to catch, and that docs/reliability.md's
soak figures are generated from a stored run, not edited by hand."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from bench import soak_results
from bench.soak_results import (
    COMPLETE,
    ERROR_EVENT,
    FAULTS,
    HUNG,
    LEFT,
    MB,
    NONE,
    THREAD_ALLOWANCE,
    WORKER_ALLOWANCE,
    Reading,
    evaluate,
    outcome,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("reading, expected", [
    (Reading(status=200, events=5, finished=True, done=True), COMPLETE),
    (Reading(status=200, events=2, error_event=True, done=True), ERROR_EVENT),
    (Reading(status=503, envelope=True), "HTTP 503"),
    (Reading(status=502, envelope=False), "lost: HTTP 502 without an error envelope"),
    (Reading(status=200, events=2, finished=False, done=False), "lost: no [DONE]"),
    (Reading(status=200, events=2, error_event=True, done=False), "lost: no [DONE]"),
    (Reading(status=200, events=3, finished=False, done=True), "lost: [DONE] without a finish_reason"),
    (Reading(status=200, events=3, finished=True, done=True, after_done=True), "lost: events after [DONE]"),
    (Reading(status=200, events=1, failure="ClientPayloadError"), "lost: ClientPayloadError"),
    (Reading(failure="ServerDisconnectedError"), "lost: ServerDisconnectedError"),
    (Reading(), "lost: no answer"),
    (Reading(status=200, events=1, hung=True), HUNG),
    (Reading(status=200, events=1, left=True), LEFT),
])
def test_outcome_of_one_stream(reading, expected):
    assert outcome(reading) == expected
    assert soak_results.is_lost(expected) == expected.startswith("lost")


@pytest.mark.parametrize("body, envelope", [
    ({"error": {"message": "Gemini is overloaded.", "type": "server_error", "param": None, "code": "overloaded"}},
     True),
    ({"error": {"message": "", "type": "server_error", "param": None, "code": None}}, False),
    ({"error": {"message": "no code", "type": "server_error", "param": None}}, False),
    ({"error": "text"}, False),
    ("<html>502</html>", False),
    (None, False),
])
def test_error_envelope(body, envelope):
    assert soak_results.is_envelope(body) is envelope


def process(pid: int, rss_mb: float, fds: int, threads: int, to_emulator: int = 0, from_clients: int = 0) -> dict:
    return {"pid": pid, "rss": int(rss_mb * MB), "fds": fds, "threads": threads,
            "connections": to_emulator + from_clients, "to_emulator": to_emulator, "from_clients": from_clients}


def passing_results() -> dict:
    """A soak in which every check holds: two workers, one of them warm at baseline (holding two
    kept-alive upstream connections and the metric files the other has not opened yet)."""
    counts = {NONE: {COMPLETE: 950}, **{kind: {"HTTP 503": 6} for kind in FAULTS}}
    counts.update({"midstream": {ERROR_EVENT: 6}, "block": {COMPLETE: 6}, "client-abort": {LEFT: 6}})
    baseline = {"arbiter": process(10, 30, 8, 1, from_clients=0),
                "workers": [process(11, 80, 18, 5, to_emulator=2), process(12, 79, 12, 1)],
                "emulator": process(20, 30, 6, 3, from_clients=2)}
    after = {"arbiter": process(10, 30, 8, 1),
             "workers": [process(11, 88, 16, 150), process(12, 86, 16, 152)],
             "emulator": process(20, 60, 4, 1)}
    samples = [{"t": t, "in_flight": 300 if t < 10 else 0, "workers_rss": int(170 * MB), "worker_rss_max": int(88 * MB),
                "workers_fds": 400 if t < 10 else 32, "worker_fds_max": 200 if t < 10 else 16, "workers_threads": 300,
                "worker_pids": [11, 12], "arbiter_fds": 8, "emulator_fds": 300 if t < 10 else 4,
                "emulator_rss": int(60 * MB), "emulator_threads": 300} for t in range(15)]
    return {"date": "2026-12-01T00:00:00+00:00", "command": "python bench/soak.py --seconds 10", "commit": "abc",
            "plan": {"seconds": 10, "streams": 300, "fault_rate": 0.05, "idle": 5, "deadline": 30.0, "ramp": 3.0,
                     "tokens": 100, "ttft": 0.2, "tokens_per_second": 50.0, "chunk_tokens": 10, "sample_every": 1.0,
                     "seed": 11},
            "machine": {"cpus": 2, "memory_gib": 23.5, "python": "3.11.7"}, "load_seconds": 10.0, "max_in_flight": 300,
            "upstream_calls": 1000, "counts": counts, "latency": {NONE: {"p50": 2.3, "p99": 3.0, "max": 3.5}},
            "baseline": baseline, "after": after, "load_samples": 10, "samples": samples, "log_errors": [],
            "phases": {"start": 5.0, "warm-up": 4.0, "load": 10.0, "idle": 5.0, "stop": 2.0}}


def failed(results: dict) -> dict[str, str]:
    return {check["name"]: check["detail"] for check in evaluate(results) if not check["met"]}


def test_a_soak_within_every_bound_passes():
    assert failed(passing_results()) == {}


def test_the_idle_file_bound_is_the_warmest_workers_files_less_its_connections():
    assert soak_results.fixed_fds(passing_results()["baseline"]) == {"arbiter": 8, "worker": 16, "emulator": 4}


def changed(**paths) -> dict:
    results = copy.deepcopy(passing_results())
    for path, value in paths.items():
        *parents, leaf = path.split("__")
        target = results
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[int(leaf) if isinstance(target, list) else leaf] = value
    return results


@pytest.mark.parametrize("results, check, detail", [
    (changed(counts__503={"HTTP 503": 5, "lost: no [DONE]": 1}), "0 lost", "503: lost: no [DONE]: 1"),
    (changed(counts__drop={"lost: ClientPayloadError": 2, ERROR_EVENT: 4}), "0 lost",
     "drop: lost: ClientPayloadError: 2"),
    (changed(counts__500={"HTTP 500": 5, HUNG: 1}), "0 hung", "500: hung: 1"),
    (changed(counts__none={COMPLETE: 949, "HTTP 502": 1}), "Every request without an injected fault complete",
     "none: HTTP 502: 1"),
    (changed(counts__midstream={COMPLETE: 6}), "No injected error passed on as a successful answer",
     "midstream: complete: 6"),
    (changed(counts__429={}), "Every fault kind injected", "missing: 429"),
    (changed(max_in_flight=250), "300 streams open at once", "at most 250 open"),
    (changed(samples__3__worker_pids=[11, 13]), "No worker died or was restarted", "(11, 13)"),
    (changed(log_errors=['{"level": "error", "message": "unexpected error"}']), "No ERROR line", "unexpected error"),
])
def test_each_check_fails_on_what_it_is_for(results, check, detail):
    found = failed(results)
    assert len(found) == 1, found
    ((name, shown),) = found.items()
    assert name.startswith(check)
    assert detail in shown


def test_an_idle_upstream_connection_left_open_fails_the_file_checks_and_says_so():
    results = passing_results()
    results["after"]["workers"][1] = process(12, 86, 16 + 75, 152, to_emulator=75)
    results["after"]["emulator"] = process(20, 60, 4 + 75, 76, from_clients=75)
    found = failed(results)
    assert set(found) == {"Workers' open files back to their idle set after 5 s idle (no connection left open)",
                          "Emulator's open files back to its idle set after 5 s idle"}
    assert "worker 12: 91 (bound 16): 75 over, 75 TCP connections open (75 to the emulator, 0 from clients)" in found[
        "Workers' open files back to their idle set after 5 s idle (no connection left open)"]


def test_a_file_opened_and_never_closed_fails_the_file_check_without_any_connection():
    found = failed(changed(after__workers__0__fds=17))
    assert list(found) == ["Workers' open files back to their idle set after 5 s idle (no connection left open)"]
    assert "worker 11: 17 (bound 16): 1 over" in next(iter(found.values()))


def test_worker_memory_bound_grows_with_the_threads_kept_and_no_more():
    results = passing_results()
    baseline, worker = results["baseline"]["workers"][1], results["after"]["workers"][1]
    bound = baseline["rss"] + (worker["threads"] - baseline["threads"]) * THREAD_ALLOWANCE + WORKER_ALLOWANCE
    assert soak_results.memory_bound(baseline, worker) == bound
    worker["rss"] = bound
    assert failed(results) == {}
    worker["rss"] = bound + 1
    (name,) = failed(results)
    assert name.startswith("Workers' memory within bound")


def test_a_restarted_worker_has_no_memory_bound_to_meet():
    results = changed(after__workers__1__pid=13)
    assert {name.split(":")[0] for name in failed(results)} >= {"No worker died or was restarted",
                                                                "Workers' memory within bound after 5 s idle"}


def test_markdown_shows_the_figures_and_the_verdicts():
    results = passing_results()
    results["checks"] = evaluate(results)
    text = soak_results.markdown(results)
    assert "| Lost | 0 |" in text
    assert "| Hung (open longer than 30 s) | 0 |" in text
    assert "| midstream | `[emulator fault=midstream after=2 code=503]` | 6 | error event: 6 |" in text
    assert "| Workers' open files, each | 12-18 | 200 | 16 | 16 |" in text
    assert "Open files back within bound: 1.0 s after the load." in text
    assert "**failed**" not in text


def test_update_docs_replaces_only_the_generated_section(tmp_path):
    docs = tmp_path / "reliability.md"
    soak_results.update_docs(docs, "first figures\n", "bench/results/a.json")
    docs.write_text("# Reliability\n\nWritten by hand.\n\n" + docs.read_text().lstrip() + "\nAfter, by hand.\n")
    soak_results.update_docs(docs, "second figures\n", "bench/results/b.json")
    text = docs.read_text()
    assert text.startswith("# Reliability\n\nWritten by hand.\n")
    assert text.endswith("\nAfter, by hand.\n")
    assert "first figures" not in text
    assert soak_results.generated_section(text) == ("bench/results/b.json", "second figures\n")


def test_the_docs_carry_the_figures_of_a_stored_soak_run():
    section = soak_results.generated_section((ROOT / "docs" / "reliability.md").read_text())
    assert section, "no generated soak section: python bench/soak.py --seconds 600 --docs docs/reliability.md"
    source, body = section
    results = json.loads((ROOT / source).read_text())
    assert results["plan"]["streams"] >= 300
    assert results["plan"]["fault_rate"] >= 0.05
    results["checks"] = evaluate(results)
    assert body == soak_results.markdown(results), (
        f"docs/reliability.md's soak section is not what {source} gives: "
        f"python bench/soak_results.py {source} docs/reliability.md")
