"""An agent loop written with the official OpenAI SDK, against gunicorn and the emulator:
tool calls (two in parallel) -> tool results -> final answer, streamed and not, on a model
that refuses a history without its thought signatures."""
import json

import openai
import pytest
import requests

from tests.support.processes import start_gunicorn

pytestmark = pytest.mark.e2e

MODEL = "gemini-3-pro-preview"
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city.", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
    {"type": "function", "function": {"name": "get_time", "description": "Local time in a city.", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
]
RESULTS = {"get_weather": {"temperature_c": 21, "condition": "sunny"}, "get_time": {"time": "14:05"}}


def run_tools(message) -> list[dict]:
    return [{"role": "tool", "tool_call_id": call.id, "content": json.dumps(RESULTS[call.function.name])}
            for call in message.tool_calls]


def ask(client, messages, stream):
    if not stream:
        return client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS).choices[0]
    with client.chat.completions.stream(model=MODEL, messages=messages, tools=TOOLS) as events:
        return events.get_final_completion().choices[0]


def signatures_verified(emulator_url):
    return requests.get(f"{emulator_url}/emulator/stats", timeout=5).json()["signatures_verified"]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_agent_loop_with_parallel_calls(sdk, emulator_process, stream):
    before = signatures_verified(emulator_process)
    messages = [{"role": "user", "content": "In Paris, use get_weather and get_time, then sum it up."}]
    choice = ask(sdk, messages, stream)
    assert choice.finish_reason == "tool_calls"
    assert [c.function.name for c in choice.message.tool_calls] == ["get_weather", "get_time"]
    assert all(json.loads(c.function.arguments) == {"city": "Paris"} for c in choice.message.tool_calls)
    messages += [choice.message.model_dump(exclude_none=True), *run_tools(choice.message)]
    final = ask(sdk, messages, stream)
    assert final.finish_reason == "stop"
    assert not final.message.tool_calls
    assert "21" in final.message.content
    assert "14:05" in final.message.content
    assert signatures_verified(emulator_process) == before + 1


def test_signatures_survive_a_restart_of_the_gateway(emulator_process, tmp_path):
    env = {"GEMINI_BASE_URL": emulator_process, "UPSTREAM_RETRIES": "0", "SIGNATURE_DB": str(tmp_path / "sig.sqlite3")}
    messages = [{"role": "user", "content": "Use get_weather for Paris."}]
    first = start_gunicorn(**env)
    try:
        with openai.OpenAI(base_url=f"{first.url}/v1", api_key="k", max_retries=0) as client:
            choice = ask(client, messages, stream=False)
    finally:
        assert first.stop() == 0
    messages += [choice.message.model_dump(exclude_none=True), *run_tools(choice.message)]
    before = signatures_verified(emulator_process)
    second = start_gunicorn(**env)
    try:
        with openai.OpenAI(base_url=f"{second.url}/v1", api_key="k", max_retries=0) as client:
            assert "21" in ask(client, messages, stream=False).message.content
    finally:
        assert second.stop() == 0
    assert signatures_verified(emulator_process) == before + 1


FINAL_RESULT = {"type": "function", "function": {
    "name": "final_result", "description": "The agent's answer.",
    "parameters": {"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"]}}}


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_a_required_tool_loop_calls_a_tool_on_every_turn_and_ends_on_its_output_tool(sdk, stream):
    """tool_choice "required" is Gemini's mode ANY: a function is called after a tool result too
    (pydantic-ai's tool-output agents end only on their final_result tool)."""
    tools = [TOOLS[0], FINAL_RESULT]
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    names = []
    for _ in range(2):
        kwargs = {"model": MODEL, "messages": messages, "tools": tools, "tool_choice": "required"}
        if stream:
            with sdk.chat.completions.stream(**kwargs) as events:
                choice = events.get_final_completion().choices[0]
        else:
            choice = sdk.chat.completions.create(**kwargs).choices[0]
        assert choice.finish_reason == "tool_calls"
        assert not choice.message.content
        (call,) = choice.message.tool_calls
        names.append(call.function.name)
        result = json.dumps(RESULTS.get(call.function.name, {}))
        messages += [choice.message.model_dump(exclude_none=True),
                     {"role": "tool", "tool_call_id": call.id, "content": result}]
    assert names == ["get_weather", "final_result"]
    assert isinstance(json.loads(call.function.arguments)["summary"], str)
