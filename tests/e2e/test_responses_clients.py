"""The Python clients of OpenAI's Responses API against gunicorn and the emulator: the official
openai SDK (create, tools and the function-call round trip, previous_response_id, the stream
helper, parse, retrieve / delete / input_items, the async client) and the OpenAI Agents SDK with
its default model, which speaks the Responses API (Runner.run and Runner.run_streamed)."""
from __future__ import annotations

import asyncio
import json

import openai
import pytest
from agents import Agent, RunConfig, Runner, function_tool, set_tracing_disabled
from agents.models.openai_provider import OpenAIProvider
from agents.models.openai_responses import OpenAIResponsesModel
from pydantic import BaseModel

pytestmark = pytest.mark.e2e

FLASH = "gemini-2.5-flash"
GEMINI_3 = "gemini-3-pro-preview"
MODELS = [FLASH, GEMINI_3]
WEATHER = {
    "type": "function", "name": "get_weather", "description": "The current weather of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                   "additionalProperties": False},
    "strict": True,
}
ASK_WEATHER = "What is the weather in Paris? Use get_weather."
RESULT = {"city": "Paris", "temperature_c": 21, "condition": "sunny"}
SAID = "Bonjour, café crème 🌍."
QUESTION = "Who won the Euro 2024 final?"


def say(text: str) -> str:
    return f'Hello [emulator say="{text}"]'


def calls_of(response) -> list:
    return [item for item in response.output if item.type == "function_call"]


def call_output(call) -> dict:
    return {"type": "function_call_output", "call_id": call.call_id, "output": json.dumps(RESULT)}


class City(BaseModel):
    name: str
    population: int
    landmarks: list[str]


# --- openai: responses.create ------------------------------------------------------------------------------------


def test_create_answers_in_text(sdk):
    response = sdk.responses.create(model=FLASH, input=say(SAID), instructions="Be brief.")
    assert response.object == "response"
    assert response.id.startswith("resp_")
    assert response.status == "completed"
    assert response.model == FLASH
    assert response.instructions == "Be brief."
    assert response.output_text == SAID
    (message,) = [item for item in response.output if item.type == "message"]
    assert message.role == "assistant"
    assert message.content[0].type == "output_text"
    assert message.content[0].annotations == []
    assert response.usage.input_tokens > 0
    assert response.usage.output_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens


def test_create_with_message_items_and_a_developer_message(sdk):
    response = sdk.responses.create(model=FLASH, input=[
        {"role": "developer", "content": "Answer in one sentence."},
        {"role": "user", "content": [{"type": "input_text", "text": say("Fine, thanks.")}]},
    ])
    assert response.output_text == "Fine, thanks."


@pytest.mark.parametrize("model", MODELS)
def test_function_call_round_trip_sending_the_items_back(sdk, model):
    first = sdk.responses.create(model=model, input=ASK_WEATHER, tools=[WEATHER], store=False)
    (call,) = calls_of(first)
    assert call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"}
    assert call.call_id
    history = [{"role": "user", "content": ASK_WEATHER}, *[item.model_dump(exclude_none=True) for item in first.output],
               call_output(call)]
    second = sdk.responses.create(model=model, input=history, tools=[WEATHER], store=False)
    assert second.status == "completed"
    assert not calls_of(second)
    # The emulator answers a function result by quoting it.
    assert "get_weather returned" in second.output_text
    assert '"temperature_c": 21' in second.output_text


@pytest.mark.parametrize("model", MODELS)
def test_function_call_round_trip_with_previous_response_id(sdk, model):
    first = sdk.responses.create(model=model, input=ASK_WEATHER, tools=[WEATHER])
    (call,) = calls_of(first)
    second = sdk.responses.create(model=model, previous_response_id=first.id, input=[call_output(call)],
                                  tools=[WEATHER])
    assert second.previous_response_id == first.id
    assert '"temperature_c": 21' in second.output_text


def test_previous_response_id_carries_the_conversation(sdk):
    first = sdk.responses.create(model=FLASH, input="My name is Ada. Please remember it.")
    second = sdk.responses.create(model=FLASH, previous_response_id=first.id, input="What is my name?")
    # The emulator opens a multi-turn answer with the first thing the user said.
    assert second.output_text.startswith("You said: My name is Ada.")


def test_an_unknown_previous_response_is_a_400(sdk):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.responses.create(model=FLASH, input="Hi", previous_response_id="resp_0123456789abcdef0123456789abcdef")
    assert caught.value.body["param"] == "previous_response_id"


def test_web_search_cites_its_sources_in_characters(sdk):
    """The emulator's grounded sentences open with multi-byte characters (Über, 東京, 🌍), and Gemini
    counts its citation offsets in UTF-8 bytes: OpenAI's are characters of output_text."""
    response = sdk.responses.create(model=FLASH, input=QUESTION, tools=[{"type": "web_search"}])
    (search,) = [item for item in response.output if item.type == "web_search_call"]
    assert search.status == "completed"
    assert search.action.queries == ["who won the euro 2024 final"]
    (message,) = [item for item in response.output if item.type == "message"]
    text = message.content[0].text
    assert any(ord(character) > 0x7F for character in text)
    annotations = message.content[0].annotations
    assert len(annotations) >= 2
    sentences = {sentence if sentence.endswith(".") else sentence + "." for sentence in text.split(". ")}
    for annotation in annotations:
        assert annotation.type == "url_citation"
        assert annotation.url.startswith("https://")
        assert annotation.title
        assert text[annotation.start_index:annotation.end_index] in sentences
    assert max(annotation.end_index for annotation in annotations) == len(text)


def test_web_search_streamed_gives_the_same_citations(sdk):
    with sdk.responses.stream(model=FLASH, input=QUESTION, tools=[{"type": "web_search"}]) as stream:
        added = [event.annotation for event in stream if event.type == "response.output_text.annotation.added"]
        final = stream.get_final_response()
    (message,) = [item for item in final.output if item.type == "message"]
    assert [annotation.model_dump() for annotation in message.content[0].annotations] == [
        annotation if isinstance(annotation, dict) else annotation.model_dump() for annotation in added]
    text = message.content[0].text
    assert all(text[a.start_index:a.end_index].endswith(".") for a in message.content[0].annotations)


# --- openai: the stream helper, parse ----------------------------------------------------------------------------


def test_stream_helper_reaches_the_final_response(sdk):
    deltas, types = [], []
    with sdk.responses.stream(model=FLASH, input="Tell me about the sea.") as stream:
        for event in stream:
            types.append(event.type)
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert len(deltas) > 1
    assert final.status == "completed"
    assert final.output_text == "".join(deltas)
    assert final.usage.output_tokens > 0


def test_stream_helper_with_a_function_call(sdk):
    with sdk.responses.stream(model=GEMINI_3, input=ASK_WEATHER, tools=[WEATHER]) as stream:
        types = [event.type for event in stream]
        final = stream.get_final_response()
    assert "response.function_call_arguments.delta" in types
    assert "response.function_call_arguments.done" in types
    (call,) = calls_of(final)
    assert json.loads(call.arguments) == {"city": "Paris"}


def test_parse_gives_the_pydantic_model(sdk):
    response = sdk.responses.parse(model=FLASH, input="Describe Paris.", text_format=City)
    assert isinstance(response.output_parsed, City)
    assert City.model_validate_json(response.output_text) == response.output_parsed


# --- openai: stored responses -------------------------------------------------------------------------------------


def test_retrieve_input_items_and_delete(sdk):
    created = sdk.responses.create(model=FLASH, input=say(SAID), metadata={"topic": "greeting"})
    fetched = sdk.responses.retrieve(created.id)
    assert fetched.id == created.id
    assert fetched.output_text == SAID
    assert fetched.metadata == {"topic": "greeting"}
    items = list(sdk.responses.input_items.list(created.id))
    (item,) = items
    assert item.type == "message"
    assert item.role == "user"
    assert item.content[0].text == say(SAID)
    sdk.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(created.id)


def test_input_items_page_through_a_long_input(sdk):
    turns = [{"role": "user", "content": f"Line {n}."} for n in range(5)]
    created = sdk.responses.create(model=FLASH, input=turns)
    page = sdk.responses.input_items.list(created.id, limit=2, order="asc")
    assert [item.content[0].text for item in page.data] == ["Line 0.", "Line 1."]
    assert page.has_more
    every = list(sdk.responses.input_items.list(created.id, limit=2, order="asc"))
    assert [item.content[0].text for item in every] == [f"Line {n}." for n in range(5)]


def test_a_response_not_stored_cannot_be_retrieved(sdk):
    created = sdk.responses.create(model=FLASH, input="Hi", store=False)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(created.id)


# --- openai: the async client -------------------------------------------------------------------------------------


def test_async_client_creates_and_streams(gateway):
    async def run() -> tuple:
        async with openai.AsyncOpenAI(base_url=f"{gateway.url}/v1", api_key="any-key", max_retries=0,
                                      timeout=30) as client:
            created = await client.responses.create(model=FLASH, input=say(SAID))
            async with client.responses.stream(model=FLASH, input="Tell me about rivers.") as stream:
                deltas = [event.delta async for event in stream if event.type == "response.output_text.delta"]
                final = await stream.get_final_response()
            streamed = await client.responses.create(model=FLASH, input="Hi", stream=True)
            types = [event.type async for event in streamed]
            return created, deltas, final, types
    created, deltas, final, types = asyncio.run(run())
    assert created.output_text == SAID
    assert final.output_text == "".join(deltas)
    assert types[0] == "response.created"
    assert types[-1] == "response.completed"


# --- the OpenAI Agents SDK ----------------------------------------------------------------------------------------


@function_tool
def get_weather(city: str) -> str:
    """The current weather of a city.

    Args:
        city: The city, e.g. Paris.
    """
    return json.dumps({**RESULT, "city": city})


@pytest.fixture
def with_agents(gateway):
    """Runs `work(run_config)` in an event loop, the Agents SDK's default model provider pointed at
    the gateway through a client that lives and dies in that loop."""
    set_tracing_disabled(True)  # its traces would go to OpenAI

    def run(work):
        async def main():
            async with openai.AsyncOpenAI(base_url=f"{gateway.url}/v1", api_key="any-key", max_retries=0,
                                          timeout=30) as client:
                provider = OpenAIProvider(openai_client=client)
                assert isinstance(provider.get_model(FLASH), OpenAIResponsesModel)  # the default model
                return await work(RunConfig(model_provider=provider))
        return asyncio.run(main())
    return run


def weather_agent(model: str) -> Agent:
    return Agent(name="Weather", instructions="Answer questions about the weather.", model=model, tools=[get_weather])


@pytest.mark.parametrize("model", MODELS)
def test_agents_runner_calls_the_tool_and_answers(with_agents, model):
    result = with_agents(lambda config: Runner.run(weather_agent(model), ASK_WEATHER, run_config=config))
    calls = [item for item in result.new_items if item.type == "tool_call_item"]
    assert [call.raw_item.name for call in calls] == ["get_weather"]
    assert json.loads(calls[0].raw_item.arguments) == {"city": "Paris"}
    assert "get_weather returned" in result.final_output
    assert '"temperature_c": 21' in result.final_output


@pytest.mark.parametrize("model", MODELS)
def test_agents_runner_streams_the_tool_call_and_the_answer(with_agents, model):
    async def run(config):
        result = Runner.run_streamed(weather_agent(model), ASK_WEATHER, run_config=config)
        kinds = [event.item.type async for event in result.stream_events() if event.type == "run_item_stream_event"]
        return result, kinds
    result, kinds = with_agents(run)
    assert kinds[:2] == ["tool_call_item", "tool_call_output_item"]
    assert kinds[-1] == "message_output_item"
    assert '"temperature_c": 21' in result.final_output


def test_agents_runner_answers_without_tools(with_agents):
    agent = Agent(name="Plain", instructions="Be brief.", model=FLASH)
    result = with_agents(lambda config: Runner.run(agent, say(SAID), run_config=config))
    assert result.final_output == SAID
