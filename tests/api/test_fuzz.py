"""Property test of every operation in the app's own /openapi.json (schemathesis over WSGI, the
emulator behind the real SDK): valid and invalid requests alike get no 500, and every error
is OpenAI's envelope (Gemini's on the routes of Gemini's own API). Bounded to about a minute;
docs/fuzzing.md has the long campaign against a running gateway.

Media URLs are refused (MEDIA_FETCH_URLS off), so a fuzzed image URL can never make the
gateway fetch anything, or wait on a network."""
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from gemini_proxy.app import create_app
from gemini_proxy.services import EXTENSION
from tests.support import gateway_settings

# Requests per generation mode, spread over every operation of the document (about 0.5 minute
# each on the 2-CPU machine BENCHMARKS.md describes).
EXAMPLES = 200
# Gemini's own API, fuzzed on its own (its v1 and v1alpha paths are the same views as v1beta's).
GEMINI_PATHS = r"^/v1/models/\{model\}:|^/v1beta/|^/v1alpha/"


@pytest.fixture(scope="module")
def fuzzed_app(emulator):
    app = create_app(gateway_settings(emulator, media_fetch_urls=False, models_cache_seconds=60,
                                      max_body_bytes=1024 * 1024))
    yield app
    app.extensions[EXTENSION].upstream.close()


def fuzzed(api, mode, examples: int, check_error) -> Counter:
    """Every case `api` generates in `mode`, answered with no 5xx; `check_error(response, error)`
    for the error envelope of each 4xx. The statuses seen."""
    statuses: Counter = Counter()

    @given(case=api.as_strategy(mode))
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def request_is_answered_properly(case):
        response = case.call()
        statuses[response.status_code] += 1
        assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}\n{case.as_curl_command()}"
        if response.status_code >= 400:
            assert response.headers["content-type"][0].startswith("application/json"), response.text[:300]
            error = response.json()["error"]
            assert error["message"], error
            check_error(response, error)

    request_is_answered_properly()
    return statuses


def openai_error(response, error) -> None:
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str)
    if response.status_code == 405:
        assert response.headers.get("allow"), "a 405 without Allow"


def gemini_error(response, error) -> None:
    assert set(error) - {"details"} == {"code", "message", "status"}, error
    assert error["code"] == response.status_code


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_no_input_gets_a_500_and_every_error_is_openai_s_envelope(fuzzed_app, mode):
    # The unprefixed aliases (/chat/completions...) are the same views: fuzzing them twice buys nothing.
    api = schemathesis.openapi.from_wsgi("/openapi.json", fuzzed_app).exclude(
        path_regex=r"^/(chat/completions|completions|embeddings|images|models|responses|audio)|^/v1/audio/|"
                   + GEMINI_PATHS)
    statuses = fuzzed(api, mode, EXAMPLES, openai_error)
    assert sum(statuses.values()) >= EXAMPLES // 2, statuses
    if mode == GenerationMode.POSITIVE:
        # The run reached the gateway's answers (the emulator's), not only its refusals.
        assert statuses[200] >= EXAMPLES // 5, statuses


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_no_input_to_gemini_s_own_api_gets_a_500_and_every_error_is_gemini_s_envelope(fuzzed_app, mode):
    api = schemathesis.openapi.from_wsgi("/openapi.json", fuzzed_app).include(path_regex="^/v1beta/")
    statuses = fuzzed(api, mode, EXAMPLES // 2, gemini_error)
    assert sum(statuses.values()) >= EXAMPLES // 4, statuses


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_no_audio_upload_gets_a_500_and_every_error_is_openai_s_envelope(fuzzed_app, mode):
    # Fuzzed on their own: a generated file is never audio, so nearly every answer is a 400 on `file`.
    api = schemathesis.openapi.from_wsgi("/openapi.json", fuzzed_app).include(path_regex="^/v1/audio/")
    statuses = fuzzed(api, mode, EXAMPLES // 4, openai_error)
    assert sum(statuses.values()) >= EXAMPLES // 8, statuses
