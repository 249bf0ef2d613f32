"""Function calling: the model asks for get_weather, we run it and send the result back.

    OPENAI_BASE_URL=http://localhost:8000/v1 python examples/python/tools.py
"""
import json
import os

from openai import OpenAI

client = OpenAI(base_url=os.environ.get("OPENAI_BASE_URL", "http://localhost:8000/v1"),
                api_key=os.environ.get("OPENAI_API_KEY", "any-key"))

TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city name"}},
            "required": ["city"],
        },
    },
}]


def get_weather(city: str) -> dict:
    return {"city": city, "temperature_c": 21, "sky": "clear"}


messages = [{"role": "user", "content": "What is the weather in Paris? Use get_weather."}]
first = client.chat.completions.create(model="gemini-2.5-flash", messages=messages, tools=TOOLS)
message = first.choices[0].message
# The assistant turn goes back as it came: the gateway puts Gemini's thought signature back on it.
messages.append(message.model_dump(exclude_none=True))
for call in message.tool_calls or ():
    arguments = json.loads(call.function.arguments)
    print(f"-> {call.function.name}({arguments})")
    result = get_weather(**arguments)
    messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})

final = client.chat.completions.create(model="gemini-2.5-flash", messages=messages, tools=TOOLS)
print(final.choices[0].message.content)
