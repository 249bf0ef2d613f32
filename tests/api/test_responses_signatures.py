"""Gemini 3's thought signatures survive every path of the Responses API without the client's
help: a stored response (previous_response_id, item_reference), the server-side call_id map
(store false, items sent back), and the encrypted_content a stateless client carries to another
worker. The emulator counts the signatures that came back valid and the dummies."""
import pytest

from gemini_proxy.app import create_app
from tests.support import gateway_settings
from tests.support.emulator import stats
from tests.support.responses import WEATHER, assert_response

MODEL = "gemini-3-pro-preview"
QUESTION = {"role": "user", "content": "What is the weather in Paris?"}


@pytest.fixture
def counted(emulator):
    """The change in the emulator's signature counters since the test started."""
    before = stats(emulator)
    return lambda: {name: stats(emulator)[name] - before[name] for name in ("signatures_verified", "signatures_dummy")}


def called(client, **fields) -> dict:
    response = client.post("/v1/responses", json={"model": MODEL, "input": [QUESTION], "tools": [WEATHER],
                                                  "tool_choice": "required", **fields})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert_response(body)
    assert any(item["type"] == "function_call" for item in body["output"])
    return body


def answered(client, items: list, **fields) -> dict:
    response = client.post("/v1/responses", json={"model": MODEL, "input": items, "tools": [WEATHER], **fields})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_response(response.get_json())
    return response.get_json()


def result_of(body: dict) -> dict:
    call = next(item for item in body["output"] if item["type"] == "function_call")
    return {"type": "function_call_output", "call_id": call["call_id"], "output": "21 degrees, sunny"}


def test_a_stored_response_keeps_the_signatures_for_previous_response_id(client, counted):
    first = called(client)
    answered(client, [result_of(first)], previous_response_id=first["id"])
    assert counted() == {"signatures_verified": 1, "signatures_dummy": 0}


def test_item_references_bring_their_signatures_back(client, counted):
    first = called(client)
    references = [{"type": "item_reference", "id": item["id"]} for item in first["output"]]
    answered(client, [QUESTION, *references, result_of(first)])
    assert counted() == {"signatures_verified": 1, "signatures_dummy": 0}


def test_store_false_keeps_the_signature_by_call_id_for_items_sent_back(client, counted):
    first = called(client, store=False)
    assert client.get(f"/v1/responses/{first['id']}").status_code == 404
    # As the AI SDK does with store false: items back without their reasoning item.
    sent_back = [{key: value for key, value in item.items() if key != "id"}
                 for item in first["output"] if item["type"] == "function_call"]
    answered(client, [QUESTION, *sent_back, result_of(first)], store=False)
    assert counted() == {"signatures_verified": 1, "signatures_dummy": 0}


def test_a_stateless_client_carries_the_signatures_to_another_worker(emulator, counted):
    """Codex: store false, items without ids, reasoning items with encrypted_content, and the
    next turn served by another process (its own signature memory) with the same secret."""
    workers = [create_app(gateway_settings(emulator, responses_secret="shared-secret")) for _ in range(2)]
    try:
        one, two = (worker.test_client() for worker in workers)
        first = called(one, store=False, include=["reasoning.encrypted_content"])
        carried = [item for item in first["output"] if item["type"] == "reasoning" and item.get("encrypted_content")]
        assert carried, "no reasoning item carries the state"
        assert carried[0]["encrypted_content"].startswith("gp1.")
        sent_back = [{key: value for key, value in item.items() if key not in ("id", "status")}
                     for item in first["output"]]
        answered(two, [QUESTION, *sent_back, result_of(first)], store=False)
        assert counted() == {"signatures_verified": 1, "signatures_dummy": 0}
        # A worker with another secret cannot read the blob: Gemini gets the documented stand-in.
        other = create_app(gateway_settings(emulator, responses_secret="another-secret"))
        workers.append(other)
        answered(other.test_client(), [QUESTION, *sent_back, result_of(first)], store=False)
        assert counted() == {"signatures_verified": 1, "signatures_dummy": 1}
    finally:
        for worker in workers:
            worker.extensions["gemini_proxy"].upstream.close()
