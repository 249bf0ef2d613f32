"""Every client in examples/ runs against gunicorn and the emulator and prints an answer, so
the examples never rot. Each gets the gateway's URL as OPENAI_BASE_URL (and a key as
OPENAI_API_KEY), as a user would set them. The Node example needs node and
examples/node/node_modules (bash scripts/install-node-deps.sh), the curl one curl; they skip
without them."""
import os
import shutil
import subprocess
import sys

import pytest

from tests.support.processes import ROOT

pytestmark = pytest.mark.e2e

EXAMPLES = ROOT / "examples"


def run_example(command: list[str], gateway, cwd=ROOT) -> str:
    env = {**os.environ, "OPENAI_BASE_URL": f"{gateway.url}/v1", "OPENAI_API_KEY": "any-key"}
    run = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=90, check=False)
    assert run.returncode == 0, f"{' '.join(command)} exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
    assert run.stdout.strip(), f"{' '.join(command)} printed no answer"
    return run.stdout


@pytest.mark.parametrize("script", ["python/chat.py", "python/stream.py", "langchain/chat.py"])
def test_python_chat_examples_print_an_answer(gateway, script):
    output = run_example([sys.executable, str(EXAMPLES / script)], gateway)
    assert len(output.split()) >= 5, output


def test_python_tools_example_calls_the_tool_and_answers_with_its_result(gateway):
    output = run_example([sys.executable, str(EXAMPLES / "python/tools.py")], gateway).splitlines()
    assert output[0] == "-> get_weather({'city': 'Paris'})"
    # The emulator answers a function response by quoting it.
    assert "21" in output[-1]


def test_python_embeddings_example_prints_their_similarity(gateway):
    output = run_example([sys.executable, str(EXAMPLES / "python/embeddings.py")], gateway)
    assert output.startswith("2 embeddings of ")
    assert "cosine similarity" in output


def test_node_stream_example_prints_an_answer(gateway):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the Node example needs it")
    if not (EXAMPLES / "node" / "node_modules" / "openai").is_dir():
        pytest.skip("the Node example's packages are not installed: run `bash scripts/install-node-deps.sh`")
    output = run_example([node, "stream.mjs"], gateway, cwd=EXAMPLES / "node")
    assert len(output.split()) >= 5, output


def test_curl_example_prints_an_answer_and_a_stream(gateway):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed: the curl example needs it")
    output = run_example(["bash", str(EXAMPLES / "curl/chat.sh")], gateway)
    assert '"object":"chat.completion"' in output.replace(" ", "")
    assert output.rstrip().endswith("data: [DONE]")
    assert "chat.completion.chunk" in output
