"""GET /v1/models and /v1/models/{id}."""
import pytest

from gemini_proxy.app import create_app
from gemini_proxy.config import Settings
from tests.support import assert_openai, gateway_settings


@pytest.mark.parametrize("path", ["/v1/models", "/models"])
def test_models_lists_upstream_generators_and_aliases(client, path):
    body = client.get(path).get_json()
    assert_openai("ListModelsResponse", body)
    ids = [m["id"] for m in body["data"]]
    assert ids[0] == "gemini-2.5-flash"
    assert "gemini-embedding-001" in ids
    assert "gpt-4o-mini" in ids
    assert "gemini-1.5-flash" in ids
    assert not any(i.startswith("models/") for i in ids)
    assert len(ids) == len(set(ids))
    assert all(isinstance(m["created"], int) and m["object"] == "model" and m["owned_by"] for m in body["data"])


@pytest.mark.parametrize("model_id", ["gemini-2.5-pro", "gpt-4o-mini"])
def test_retrieve_a_model(client, model_id):
    for prefix in ("/v1", ""):
        body = client.get(f"{prefix}/models/{model_id}").get_json()
        assert_openai("Model", body)
        assert body["id"] == model_id


def test_unknown_model_is_404_model_not_found(client):
    response = client.get("/v1/models/no-such-model")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "model_not_found"


def test_model_list_is_cached(emulator, emulator_requests):
    import requests
    app = create_app(gateway_settings(emulator, models_cache_seconds=60))
    client = app.test_client()
    before = requests.get(f"{emulator.url}/emulator/stats", timeout=5).json()["requests"]
    for _ in range(3):
        assert client.get("/v1/models").status_code == 200
    after = requests.get(f"{emulator.url}/emulator/stats", timeout=5).json()["requests"]
    assert after - before == 1


def built_in_emulator_settings(emulator) -> Settings:
    """Settings with no key and no base URL (the built-in emulator's case), whose emulator port
    is the test emulator's."""
    return Settings(emulator_port=int(emulator.url.rsplit(":", 1)[1]), upstream_retries=0, signature_db="")


def test_models_served_by_the_built_in_emulator_say_so(emulator):
    app = create_app(built_in_emulator_settings(emulator))
    client = app.test_client()
    body = client.get("/v1/models").get_json()
    assert_openai("ListModelsResponse", body)
    owners = {m["id"]: m["owned_by"] for m in body["data"]}
    assert owners["gemini-2.5-flash"] == "gemini-emulator"
    assert owners["gpt-4o-mini"] == "gemini-proxy"
    # models/... is not in the list: the gateway asks upstream for it.
    for model_id, owner in [("gemini-2.5-pro", "gemini-emulator"), ("models/gemini-2.0-flash", "gemini-emulator"),
                            ("gpt-4o", "gemini-proxy")]:
        model = client.get(f"/v1/models/{model_id}").get_json()
        assert_openai("Model", model)
        assert model["owned_by"] == owner
    app.extensions["gemini_proxy"].upstream.close()


def test_models_from_another_endpoint_are_googles(client):
    owners = {m["id"]: m["owned_by"] for m in client.get("/v1/models").get_json()["data"]}
    assert owners["gemini-2.5-flash"] == "google"
    assert owners["gpt-4o-mini"] == "gemini-proxy"
