"""Helpers of the emulator's own tests: the real google-genai SDK pointed at it, its counters."""
from __future__ import annotations

import requests
from google import genai
from google.genai import types


def sdk_client(url: str, key: str = "k", **http_options) -> genai.Client:
    return genai.Client(api_key=key, http_options=types.HttpOptions(
        base_url=url, api_version="v1beta", **http_options))


def stats(server) -> dict:
    return requests.get(f"{server.url}/emulator/stats", timeout=5).json()
