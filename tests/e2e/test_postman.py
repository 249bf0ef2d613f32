"""The Postman collection, run by newman against gunicorn (with gunicorn.conf.py) and the
emulator: every request's pm.test assertions must pass.

The server is started the way the collection's error cases expect: client keys on (the
environment's apiKey is the one good key) and a small MAX_BODY_BYTES for the oversized body.
Needs Node and postman/node_modules (bash scripts/install-node-deps.sh); skips without them.
"""
import json
import shutil
import subprocess

import pytest

from tests.support.processes import ROOT, start_gunicorn

pytestmark = pytest.mark.e2e

POSTMAN = ROOT / "postman"
COLLECTION = POSTMAN / "gemini-proxy.postman_collection.json"
ENVIRONMENT = POSTMAN / "gemini-proxy.postman_environment.json"
NEWMAN = POSTMAN / "node_modules" / ".bin" / "newman"
MAX_BODY_BYTES = 65536


def environment_value(key: str) -> str:
    values = json.loads(ENVIRONMENT.read_text())["values"]
    return next(v["value"] for v in values if v["key"] == key)


def requests_in(items: list) -> list[str]:
    names = []
    for item in items:
        names += requests_in(item["item"]) if "item" in item else [item["name"]]
    return names


@pytest.fixture(scope="module")
def newman():
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the Postman collection runs with newman (Node)")
    if not NEWMAN.exists():
        pytest.skip("newman is not installed: run `bash scripts/install-node-deps.sh`")
    return str(NEWMAN)


@pytest.fixture(scope="module")
def keyed_gateway(emulator_process):
    server = start_gunicorn(GEMINI_BASE_URL=emulator_process, UPSTREAM_RETRIES="0",
                            GATEWAY_API_KEYS=environment_value("apiKey"), MAX_BODY_BYTES=str(MAX_BODY_BYTES))
    yield server
    assert server.stop() == 0


def test_the_environment_matches_the_server_the_collection_expects():
    assert environment_value("maxBodyBytes") == str(MAX_BODY_BYTES)
    assert {"baseUrl", "apiKey", "model"} <= {v["key"] for v in json.loads(ENVIRONMENT.read_text())["values"]}


def test_newman_passes_the_whole_collection(newman, keyed_gateway, tmp_path):
    report = tmp_path / "newman.json"
    run = subprocess.run(
        [newman, "run", str(COLLECTION), "--environment", str(ENVIRONMENT), "--working-dir", str(POSTMAN),
         "--env-var", f"baseUrl={keyed_gateway.url}", "--reporters", "cli,json",
         "--reporter-json-export", str(report), "--color", "off", "--timeout-request", "30000"],
        capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, f"newman failed:\n{run.stdout[-20000:]}\n{run.stderr[-5000:]}"

    summary = json.loads(report.read_text())["run"]
    expected = requests_in(json.loads(COLLECTION.read_text())["item"])
    ran = [execution["item"]["name"] for execution in summary["executions"]]
    assert ran == expected, "newman did not run every request of the collection, in order"
    assert summary["failures"] == []
    assert summary["stats"]["assertions"]["failed"] == 0
    for execution in summary["executions"]:
        # The collection's own check plus at least status, content type and shape.
        assert len(execution.get("assertions", [])) >= 4, f"{execution['item']['name']} asserts too little"
