"""Client keys guard every API route: each route the OpenAPI document marks as an API operation (client
keys apply) refuses a request without a key, or with a wrong one, before anything else happens, so a new
endpoint cannot be served open by forgetting to register it with the key check."""
from __future__ import annotations

import re

import pytest

from gemini_proxy.app import create_app
from gemini_proxy.openapi.document import OPERATIONS
from tests.support import gateway_settings

CLIENT_KEY = "gw-everywhere-client-key-5b2e"


@pytest.fixture(scope="module")
def guarded(emulator):
    app = create_app(gateway_settings(emulator, gateway_api_keys=CLIENT_KEY))
    yield app
    app.extensions["gemini_proxy"].upstream.close()


def api_routes(app) -> list[tuple[str, str]]:
    """(method, a concrete path) of every route whose operation is an API operation."""
    routes = []
    for rule in app.url_map.iter_rules():
        operation = OPERATIONS.get(rule.endpoint)
        if operation is None or not operation.api:
            continue
        path = re.sub(r"<path:[^>]+>", "gemini-2.5-flash:generateContent", rule.rule)
        path = re.sub(r"<[^>]+>", "x", path)
        routes += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def test_every_api_operation_is_guarded(guarded):
    routes = api_routes(guarded)
    paths = {path for _, path in routes}
    # The media endpoints are API operations like the rest.
    assert {"/v1/audio/speech", "/v1/audio/transcriptions", "/v1/images/generations", "/v1/chat/completions"} <= paths
    client = guarded.test_client()
    for method, path in routes:
        for headers in ({}, {"Authorization": "Bearer not-the-key"}):
            response = client.open(path, method=method, headers=headers, json={})
            refused = response.status_code in (401, 403) or (
                # Gemini's own routes answer a wrong key as Gemini does: 400 API_KEY_INVALID.
                response.status_code == 400 and "API_KEY_INVALID" in response.get_data(as_text=True))
            assert refused, f"{method} {path} with {headers} -> {response.status_code}"
