"""GET /v1/models and /v1/models/{id}."""
import pytest

from gemini_proxy.app import create_app
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
