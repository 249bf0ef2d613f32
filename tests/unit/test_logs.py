"""Credentials never reach a log line: keys clients put in URLs, secret headers."""
import pytest

from gemini_proxy.observability.logs import REDACTED, redact_access_atoms, redact_secrets


@pytest.mark.parametrize("text, secret", [
    ("GET /v1/models?key=AIzaSyA-secret HTTP/1.1", "AIzaSyA-secret"),
    ("POST /v1/chat/completions?api_key=sk-1&stream=true HTTP/1.1", "sk-1"),
    ("GET /v1/models?x=1&API-KEY=sk-2 HTTP/1.1", "sk-2"),
    ("key=sk-3", "sk-3"),  # a bare query string (%(q)s)
    ("https://example.com/page?access_token=ya29.tok#top", "ya29.tok"),
    ("/v1/models?x-goog-api-key=sk-4;a=b", "sk-4"),
])
def test_credential_parameters_are_redacted(text, secret):
    clean = redact_secrets(text)
    assert secret not in clean
    assert REDACTED in clean


def test_other_parameters_are_kept():
    assert redact_secrets("GET /v1/models?limit=5&order=asc HTTP/1.1") == "GET /v1/models?limit=5&order=asc HTTP/1.1"


def test_access_atoms_lose_secret_headers_and_parameters():
    atoms = {"r": "GET /v1/models?key=sk-5 HTTP/1.1", "q": "key=sk-5", "{authorization}i": "Bearer sk-6",
             "{x-api-key}i": "sk-7", "{http_api_key}e": "sk-8", "{raw_uri}e": "/v1/models?key=sk-5",
             "{user-agent}i": "curl/8", "s": "200", "B": 42}
    clean = redact_access_atoms(atoms)
    assert not any(secret in str(value) for value in clean.values() for secret in ("sk-5", "sk-6", "sk-7", "sk-8"))
    assert (clean["{user-agent}i"], clean["s"], clean["B"]) == ("curl/8", "200", 42)
