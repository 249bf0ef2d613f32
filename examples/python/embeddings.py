"""Embeddings of two texts and their cosine similarity.

    OPENAI_BASE_URL=http://localhost:8000/v1 python examples/python/embeddings.py
"""
import math
import os

from openai import OpenAI

client = OpenAI(base_url=os.environ.get("OPENAI_BASE_URL", "http://localhost:8000/v1"),
                api_key=os.environ.get("OPENAI_API_KEY", "any-key"))

texts = ["The cat sat on the mat.", "A cat was sitting on a rug."]
response = client.embeddings.create(model="text-embedding-3-small", input=texts)
a, b = (item.embedding for item in response.data)
dot = sum(x * y for x, y in zip(a, b, strict=True))
cosine = dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))
print(f"{len(response.data)} embeddings of {len(a)} dimensions; cosine similarity {cosine:.3f}")
