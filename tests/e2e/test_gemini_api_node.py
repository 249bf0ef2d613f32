"""Gemini's own API through gunicorn from Node, with the emulator as Gemini: Google's
@google/genai SDK (httpOptions.baseUrl = the gateway, apiKey = a gateway client key) for generate,
stream, count tokens, embed and models, and Gemini CLI in non-interactive prompt mode
(`gemini -p`, GOOGLE_GEMINI_BASE_URL = the gateway) answering and exiting 0, on its own default
models (a router call on a Flash-Lite model with a JSON schema, then the answer streamed from a
Flash model) and on one given with `-m`. Both live in examples/node-gemini (installed by
`bash scripts/install-node-deps.sh`); without node or those packages the tests skip and say why
(with CI=true a skip fails). Each runs with the gateway on AI Studio and on Vertex AI
(service-account flow). The emulator is this module's own, so its request log holds only what
these clients sent."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from gemini_emulator.process import start_process, stop_process
from gemini_emulator.wire import decode_base64
from tests.support.processes import ROOT, free_port, start_gunicorn
from tests.support.vertex import LOCATION, PROJECT, service_account_info, write_service_account

pytestmark = pytest.mark.e2e

FOLDER = ROOT / "examples" / "node-gemini"
CLIENT_KEY = "gw-node-client-key-4e1a9c07b2"
UPSTREAM_KEY = "gw-node-upstream-key-8d3f61a5e0"
SAID = "Bonjour, café crème 🌍."
# What a user's ~/.gemini/settings.json needs for `gemini -p` against a base URL: the API-key
# auth type (from the environment alone Gemini CLI picks "gateway", which headless mode refuses
# with exit 41), no usage statistics (they go to Google, unreachable here), no update check.
SETTINGS = {
    "security": {"auth": {"selectedType": "gemini-api-key"}},
    "privacy": {"usageStatisticsEnabled": False},
    "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
}


def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed: the @google/genai and Gemini CLI tests need it")
    return path


def installed(package: str) -> None:
    if not (FOLDER / "node_modules" / package).is_dir():
        pytest.skip(f"{package} is not installed in examples/node-gemini: run `bash scripts/install-node-deps.sh`")


@pytest.fixture(scope="module")
def service_account(tmp_path_factory):
    """(emulator port, a service-account file whose token_uri is that emulator's)."""
    port = free_port()
    info = service_account_info(f"http://127.0.0.1:{port}")
    return port, write_service_account(tmp_path_factory.mktemp("node-vertex") / "service-account.json", info)


@pytest.fixture(scope="module")
def emulator(service_account):
    port, key_file = service_account
    process = start_process(port, extra_args=("--service-account-key", str(key_file)))
    yield f"http://127.0.0.1:{port}"
    stop_process(process)


@pytest.fixture(scope="module")
def gateway_log(tmp_path_factory):
    return tmp_path_factory.mktemp("node-gemini") / "gunicorn.log"


@pytest.fixture(scope="module", params=["ai-studio", "vertex"])
def native_gateway(request, emulator, service_account, gateway_log):
    backend = ({"GEMINI_BASE_URL": emulator, "GEMINI_API_KEY": UPSTREAM_KEY} if request.param == "ai-studio"
               else {"GEMINI_BACKEND": "vertex", "VERTEX_PROJECT": PROJECT, "VERTEX_LOCATION": LOCATION,
                     "VERTEX_CREDENTIALS_FILE": str(service_account[1]), "VERTEX_BASE_URL": emulator})
    with gateway_log.open("w") as sink:
        server = start_gunicorn(stderr=sink, UPSTREAM_RETRIES="0", ACCESS_LOG="-",
                                GATEWAY_API_KEYS=f"{CLIENT_KEY} node", **backend)
        server.vertex = request.param == "vertex"
        yield server
        assert server.stop() == 0


@pytest.fixture
def seen(emulator):
    """The requests the emulator gets from here on (model, method, body), oldest first."""
    requests.post(f"{emulator}/emulator/reset", timeout=5).raise_for_status()

    def recorded() -> list[dict]:
        return requests.get(f"{emulator}/emulator/requests", params={"last": 100, "method": "all"}, timeout=5).json()
    return recorded


def clean_env(**env: str) -> dict[str, str]:
    """Only PATH from the parent: no GEMINI_*/GOOGLE_* setting of the developer's leaks in."""
    return {"PATH": os.environ["PATH"], "NO_COLOR": "1", **env}


@pytest.mark.parametrize("version", [None, "v1beta"], ids=["sdk-default-version", "v1beta"])
def test_google_genai_for_node(native_gateway, seen, tmp_path, version):
    command = [node(), "genai.mjs"]
    installed("@google/genai")
    env = clean_env(HOME=str(tmp_path), GEMINI_PROXY_URL=native_gateway.url, GEMINI_API_KEY=CLIENT_KEY,
                    STREAM_PROMPT="[emulator ttft=0.1 tps=40 tokens=40] Tell me about the sea.",
                    **({"API_VERSION": version} if version else {}))
    run = subprocess.run(command, cwd=FOLDER, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, f"node genai.mjs exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
    *streamed, last = run.stdout.strip().splitlines()
    result = json.loads(last)
    assert result["generate"]["text"].strip()
    assert result["generate"]["modelVersion"] == "gemini-2.5-flash"
    assert result["generate"]["totalTokens"] > 0
    stream = result["stream"]
    assert stream["chunks"] > 1
    assert len([line for line in streamed if line.startswith("chunk ")]) == stream["chunks"]
    # 40 tokens at 40 a second: the first chunk came well before the last, not all at once.
    assert stream["arrivalsMs"][-1] - stream["arrivalsMs"][0] > 500
    assert len(stream["text"].split()) >= 5
    assert result["totalTokens"] > 0
    assert result["embeddingLengths"] == [16, 16]
    assert "models/gemini-2.5-flash" in result["models"]
    assert len(result["models"]) > 3  # pages followed through the gateway
    methods = [(r["method"], r["version"]) for r in seen()]
    # Vertex AI is called in its own version whatever the client used.
    expected = "v1beta1" if native_gateway.vertex else version or methods[0][1]
    assert {v for _, v in methods} == {expected}
    assert [m for m, _ in methods] == ["generateContent", "streamGenerateContent", "countTokens", "batchEmbedContents"]


def gemini_cli(gateway, tmp_path: Path, prompt: str, *options: str, key: str = CLIENT_KEY
               ) -> subprocess.CompletedProcess:
    """`gemini -p` as a user runs it headless against the gateway: a fresh HOME with the
    settings above, the workspace trusted (else exit 55), in an empty folder."""
    binary = FOLDER / "node_modules" / ".bin" / "gemini"
    node()
    installed("@google/gemini-cli")
    home = tmp_path / "home"
    (home / ".gemini").mkdir(parents=True)
    (home / ".gemini" / "settings.json").write_text(json.dumps(SETTINGS))
    work = tmp_path / "work"
    work.mkdir()
    # TMPDIR: Gemini CLI writes an error report there when a call fails.
    env = clean_env(HOME=str(home), TMPDIR=str(tmp_path), GOOGLE_GEMINI_BASE_URL=gateway.url, GEMINI_API_KEY=key,
                    GEMINI_CLI_TRUST_WORKSPACE="true", TERM="dumb")
    return subprocess.run([str(binary), *options, "-p", prompt], cwd=work, env=env, capture_output=True, text=True,
                          timeout=180, check=False, stdin=subprocess.DEVNULL)


def replayed_text(emulator: str, request: dict) -> str:
    """The text the emulator answers to a recorded request (it answers the same body the same
    way), asked directly and not streamed."""
    answer = requests.post(f"{emulator}/{request['version']}/models/{request['model']}:generateContent",
                           headers={"x-goog-api-key": UPSTREAM_KEY}, json=request["body"], timeout=30)
    answer.raise_for_status()
    parts = answer.json()["candidates"][0]["content"]["parts"]
    return "".join(part.get("text", "") for part in parts if not part.get("thought"))


def test_gemini_cli_answers_on_its_default_models(native_gateway, emulator, seen, tmp_path):
    """Gemini CLI's default model is "auto": a router call on a Flash-Lite model whose
    responseJsonSchema the emulator honours (a non-JSON answer makes Gemini CLI retry, then hang),
    then the answer streamed from the model it chose. No `say=` directive here: it would reach the
    router call too, whose answer must stay JSON."""
    run = gemini_cli(native_gateway, tmp_path, "Tell me about the sea.")
    assert run.returncode == 0, f"gemini -p exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
    calls = seen()
    router, *_, answered = calls
    assert router["method"] == "generateContent"
    assert "flash-lite" in router["model"]
    config = router["body"]["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert set(config["responseJsonSchema"]["properties"]) == {"complexity_reasoning", "complexity_score"}
    assert answered["method"] == "streamGenerateContent"
    assert answered["body"]["tools"][0]["functionDeclarations"]
    text = replayed_text(emulator, answered)
    assert len(text.split()) >= 5
    assert text.strip() in run.stdout


def test_gemini_cli_answers_on_a_model_given_with_m(native_gateway, seen, tmp_path):
    run = gemini_cli(native_gateway, tmp_path, f'Say hello. [emulator say="{SAID}"]', "-m", "gemini-2.5-flash",
                     "--output-format", "json")
    assert run.returncode == 0, f"gemini -p exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
    output = json.loads(run.stdout[run.stdout.index("{"):])
    assert output["response"].strip() == SAID
    assert {r["model"] for r in seen()} == {"gemini-2.5-flash"}


def test_gemini_cli_runs_its_web_search_tool_on_gemini_3(native_gateway, seen, tmp_path):
    """The model calls google_web_search (the emulator calls a function the prompt names); Gemini
    CLI runs it as its own generateContent call with the googleSearch tool on
    gemini-3-flash-preview, then sends the result back with the call's thought signature, which
    Gemini 3 requires (the emulator refuses a turn without it)."""
    run = gemini_cli(native_gateway, tmp_path, "Use google_web_search to find the tallest mountain on Earth.",
                     "--output-format", "json")
    assert run.returncode == 0, f"gemini -p exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
    output = json.loads(run.stdout[run.stdout.index("{"):])
    # The emulator answers a function result by quoting it.
    assert output["response"].startswith("google_web_search returned ")
    router, asked, searched, answered = seen()
    assert (router["method"], asked["method"], answered["method"]) == (
        "generateContent", "streamGenerateContent", "streamGenerateContent")
    assert (searched["model"], searched["method"]) == ("gemini-3-flash-preview", "generateContent")
    assert searched["body"]["tools"] == [{"googleSearch": {}}]
    *_, call, result = answered["body"]["contents"]
    (called,) = [part for part in call["parts"] if "functionCall" in part]
    assert called["functionCall"]["name"] == "google_web_search"
    assert decode_base64(called["thoughtSignature"]).startswith(b"emu-sig:")
    assert result["parts"][0]["functionResponse"]["name"] == "google_web_search"


def test_gemini_cli_with_a_key_the_gateway_does_not_know_fails(native_gateway, tmp_path):
    """The gateway's 400 API_KEY_INVALID reaches Gemini CLI as Google's would: it says so and
    exits non-zero instead of hanging."""
    run = gemini_cli(native_gateway, tmp_path, "Say hello.", "-m", "gemini-2.5-flash", key="not-a-gateway-key")
    assert run.returncode != 0
    assert "API key not valid" in run.stdout + run.stderr
