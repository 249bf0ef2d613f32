"""The Responses API routes through the Flask app and the emulator: answers valid against
OpenAI's schemas, what is stored and who sees it, previous_response_id, input_items paging,
input_tokens, cancel, and the 4xx answers with their `param`."""
import json
import logging

import pytest

from gemini_proxy.app import create_app
from tests.support import assert_openai, gateway_settings
from tests.support.emulator import stats
from tests.support.responses import WEATHER, assert_response

MODEL = "gemini-2.5-flash"


def ask(text="Say hello", **fields):
    return {"model": MODEL, "input": text, **fields}


def created(client, **fields) -> dict:
    response = client.post("/v1/responses", json=ask(**fields))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert_openai("ErrorResponse", body)
    return body["error"]


def test_a_response_is_openais_response_and_is_stored(client):
    body = created(client, instructions="Be brief.", metadata={"topic": "greeting"})
    assert_response(body)
    assert body["id"].startswith("resp_")
    assert body["status"] == "completed"
    assert body["model"] == MODEL
    assert (body["instructions"], body["metadata"]) == ("Be brief.", {"topic": "greeting"})
    [message] = body["output"]
    assert message["content"][0]["text"]
    usage = body["usage"]
    assert usage["input_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    for path in (f"/v1/responses/{body['id']}", f"/responses/{body['id']}"):
        assert client.get(path).get_json() == body


def test_the_input_is_listed_with_ids_in_openais_list_shape(client):
    items = [{"role": "user", "content": f"message {n}"} for n in range(5)]
    response_id = created(client, text=items)["id"]
    listed = client.get(f"/v1/responses/{response_id}/input_items?order=asc").get_json()
    assert_openai("ResponseItemList", listed)
    assert [item["content"][0]["text"] for item in listed["data"]] == [f"message {n}" for n in range(5)]
    ids = [item["id"] for item in listed["data"]]
    assert all(item_id.startswith("msg_") for item_id in ids)
    assert len(set(ids)) == 5
    assert (listed["first_id"], listed["last_id"], listed["has_more"]) == (ids[0], ids[-1], False)
    # OpenAI's default order is newest first; `after` and `limit` page through it.
    newest = client.get(f"/responses/{response_id}/input_items?limit=2").get_json()
    assert [item["id"] for item in newest["data"]] == ids[:2:-1][:2]
    assert newest["has_more"] is True
    rest = client.get(f"/v1/responses/{response_id}/input_items?limit=2&after={newest['last_id']}").get_json()
    assert [item["id"] for item in rest["data"]] == [ids[2], ids[1]]
    last = client.get(f"/v1/responses/{response_id}/input_items?limit=2&after={rest['last_id']}").get_json()
    assert ([item["id"] for item in last["data"]], last["has_more"]) == ([ids[0]], False)
    assert client.get(f"/v1/responses/{response_id}/input_items?include[]=message.input_image.image_url"
                      ).status_code == 200


def test_a_string_input_is_listed_as_one_user_message(client):
    response_id = created(client, text="Just this")["id"]
    [item] = client.get(f"/v1/responses/{response_id}/input_items").get_json()["data"]
    assert (item["type"], item["role"], item["content"]) == ("message", "user",
                                                             [{"type": "input_text", "text": "Just this"}])


@pytest.mark.parametrize("query, param", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=ten", "limit"), ("order=up", "order"),
    ("after=msg_nope", "after")])
def test_a_bad_input_items_query_is_a_400_naming_it(client, query, param):
    response_id = created(client)["id"]
    assert error_of(client.get(f"/v1/responses/{response_id}/input_items?{query}"), 400)["param"] == param


def test_store_false_keeps_nothing_retrievable(client):
    body = created(client, store=False)
    assert_response(body)
    assert "store" not in body
    error = error_of(client.get(f"/v1/responses/{body['id']}"), 404)
    assert (error["param"], error["type"]) == ("response_id", "invalid_request_error")
    assert body["id"] in error["message"]
    chained = error_of(client.post("/v1/responses", json=ask(previous_response_id=body["id"])), 400)
    assert (chained["param"], chained["code"]) == ("previous_response_id", "previous_response_not_found")


def test_previous_response_id_rebuilds_the_conversation_without_the_instructions(client, emulator_requests):
    first = created(client, text="My favourite colour is blue.", instructions="Answer in French.")
    second = created(client, text="What is my favourite colour?", previous_response_id=first["id"])
    assert second["previous_response_id"] == first["id"]
    assert second["instructions"] is None
    sent = emulator_requests()[0]["body"]
    assert "systemInstruction" not in sent  # instructions are not carried over (OpenAI documents so)
    texts = [(content["role"], part["text"]) for content in sent["contents"] for part in content["parts"]]
    assert texts == [("user", "My favourite colour is blue."),
                     ("model", first["output"][0]["content"][0]["text"]),
                     ("user", "What is my favourite colour?")]
    third = created(client, text="And again?", previous_response_id=second["id"], instructions="Be brief.")
    sent = emulator_requests()[0]["body"]
    assert [content["parts"][0]["text"] for content in sent["contents"]][::2] == [
        "My favourite colour is blue.", "What is my favourite colour?", "And again?"]
    assert sent["systemInstruction"]["parts"] == [{"text": "Be brief."}]
    # Only the request's own input is listed.
    [listed] = client.get(f"/v1/responses/{third['id']}/input_items").get_json()["data"]
    assert listed["content"][0]["text"] == "And again?"


def test_deleting_removes_the_response_and_breaks_the_chains_through_it(client, emulator, emulator_requests):
    first = created(client, text="One")
    second = created(client, text="Two", previous_response_id=first["id"])
    deleted = client.delete(f"/v1/responses/{first['id']}")
    assert deleted.status_code == 200
    assert deleted.get_json() == {"id": first["id"], "object": "response", "deleted": True}
    for response in (client.get(f"/v1/responses/{first['id']}"), client.delete(f"/responses/{first['id']}"),
                     client.get(f"/v1/responses/{first['id']}/input_items")):
        assert error_of(response, 404)["param"] == "response_id"
    calls = stats(emulator)["requests"]
    for previous in (first["id"], second["id"]):  # the chain of the second runs through the first
        error = error_of(client.post("/v1/responses", json=ask(previous_response_id=previous)), 400)
        assert (error["code"], error["param"]) == ("previous_response_not_found", "previous_response_id")
        assert previous in error["message"]
    assert stats(emulator)["requests"] == calls  # refused before Gemini was asked
    assert client.get(f"/v1/responses/{second['id']}").status_code == 200


def test_unknown_ids_are_404s_everywhere(client):
    for response in (client.get("/v1/responses/resp_nope"), client.delete("/v1/responses/resp_nope"),
                     client.get("/v1/responses/resp_nope/input_items"), client.post("/v1/responses/resp_nope/cancel")):
        error = error_of(response, 404)
        assert (error["param"], error["message"]) == ("response_id", "Response with id 'resp_nope' not found.")


def test_only_background_responses_can_be_cancelled(client):
    response_id = created(client)["id"]
    error = error_of(client.post(f"/v1/responses/{response_id}/cancel"), 400)
    assert error["message"] == "Cannot cancel a synchronous response."
    assert client.get(f"/v1/responses/{response_id}").get_json()["status"] == "completed"


def test_a_stored_response_cannot_be_streamed_again(client):
    response_id = created(client)["id"]
    assert error_of(client.get(f"/v1/responses/{response_id}?stream=true"), 400)["param"] == "stream"
    assert client.get(f"/v1/responses/{response_id}?stream=false&include[]=reasoning.encrypted_content"
                      ).status_code == 200


@pytest.mark.parametrize("prefix", ["/v1", ""])
def test_input_tokens_is_not_a_response_id(client, prefix):
    """The fuzzer found OPTIONS /v1/responses/input_tokens advertising GET and DELETE (the
    retrieve and delete routes took "input_tokens" for an id)."""
    def allowed(response) -> set[str]:
        return set(response.headers["Allow"].split(", "))

    assert allowed(client.options(f"{prefix}/responses/input_tokens")) == {"OPTIONS", "POST"}
    refused = client.get(f"{prefix}/responses/input_tokens")
    error_of(refused, 405)
    assert allowed(refused) == {"OPTIONS", "POST"}
    assert error_of(client.get(f"{prefix}/responses/input_tokens_x"), 404)["param"] == "response_id"


def test_input_tokens_are_gemini_count_of_the_whole_request(client, emulator):
    def count(**fields) -> int:
        response = client.post("/v1/responses/input_tokens", json={"model": MODEL, **fields})
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert body["object"] == "response.input_tokens"
        return body["input_tokens"]
    calls = stats(emulator)["requests"]
    plain = count(input="How many tokens is this question?")
    assert plain > 0
    assert stats(emulator)["requests"] == calls + 1  # one countTokens call, no generation
    assert count(input="How many tokens is this question?", instructions="Answer in a long French poem.") > plain
    previous = created(client, text="A first turn to remember.")["id"]
    assert count(input="How many tokens is this question?", previous_response_id=previous) > plain
    assert count(input="How many tokens is this question?", tools=[WEATHER]) >= plain
    assert client.post("/responses/input_tokens", json={"model": MODEL, "input": "x"}).status_code == 200
    assert error_of(client.post("/v1/responses/input_tokens", json={"model": MODEL, "input": 42}), 400)["param"]


@pytest.mark.parametrize("body, param, code", [
    ({"model": MODEL}, "input", "missing_required_parameter"),
    ({"input": "hi"}, "model", "missing_required_parameter"),
    ({"model": MODEL, "input": "hi", "temperature": "hot"}, "temperature", None),
    ({"model": MODEL, "input": "hi", "max_output_tokens": 15}, "max_output_tokens", None),
    ({"model": MODEL, "input": "hi", "background": True}, "background", None),
    ({"model": MODEL, "input": "hi", "include": ["nonsense"]}, "include[0]", None),
    ({"model": "../cachedContents?x=", "input": "hi"}, "model", "invalid_model"),
])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_bad_requests_are_400s_naming_the_param_before_any_stream(client, emulator, body, param, code, stream):
    calls = stats(emulator)["requests"]
    error = error_of(client.post("/v1/responses", json={**body, "stream": stream}), 400)
    assert error["param"] == param
    if code:
        assert error["code"] == code
    assert stats(emulator)["requests"] == calls


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_an_unknown_model_is_an_error_before_any_stream(client, stream):
    error = error_of(client.post("/v1/responses", json=ask(model="gemini-no-such-model", stream=stream)), 404)
    assert error["code"] == "model_not_found"


def test_a_body_that_is_not_json_is_a_400(client):
    response = client.post("/v1/responses", data=b'{"model": "x", "input": ', content_type="application/json")
    assert error_of(response, 400)["param"] is None


@pytest.fixture(scope="module")
def keyed(emulator):
    app = create_app(gateway_settings(emulator, gateway_api_keys="sk-alice alice,sk-bob bob"))
    yield app.test_client()
    app.extensions["gemini_proxy"].upstream.close()


def as_key(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_with_client_keys_a_key_sees_only_its_own_responses(keyed):
    alice, bob = as_key("sk-alice"), as_key("sk-bob")
    assert error_of(keyed.post("/v1/responses", json=ask()), 401)["code"] == "invalid_api_key"
    mine = keyed.post("/v1/responses", json=ask("Alice's secret"), headers=alice).get_json()
    response_id, message_id = mine["id"], mine["output"][0]["id"]
    assert keyed.get(f"/v1/responses/{response_id}", headers=alice).get_json() == mine
    for response in (keyed.get(f"/v1/responses/{response_id}", headers=bob),
                     keyed.get(f"/v1/responses/{response_id}/input_items", headers=bob),
                     keyed.delete(f"/v1/responses/{response_id}", headers=bob),
                     keyed.post(f"/v1/responses/{response_id}/cancel", headers=bob)):
        assert error_of(response, 404)["message"] == f"Response with id '{response_id}' not found."
    chained = keyed.post("/v1/responses", json=ask(previous_response_id=response_id), headers=bob)
    assert error_of(chained, 400)["code"] == "previous_response_not_found"
    referenced = keyed.post("/v1/responses", headers=bob, json=ask(
        [{"type": "item_reference", "id": message_id}, {"role": "user", "content": "Go on"}]))
    assert error_of(referenced, 400)["param"].startswith("input")
    assert keyed.get(f"/v1/responses/{response_id}", headers=alice).status_code == 200
    followed = keyed.post("/v1/responses", headers=alice, json=ask(
        [{"type": "item_reference", "id": message_id}, {"role": "user", "content": "Go on"}]))
    assert followed.status_code == 200, followed.get_data(as_text=True)


def test_item_references_are_resolved_from_the_store(client, emulator_requests):
    first = created(client, text=[{"role": "user", "content": "Remember 42."}])
    [given] = client.get(f"/v1/responses/{first['id']}/input_items").get_json()["data"]
    answer = first["output"][0]
    created(client, text=[{"type": "item_reference", "id": given["id"]}, {"type": "item_reference", "id": answer["id"]},
                          {"role": "user", "content": "Which number?"}])
    sent = emulator_requests()[0]["body"]
    assert [part["text"] for content in sent["contents"] for part in content["parts"]] == [
        "Remember 42.", answer["content"][0]["text"], "Which number?"]


def test_the_request_log_names_the_model_and_counts_the_tokens(client, caplog):
    logging.getLogger("gemini_proxy").addHandler(caplog.handler)
    try:
        client.post("/v1/responses", json=ask("a secret prompt"), headers={"X-Request-ID": "resp-log-1"}).close()
        streamed = client.post("/v1/responses", json=ask("a secret prompt", stream=True),
                               headers={"X-Request-ID": "resp-log-2"})
        assert b"response.completed" in streamed.get_data()
        streamed.close()
    finally:
        logging.getLogger("gemini_proxy").removeHandler(caplog.handler)
    lines = {r.fields["request_id"]: r.fields for r in caplog.records
             if getattr(r, "fields", {}).get("request_id", "").startswith("resp-log")}
    for line in lines.values():
        assert (line["status"], line["model"]) == (200, MODEL)
        assert line["prompt_tokens"] > 0
        assert line["completion_tokens"] > 0
        assert "secret" not in json.dumps(line)
    assert lines["resp-log-2"]["stream"] is True
    assert lines["resp-log-2"]["ttft_ms"] > 0
    assert "ttft_ms" not in lines["resp-log-1"]
