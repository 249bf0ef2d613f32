"""GEMINI_BACKEND and the VERTEX_* settings: what each backend needs, and start-up errors that name the
variable to change."""
from __future__ import annotations

import json

import pytest

from gemini_proxy.config import Settings, SettingsError


def settings(**environ) -> Settings:
    return Settings.from_env(environ)


def test_ai_studio_is_the_default():
    assert settings().gemini_backend == "ai-studio"
    assert not settings().vertex


def test_vertex_with_a_project(tmp_path):
    found = settings(GEMINI_BACKEND="vertex", VERTEX_PROJECT="p")
    assert (found.vertex_location, found.upstream_api_version, found.upstream_base_url) == ("global", "v1beta1", None)
    assert found.upstream_api_key is None
    assert not found.uses_emulator
    assert found.upstream_name == "vertex"
    assert [key.name for key in found.upstream_keys] == ["vertex-credentials"]  # a pool of one credential
    emulated = settings(GEMINI_BACKEND="vertex", VERTEX_PROJECT="p", VERTEX_BASE_URL="http://127.0.0.1:9")
    assert emulated.upstream_name == "127.0.0.1:9"


def test_express_mode_takes_the_key_pool():
    found = settings(GEMINI_BACKEND="vertex-express", GEMINI_API_KEYS="k1,k2")
    assert [key.name for key in found.upstream_keys] == ["key-1", "key-2"]
    assert found.upstream_api_key == "k1"


@pytest.mark.parametrize(("environ", "named"), [
    ({"GEMINI_BACKEND": "vertex"}, "VERTEX_PROJECT"),
    ({"GEMINI_BACKEND": "vertx"}, "GEMINI_BACKEND"),
    ({"VERTEX_PROJECT": "p"}, "VERTEX_PROJECT"),
    ({"VERTEX_BASE_URL": "http://x"}, "VERTEX_BASE_URL"),
    ({"GEMINI_BACKEND": "vertex", "VERTEX_PROJECT": "p", "GEMINI_API_KEY": "k"}, "GEMINI_API_KEY"),
    ({"GEMINI_BACKEND": "vertex", "VERTEX_PROJECT": "p", "GEMINI_BASE_URL": "http://x"}, "GEMINI_BASE_URL"),
    ({"GEMINI_BACKEND": "vertex", "VERTEX_PROJECT": "p", "GATEWAY_PASS_THROUGH_KEYS": "true"},
     "GATEWAY_PASS_THROUGH_KEYS"),
    ({"GEMINI_BACKEND": "vertex", "VERTEX_PROJECT": "p", "VERTEX_CREDENTIALS_FILE": "/no/such/file.json"},
     "VERTEX_CREDENTIALS_FILE"),
    ({"GEMINI_BACKEND": "vertex", "VERTEX_PROJECT": "p", "VERTEX_LOCATION": "a/b"}, "VERTEX_LOCATION"),
    ({"GEMINI_BACKEND": "vertex", "VERTEX_PROJECT": "p", "VERTEX_MODELS": " , "}, "VERTEX_MODELS"),
    ({"GEMINI_BACKEND": "vertex-express"}, "GEMINI_API_KEY"),
    ({"GEMINI_BACKEND": "vertex-express", "GEMINI_API_KEY": "k", "VERTEX_PROJECT": "p"}, "VERTEX_PROJECT"),
])
def test_start_up_errors_name_the_variable(environ, named):
    with pytest.raises(SettingsError, match=named):
        settings(**environ)


@pytest.mark.parametrize(("content", "says"), [
    ("not json", "not JSON"),
    (json.dumps({"type": "authorized_user", "client_id": "x"}), "not a service-account key"),
    (json.dumps({"type": "service_account", "client_email": "a@b"}), "private_key, token_uri"),
])
def test_a_credentials_file_that_is_no_service_account_key(tmp_path, content, says):
    path = tmp_path / "key.json"
    path.write_text(content)
    with pytest.raises(SettingsError, match=f"VERTEX_CREDENTIALS_FILE=.*{says}"):
        settings(GEMINI_BACKEND="vertex", VERTEX_PROJECT="p", VERTEX_CREDENTIALS_FILE=str(path))
