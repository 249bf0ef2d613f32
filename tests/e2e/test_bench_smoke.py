"""The benchmark harness (bench/run.py --smoke) runs end to end, so it cannot rot: every target
starts, serves, is measured and stopped, and the JSON, Markdown and charts are written.

Starts real processes on loopback (the emulator, gunicorn with the gateway, the bare and the
tutorial apps); LiteLLM is left out (its virtualenv takes minutes to build).
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.processes import ROOT

pytestmark = pytest.mark.e2e


def test_bench_smoke_serves_every_target_and_writes_the_report(tmp_path):
    result = subprocess.run([sys.executable, "bench/run.py", "--smoke", "--out", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    (path,) = tmp_path.glob("*-smoke.json")
    results = json.loads(path.read_text())
    assert results["smoke"] is True
    assert results["failures"] == []
    assert results["skipped"] == {"litellm": "not asked for (--smoke runs without LiteLLM unless --litellm is given)"}
    measured = {(row["target"], row["mode"]) for row in results["runs"]}
    assert measured == {("direct", "nonstream"), ("direct-sdk", "nonstream"), ("gateway", "nonstream"),
                        ("bare", "nonstream"), ("tutorial", "nonstream"), ("direct", "stream"),
                        ("direct-sdk", "stream"), ("gateway", "stream"), ("bare", "stream"), ("tutorial", "stream")}
    for row in results["runs"]:
        assert row["ok"] == row["requests"] > 0, row
        assert row["errors"] == {}, row
        assert row["throughput_rps"] > 0, row
        assert row["latency_ms"]["p50"] > 0, row
        if not row["target"].startswith("direct"):
            # The kernel counts a process's CPU in 10-ms ticks: the bare relay's few streams
            # (about 2 ms each) can fall under one tick in every one of its processes.
            cpu = row["cpu_ms_per_request"]
            assert cpu > 0 or (row["target"] == "bare" and cpu == 0), row
            assert row["peak_rss_mb"] > 0, row
        if row["mode"] == "stream":
            assert row["completed"] == row["requests"], row
            assert row["ttft_ms"]["p50"] > 0, row
            if row["target"] != "tutorial":  # the tutorial's words carry no emulator stamps
                assert row["relay_ms"]["n"] > 0, row
                assert row["relay_ms"]["p99"] is not None, row
    streamed = {row["target"]: row["requests"] for row in results["runs"]
                if row["mode"] == "stream" and "api" not in row}
    # Side by side (the gateway's two APIs, the bare stack) a stream level is taken twice, in turns; alone, once.
    assert streamed["gateway"] == streamed["bare"] == 2 * streamed["direct"] == 2 * streamed["tutorial"], streamed
    checks = {check["name"]: check for check in results["targets"]}
    added = [check for name, check in checks.items() if name.startswith("Added latency at concurrency 1")]
    assert len(added) == 1
    assert "google-genai SDK" in added[0]["name"]
    assert added[0]["met"] is not None
    assert checks["Time to first token >= 10x lower than the tutorial's design"]["met"] is not None
    stem = path.stem
    assert (tmp_path / f"{stem}.md").read_text().startswith("# Benchmark run")
    for chart in ("throughput", "ttft"):
        assert (tmp_path / f"{stem}-{chart}.png").read_bytes().startswith(b"\x89PNG")


def test_responses_cost_splits_each_request_into_its_phases():
    """bench/responses_cost.py times the relay's functions by name: a rename would stop it."""
    result = subprocess.run([sys.executable, "bench/responses_cost.py", "--requests", "5", "--warm"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split(" | ")[0].strip("| "): [float(cell) for cell in line.strip("| ").split(" | ")[1:]]
            for line in result.stdout.splitlines() if line.startswith("| ") and not line.startswith("| request")}
    assert set(rows) == {"chat completion", "Response, store: false", "Response, stored"}
    for case, (total, load, prepare, upstream, translate, store, rest) in rows.items():
        assert min(total, load, prepare, upstream, translate, rest) > 0, case
        assert upstream + store < total, case
    assert rows["chat completion"][5] == 0
    assert rows["Response, stored"][5] > rows["Response, store: false"][5]
