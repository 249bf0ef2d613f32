"""A chat completion through gemini-proxy with the official openai SDK.

    OPENAI_BASE_URL=http://localhost:8000/v1 python examples/python/chat.py
"""
import os

from openai import OpenAI

client = OpenAI(base_url=os.environ.get("OPENAI_BASE_URL", "http://localhost:8000/v1"),
                api_key=os.environ.get("OPENAI_API_KEY", "any-key"))

completion = client.chat.completions.create(
    model="gemini-2.5-flash",
    messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello in three languages."},
    ],
)
print(completion.choices[0].message.content)
