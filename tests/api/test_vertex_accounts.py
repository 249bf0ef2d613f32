"""Several Vertex AI projects and service accounts behind one gateway (VERTEX_ACCOUNTS_FILE): the key
pool's spread and failover, each account calling its own project with its own OAuth token (google-auth's
real service-account flow against the emulator), and the file's checks at start."""
from __future__ import annotations

import pytest
import requests

from gemini_emulator import EmulatorConfig, EmulatorServer
from gemini_proxy.app import create_app
from gemini_proxy.config import Settings
from gemini_proxy.config_parsing import SettingsError
from tests.support.vertex import LOCATION, registered_service_account, service_account_info, write_service_account

FLASH = "gemini-2.5-flash"


@pytest.fixture(scope="module")
def emulator():
    with EmulatorServer(EmulatorConfig(), port=0) as server:
        yield server


def known_account(emulator, folder, name: str) -> str:
    """A service account of project `name` that the emulator's /token signs tokens for."""
    return registered_service_account(emulator.url, folder / f"{name}.json", project=name)


def accounts_settings(emulator, accounts_file, **overrides) -> Settings:
    return Settings(**{"gemini_backend": "vertex", "vertex_accounts_file": str(accounts_file),
                       "vertex_location": LOCATION, "vertex_base_url": emulator.url, "upstream_retries": 0,
                       "signature_db": "", "responses_db": "", **overrides})


@pytest.fixture
def gateway(emulator, tmp_path):
    """`gateway(lines)`: a test client of a gateway whose VERTEX_ACCOUNTS_FILE holds `lines`."""
    apps = []

    def make(lines: str):
        accounts_file = tmp_path / "accounts.txt"
        accounts_file.write_text(lines)
        app = create_app(accounts_settings(emulator, accounts_file))
        apps.append(app)
        return app.test_client()
    yield make
    for app in apps:
        app.extensions["gemini_proxy"].upstream.close()


def ask(client, text="Hello", stream=False):
    return client.post("/v1/chat/completions", json={
        "model": FLASH, "stream": stream, "messages": [{"role": "user", "content": text}]})


def projects_called(emulator, n: int) -> list[str]:
    calls = requests.get(f"{emulator.url}/emulator/requests", params={"last": n, "method": "all"}, timeout=5).json()
    return [call["project"] for call in calls]


def test_calls_spread_over_the_accounts_each_on_its_own_project_and_location(emulator, gateway, tmp_path):
    eu, us = known_account(emulator, tmp_path, "team-eu"), known_account(emulator, tmp_path, "team-us")
    client = gateway(f"# two projects\nteam-eu location=europe-west4 credentials={eu} name=eu weight=2\n"
                     f"team-us credentials={us}\n")
    assert [ask(client, stream=n % 2 == 1).status_code for n in range(6)] == [200] * 6
    calls = requests.get(f"{emulator.url}/emulator/requests", params={"last": 6, "method": "all"}, timeout=5).json()
    assert sorted((call["project"], call["location"]) for call in calls) == (
        [("team-eu", "europe-west4")] * 4 + [("team-us", LOCATION)] * 2)
    assert all("x-goog-api-key" not in call["headers"] for call in calls)  # the pool's stand-ins are never sent
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'gemini_proxy_upstream_key_requests_total{key="eu"} 4.0' in metrics
    assert 'gemini_proxy_upstream_key_requests_total{key="team-us"} 2.0' in metrics
    assert client.get("/readyz").json["keys"] == {"usable": 2, "total": 2}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_rate_limited_project_cools_down_and_its_call_moves_to_another(emulator, gateway, tmp_path, stream):
    first, second = known_account(emulator, tmp_path, "quota-a"), known_account(emulator, tmp_path, "quota-b")
    client = gateway(f"quota-a credentials={first}\nquota-b credentials={second}\n")
    fault = "[emulator fault=429 retry=30 project=quota-a] Hello"
    assert ask(client, fault, stream).status_code == 200  # a fresh pool's first call takes the first account
    assert projects_called(emulator, 2) == ["quota-a", "quota-b"]
    assert [ask(client, fault, stream).status_code for _ in range(3)] == [200] * 3
    assert projects_called(emulator, 3) == ["quota-b"] * 3  # quota-a rests for this model


def test_an_account_whose_token_cannot_be_had_is_left_out_and_the_others_answer(emulator, gateway, tmp_path):
    good = known_account(emulator, tmp_path, "good-project")
    # Never registered with the emulator: its /token answers invalid_grant, google-auth raises RefreshError.
    unknown = str(write_service_account(tmp_path / "unknown.json", service_account_info(emulator.url, "gone")))
    client = gateway(f"gone credentials={unknown} name=gone\ngood-project credentials={good} name=good\n")
    answers = [ask(client) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200] * 4
    assert projects_called(emulator, 4) == ["good-project"] * 4
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json["keys"]) == (200, {"usable": 1, "total": 2})
    assert 'gemini_proxy_upstream_key_usable{key="gone"} 0.0' in client.get("/metrics").get_data(as_text=True)


def write(tmp_path, text: str) -> str:
    path = tmp_path / "accounts.txt"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(("lines", "message"), [
    ("", "VERTEX_ACCOUNTS_FILE holds no account"),
    ("# nothing\n", "VERTEX_ACCOUNTS_FILE holds no account"),
    ("p1 region=eu\n", "VERTEX_ACCOUNTS_FILE line 1: a line is PROJECT [location=L]"),
    ("p1\np2 weight=0\n", "VERTEX_ACCOUNTS_FILE line 2: weight= must be a whole number"),
    ("p1 location=eu\np1 location=us\n", "VERTEX_ACCOUNTS_FILE line 2: the same name as another line (p1)"),
    ("p1 name=bad/name\n", "VERTEX_ACCOUNTS_FILE line 1: name= is 1-64 letters"),
    ("p1 credentials=/no/such/file.json\n", "VERTEX_ACCOUNTS_FILE line 1: credentials='/no/such/file.json': No such"),
])
def test_the_accounts_file_is_checked_at_start(tmp_path, lines, message):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"GEMINI_BACKEND": "vertex", "VERTEX_ACCOUNTS_FILE": write(tmp_path, lines)})
    assert str(refused.value).startswith(message)


@pytest.mark.parametrize(("env", "message"), [
    ({"GEMINI_BACKEND": "vertex", "VERTEX_PROJECT": "p"}, "VERTEX_PROJECT and VERTEX_ACCOUNTS_FILE are both set"),
    ({}, "VERTEX_ACCOUNTS_FILE is set but GEMINI_BACKEND is ai-studio"),
    ({"GEMINI_BACKEND": "vertex-express", "GEMINI_API_KEY": "k"}, "VERTEX_ACCOUNTS_FILE is not used by"),
])
def test_the_accounts_file_fits_only_vertex_with_projects(tmp_path, env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({**env, "VERTEX_ACCOUNTS_FILE": write(tmp_path, "p1\n")})


def test_accounts_take_vertex_location_and_credentials_as_defaults(tmp_path):
    credentials = write_service_account(tmp_path / "sa.json", service_account_info("http://127.0.0.1:9"))
    settings = Settings.from_env({"GEMINI_BACKEND": "vertex", "VERTEX_LOCATION": "europe-west4",
                                  "VERTEX_CREDENTIALS_FILE": str(credentials),
                                  "VERTEX_ACCOUNTS_FILE": write(tmp_path, "p1 weight=3\np2 location=us name=two\n")})
    assert [(a.project, a.location, a.credentials_file, a.name, a.weight) for a in settings.vertex_accounts] == [
        ("p1", "europe-west4", str(credentials), "p1", 3), ("p2", "us", str(credentials), "two", 1)]
    assert [(key.name, key.weight) for key in settings.upstream_keys] == [("p1", 3), ("two", 1)]
