"""The private parts of google-genai and gunicorn the gateway relies on, named in one place.

The hot path calls below the SDK's public API (upstream/client.py: one parse per SSE event, no
pydantic round trip) and the gateway's worker extends gunicorn's threaded worker
(server/worker.py, server/arrival.py). Neither library promises these names: when an upgrade
moves one, this test says which, before anything else fails in a less readable way.
"""
import inspect

import httpx2
import pytest
from google.genai import Client
from google.genai import _api_client as sdk
from gunicorn.http import unreader
from gunicorn.workers import gthread


def _parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_the_sdk_builds_and_sends_a_request_the_way_upstream_client_calls_it():
    assert _parameters(sdk.BaseApiClient._build_request) == ["self", "http_method", "path", "request_dict",
                                                            "http_options"], \
        "google-genai changed BaseApiClient._build_request(method, path, body, options): see upstream/client.py _open"
    assert _parameters(sdk.BaseApiClient._request)[:4] == ["self", "http_request", "http_options", "stream"], \
        "google-genai changed BaseApiClient._request(request, options, stream=...): see upstream/client.py _open"
    assert callable(getattr(sdk.HttpResponse, "segments", None)), \
        "google-genai's HttpResponse.segments() (one parsed dict per SSE event) is gone: " \
        "tests/unit/test_upstream_sse.py checks upstream/sse.py against it"


def test_a_built_request_carries_a_settable_timeout_and_the_client_exposes_its_api_client():
    client = Client(api_key="contract-test", http_options={"base_url": "http://127.0.0.1:9"})
    api_client = getattr(client, "_api_client", None)
    assert isinstance(api_client, sdk.BaseApiClient), "google-genai's Client._api_client is gone"
    request = api_client._build_request("post", "models/gemini-2.5-flash:generateContent", {"contents": []},
                                        {"timeout": 1000})
    assert request.url.endswith("models/gemini-2.5-flash:generateContent")
    assert hasattr(request, "timeout"), "google-genai's HttpRequest has no timeout: upstream/client.py sets one"


def test_the_sdk_s_httpx2_client_hands_out_its_transport_and_builds_a_redirect_the_way_sdk_calls_uses_them():
    assert _parameters(httpx2.Client._transport_for_url) == ["self", "url"], \
        "httpx2 changed Client._transport_for_url(url): see upstream/sdk_calls.py send"
    assert _parameters(httpx2.Client._build_redirect_request) == ["self", "request", "response"], \
        "httpx2 changed Client._build_redirect_request(request, response): see upstream/sdk_calls.py send"


@pytest.mark.parametrize("name", ["init_process", "load_wsgi", "accept", "handle", "murder_pending", "handle_exit",
                                  "wait_for_and_dispatch_events", "handle_error", "enqueue_req",
                                  "set_accept_enabled", "finish_request"])
def test_the_threaded_worker_still_has_what_the_gateway_worker_overrides_or_calls(name):
    assert callable(getattr(gthread.ThreadWorker, name, None)), \
        f"gunicorn's ThreadWorker.{name} is gone: see gemini_proxy/server/worker.py"


def test_the_threaded_worker_defers_and_keeps_its_connections_where_the_gateway_worker_looks():
    assert gthread._DEFER is not None, "gunicorn's gthread._DEFER (a deferred request) is gone"
    source = inspect.getsource(gthread.ThreadWorker.__init__)
    for attribute in ("pending_conns", "nr_conns", "method_queue", "poller"):
        assert f"self.{attribute} =" in source, f"gunicorn's ThreadWorker no longer sets self.{attribute}"
    assert _parameters(gthread.TConn.__init__) == ["self", "cfg", "sock", "client", "server"], \
        "gunicorn's TConn(cfg, sock, client, server) changed: see gemini_proxy/server/arrival.py"
    assert hasattr(unreader, "SocketUnreader"), "gunicorn's SocketUnreader is gone: see gemini_proxy/server/arrival.py"
