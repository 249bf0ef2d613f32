"""The emulator's service tiers and the endings a gateway must not pass on as answers, through
the real google-genai SDK: serviceTier (GenerateContentConfig.service_tier) is checked;
`finish=REASON after=0` ends an answer before any text, and with `times=1` only the first
identical request."""
from __future__ import annotations

import uuid

import httpx
import pytest
from google.genai import types

MODEL = "gemini-2.5-flash"


@pytest.mark.parametrize("tier", ["flex", "priority", "standard", "unspecified"])
def test_the_sdks_service_tiers_are_served(client, tier):
    response = client.models.generate_content(model=MODEL, contents="Hi",
                                              config=types.GenerateContentConfig(service_tier=tier))
    assert response.text


@pytest.mark.parametrize("tier", ["SERVICE_TIER_PRIORITY", "FLEX"])
def test_googles_enum_spelling_is_served_too(server, tier):
    answer = httpx.post(f"{server.url}/v1beta/models/{MODEL}:generateContent", headers={"x-goog-api-key": "k"},
                        json={"contents": [{"parts": [{"text": "Hi"}]}], "serviceTier": tier})
    assert answer.status_code == 200


def test_an_unknown_service_tier_is_refused(server):
    answer = httpx.post(f"{server.url}/v1beta/models/{MODEL}:generateContent", headers={"x-goog-api-key": "k"},
                        json={"contents": [{"parts": [{"text": "Hi"}]}], "serviceTier": "economy"})
    assert answer.status_code == 400
    assert "service_tier" in answer.json()["error"]["message"]


@pytest.mark.parametrize("reason", ["MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "STOP"])
def test_an_ending_without_an_answer_once_then_an_answer(client, reason):
    prompt = f"Rivers {uuid.uuid4().hex[:6]} [emulator finish={reason} after=0 times=1]"
    first = client.models.generate_content(model=MODEL, contents=prompt)
    assert first.candidates[0].finish_reason.value == reason
    assert not first.candidates[0].content.parts
    second = client.models.generate_content(model=MODEL, contents=prompt)
    assert second.candidates[0].finish_reason.value == "STOP"
    assert second.text


def test_thinking_that_uses_the_whole_budget_leaves_no_part(client):
    response = client.models.generate_content(model=MODEL, contents="Rivers [emulator thoughts=64]",
                                              config=types.GenerateContentConfig(max_output_tokens=16))
    candidate = response.candidates[0]
    assert candidate.finish_reason.value == "MAX_TOKENS"
    assert not candidate.content.parts
