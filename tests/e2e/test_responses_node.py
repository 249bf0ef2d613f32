"""The Node clients of OpenAI's Responses API against gunicorn and the emulator: the Vercel AI SDK's
default openai(model) provider (generateText with a tool, streamText, generateObject with a zod
schema) and OpenAI's Codex CLI (`codex exec` with a custom provider, wire_api = "responses").
Both live in examples/node-responses (installed by `bash scripts/install-node-deps.sh`); without
node or those packages the tests skip and say why (with CI=true a skip fails)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import requests

from gemini_emulator.wire import decode_base64
from tests.support.processes import ROOT

pytestmark = pytest.mark.e2e

FOLDER = ROOT / "examples" / "node-responses"
SAID = "Bonjour, café crème 🌍."
CODEX_CONFIG = """\
model = "{model}"
model_provider = "gemini-proxy"
check_for_update_on_startup = false

[model_providers.gemini-proxy]
name = "gemini-proxy"
base_url = "{url}/v1"
wire_api = "responses"
env_key = "GEMINI_PROXY_API_KEY"

[analytics]
enabled = false
"""


def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed: the AI SDK and Codex tests need it")
    return path


def installed(package: str) -> None:
    if not (FOLDER / "node_modules" / package).is_dir():
        pytest.skip(f"{package} is not installed in examples/node-responses: run `bash scripts/install-node-deps.sh`")


def ai_sdk(gateway, mode: str, model: str = "gemini-2.5-flash") -> dict:
    command = [node(), "ai-sdk.mjs", mode]
    installed("ai")
    env = {**os.environ, "OPENAI_BASE_URL": f"{gateway.url}/v1", "OPENAI_API_KEY": "any-key", "MODEL": model}
    run = subprocess.run(command, cwd=FOLDER, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, f"node ai-sdk.mjs {mode} exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("model", ["gemini-2.5-flash", "gemini-3-pro-preview"])
def test_ai_sdk_generate_text_calls_the_tool_then_answers(gateway, model):
    """The AI SDK's second step sends the function call back as a bare item (no id, no reasoning
    item): on Gemini 3 its thought signature comes from the gateway's store, by call_id."""
    result = ai_sdk(gateway, "tool", model)
    assert result["toolCalls"] == [{"name": "get_weather", "input": {"city": "Paris"}}]
    assert result["toolResults"] == [{"city": "Paris", "temperature_c": 21, "condition": "sunny"}]
    assert result["steps"] == 2
    assert result["finishReason"] == "stop"
    # The emulator answers a function result by quoting it.
    assert "get_weather returned" in result["text"]
    assert result["usage"]["inputTokens"] > 0
    assert result["usage"]["outputTokens"] > 0


def test_ai_sdk_stream_text(gateway):
    result = ai_sdk(gateway, "stream")
    assert result["deltas"] > 1
    assert len(result["text"].split()) >= 5
    assert result["finishReason"] == "stop"
    assert result["usage"]["outputTokens"] > 0


def test_ai_sdk_generate_object_with_a_zod_schema(gateway):
    result = ai_sdk(gateway, "object")
    assert sorted(result["object"]) == ["city", "landmarks", "population"]
    assert isinstance(result["object"]["population"], int)
    assert result["finishReason"] == "stop"


def codex(gateway, tmp_path, prompt: str, model: str = "gemini-2.5-flash", *options: str
          ) -> tuple[subprocess.CompletedProcess, str]:
    """`codex exec` as a user runs it non-interactively: a custom provider in a fresh CODEX_HOME,
    no sandbox prompt (exec never asks; read-only sandbox), outside a git repository."""
    binary = FOLDER / "node_modules" / ".bin" / "codex"
    node()
    installed("@openai/codex")
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(CODEX_CONFIG.format(model=model, url=gateway.url))
    work = tmp_path / "work"
    work.mkdir()
    last = tmp_path / "last-message.txt"
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "CODEX_HOME": str(home),
           "GEMINI_PROXY_API_KEY": "any-key", "NO_COLOR": "1"}
    run = subprocess.run([str(binary), "exec", "--skip-git-repo-check", "--ephemeral", "--sandbox", "read-only",
                          "--color", "never", "--cd", str(work), "--output-last-message", str(last), *options, prompt],
                         env=env, capture_output=True, text=True, timeout=180, check=False, stdin=subprocess.DEVNULL)
    return run, last.read_text() if last.exists() else ""


def test_codex_exec_answers_a_prompt_and_exits_0(gateway, tmp_path):
    run, last = codex(gateway, tmp_path, f'Say hello. [emulator say="{SAID}"]')
    assert run.returncode == 0, f"codex exec exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
    assert last.strip() == SAID
    assert SAID in run.stdout


def test_codex_exec_on_gemini_3(gateway, tmp_path):
    run, last = codex(gateway, tmp_path, "Tell me about the sea.", model="gemini-3-pro-preview")
    assert run.returncode == 0, f"codex exec exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
    assert len(last.split()) >= 5


def test_codex_exec_runs_a_tool_and_sends_back_the_gemini_3_signature(gateway, emulator_process, tmp_path):
    """Codex sends store: false and the whole history each turn: the function call it returns must
    reach Gemini 3 with its thought signature (from the reasoning item's encrypted_content)."""
    run, last = codex(gateway, tmp_path, "Please run exec_command to list the files.", "gemini-3-pro-preview", "--json")
    assert run.returncode == 0, f"codex exec exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
    events = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert events[-1]["type"] == "turn.completed"
    # The emulator answers a function result by quoting it: Codex ran the call and sent its output back.
    assert last.startswith("exec_command returned ")
    (request,) = requests.get(f"{emulator_process}/emulator/requests", params={"last": 1}, timeout=5).json()
    *_, call, result = request["body"]["contents"]
    assert call["role"] == "model"
    assert call["parts"][0]["functionCall"]["name"] == "exec_command"
    # The one the emulator issued (emu-sig:...), not Google's skip_thought_signature_validator stand-in.
    assert decode_base64(call["parts"][0]["thoughtSignature"]).startswith(b"emu-sig:")
    assert result["parts"][0]["functionResponse"]["name"] == "exec_command"
