"""The fleet of docs/deployment.md on loopback (scripts/fleet.py): two gunicorn trees behind real
nginx, one real Redis, the emulator with two keys; what clients see when a key is rate-limited,
an instance is killed or Redis goes away."""
import json
import subprocess
import sys

import pytest

from tests.support import ROOT
from tests.support.processes import installed

pytestmark = pytest.mark.e2e


def test_a_fleet_behaves_as_one_gateway_and_survives_its_failures(tmp_path, capsys):
    installed("nginx", "nginx")
    installed("redis-server", "redis-server")
    outcomes = tmp_path / "fleet.json"
    run = subprocess.run([sys.executable, "scripts/fleet.py", "--json", str(outcomes)], cwd=ROOT,
                         check=False, capture_output=True, text=True, timeout=240)
    with capsys.disabled():
        print("\n" + run.stdout)
    assert run.returncode in (0, 1), run.stderr[-3000:]
    rows = json.loads(outcomes.read_text())
    assert [r["scenario"] for r in rows if not r["ok"]] == [], run.stdout
    assert len(rows) == 5
