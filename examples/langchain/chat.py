"""LangChain's ChatOpenAI pointed at gemini-proxy: one answer, then a streamed one.

    OPENAI_BASE_URL=http://localhost:8000/v1 python examples/langchain/chat.py
"""
import os

from langchain_openai import ChatOpenAI

llm = ChatOpenAI(model="gemini-2.5-flash",
                 base_url=os.environ.get("OPENAI_BASE_URL", "http://localhost:8000/v1"),
                 api_key=os.environ.get("OPENAI_API_KEY", "any-key"))

answer = llm.invoke([("system", "Be brief."), ("human", "What is LangChain, in one sentence?")])
print(answer.content)

for chunk in llm.stream("Name three rivers in Europe."):
    print(chunk.content, end="", flush=True)
print()
