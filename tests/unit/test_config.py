"""Settings and ServerSettings: parsing, validation, and the generated documents match them."""
import subprocess
import sys
from dataclasses import fields

import pytest
from dotenv import dotenv_values

from gemini_proxy.config import GROUPS, ServerSettings, Settings, SettingsError, setting_fields
from scripts import config_docs
from tests.support import ROOT

ENV_NAMES = [f.metadata["env"] for f in setting_fields()]


def _from(example: dict, cls):
    names = {f.metadata["env"] for f in fields(cls)}
    return cls.from_env({k: v or "" for k, v in example.items() if k in names})


def test_env_example_lists_every_setting_with_its_default():
    example = dotenv_values(ROOT / ".env.example")
    assert sorted(example) == sorted(ENV_NAMES)
    assert _from(example, Settings) == Settings()
    assert _from(example, ServerSettings) == ServerSettings()


@pytest.mark.parametrize("path", [config_docs.ENV_EXAMPLE, config_docs.CONFIGURATION], ids=lambda p: p.name)
def test_generated_files_are_up_to_date(path):
    assert path.read_text() == config_docs.generated()[path], \
        f"{path.relative_to(ROOT)} is stale: run python scripts/config_docs.py"


def test_configuration_docs_name_every_setting_and_the_production_switch():
    text = config_docs.CONFIGURATION.read_text()
    assert [name for name in ENV_NAMES if f"| `{name}` |" not in text] == []
    assert "## Production" in text
    assert "REQUIRE_GEMINI_KEY=true" in text


def test_the_script_finds_stale_files(tmp_path):
    assert subprocess.run([sys.executable, "scripts/config_docs.py", "--check"], cwd=ROOT, check=False).returncode == 0
    current, old, missing = tmp_path / "current", tmp_path / "old", tmp_path / "missing"
    current.write_text("text\n")
    old.write_text("old text\n")
    expected = {current: "text\n", old: "text\n", missing: "text\n"}
    assert config_docs.stale(expected) == {old: "text\n", missing: "text\n"}


def test_every_setting_has_a_group_and_a_one_line_description():
    assert len(set(ENV_NAMES)) == len(ENV_NAMES)
    for f in setting_fields():
        assert f.metadata["group"] in GROUPS, f.name
        doc = f.metadata["doc"]
        assert doc, f.name
        assert "\n" not in doc, f.name
        assert doc.endswith("."), f.name
    assert {f.metadata["group"] for f in setting_fields()} == set(GROUPS)


@pytest.mark.parametrize("cls", [Settings, ServerSettings])
def test_an_empty_value_means_the_default(cls):
    """.env.example once set PROMETHEUS_MULTIPROC_DIR= (empty), which gunicorn.conf.py took for a folder."""
    kept = {f.metadata["env"] for f in fields(cls) if f.metadata["keep_empty"]}
    for f in fields(cls):
        name = f.metadata["env"]
        if name not in kept:
            assert cls.from_env({name: ""}) == cls.from_env({name: "  "}) == cls(), name


def test_where_empty_is_a_value_its_description_says_what_it_means():
    kept = {f.metadata["env"]: f for f in setting_fields() if f.metadata["keep_empty"]}
    assert sorted(kept) == ["EMBEDDING_MODEL_ALIASES", "IMAGE_MODEL_ALIASES", "MODEL_ALIASES", "RESPONSES_DB",
                            "SIGNATURE_DB", "SPEECH_MODEL_ALIASES", "TRANSCRIPTION_MODEL_ALIASES"]
    assert all("empty:" in f.metadata["doc"] for f in kept.values())
    assert Settings.from_env({"SIGNATURE_DB": ""}).signature_db == ""
    assert Settings.from_env({"MODEL_ALIASES": ""}).model_aliases == {}


def test_values_are_parsed():
    settings = Settings.from_env({"GEMINI_API_KEY": "k", "UPSTREAM_TIMEOUT": "2.5", "UPSTREAM_RETRIES": "0",
                                  "MODEL_ALIASES": "a=b, c = d", "DEFAULT_TEMPERATURE": "0", "LOG_LEVEL": "DEBUG"})
    assert (settings.gemini_api_key, settings.upstream_timeout, settings.upstream_retries) == ("k", 2.5, 0)
    assert settings.model_aliases == {"a": "b", "c": "d"}
    assert settings.default_temperature == 0.0
    assert settings.log_level == "debug"


def test_server_values_are_parsed():
    server = ServerSettings.from_env({"BIND": "127.0.0.1:9000, unix:/run/gp.sock", "WEB_CONCURRENCY": "2",
                                      "GUNICORN_TIMEOUT": "0", "FORWARDED_ALLOW_IPS": " 10.0.0.0/8 , 10.1.2.3",
                                      "REQUEST_READ_TIMEOUT": "0", "ACCESS_LOG": "-"})
    assert server.bind == ("127.0.0.1:9000", "unix:/run/gp.sock")
    assert (server.workers, server.timeout, server.request_read_timeout) == (2, 0, 0.0)
    assert server.forwarded_allow_ips == "10.0.0.0/8,10.1.2.3"
    assert server.access_log == "-"
    assert server.control_socket is None


@pytest.mark.parametrize("env", [{"UPSTREAM_TIMEOUT": "soon"}, {"MODEL_ALIASES": "nope"}, {"EMULATOR_PORT": "x"},
                                 {"EMBEDDING_BATCH_SIZE": "0"}, {"MAX_BODY_BYTES": "-1"},
                                 {"MEDIA_ALLOW_PRIVATE_URLS": "maybe"},
                                 {"UPSTREAM_TIMEOUT": "0"}, {"UPSTREAM_CHUNK_TIMEOUT": "-5"},
                                 {"UPSTREAM_CONNECT_TIMEOUT": "inf"}, {"EMULATOR_PORT": "70000"},
                                 {"LOG_LEVEL": "loud"}, {"REQUIRE_GEMINI_KEY": "please"}])
def test_bad_values_fail_at_start_naming_the_variable(env):
    with pytest.raises(SettingsError, match=next(iter(env))):
        Settings.from_env(env)


@pytest.mark.parametrize("env", [{"BIND": ","}, {"WEB_CONCURRENCY": "0"}, {"GUNICORN_THREADS": "many"},
                                 {"GUNICORN_WORKER_CONNECTIONS": "0"}, {"GUNICORN_TIMEOUT": "-1"},
                                 {"GUNICORN_GRACEFUL_TIMEOUT": "2.5"}, {"GUNICORN_KEEPALIVE": "-3"},
                                 {"REQUEST_READ_TIMEOUT": "nan"}, {"FORWARDED_ALLOW_IPS": "nginx.local"},
                                 {"FORWARDED_ALLOW_IPS": "10.0.0.1/8"}])
def test_bad_server_values_fail_at_start_naming_the_variable(env):
    with pytest.raises(SettingsError, match=next(iter(env))):
        ServerSettings.from_env(env)


def test_no_key_means_the_emulator():
    assert Settings().uses_emulator
    assert Settings().upstream_base_url == "http://127.0.0.1:8089"
    keyed = Settings(gemini_api_key="k")
    assert not keyed.uses_emulator
    assert keyed.upstream_base_url is None
    assert keyed.upstream_api_key == "k"
    custom = Settings(gemini_base_url="http://127.0.0.1:1234")
    assert not custom.uses_emulator
    assert custom.upstream_base_url == "http://127.0.0.1:1234"


def test_require_gemini_key_refuses_the_emulator():
    for env in ({"REQUIRE_GEMINI_KEY": "true"}, {"REQUIRE_GEMINI_KEY": "true", "GEMINI_API_KEY": ""}):
        with pytest.raises(SettingsError, match="REQUIRE_GEMINI_KEY=true, but GEMINI_API_KEY is not set"):
            Settings.from_env(env)
    with pytest.raises(SettingsError, match="REQUIRE_GEMINI_KEY"):
        Settings(require_gemini_key=True)
    assert Settings.from_env({"REQUIRE_GEMINI_KEY": "true", "GEMINI_API_KEY": "k"}).gemini_api_key == "k"
    elsewhere = Settings.from_env({"REQUIRE_GEMINI_KEY": "true", "GEMINI_BASE_URL": "http://10.0.0.5:8089"})
    assert elsewhere.upstream_base_url == "http://10.0.0.5:8089"


def test_the_shipped_production_env_requires_a_key():
    production = dotenv_values(ROOT / "deploy" / "gemini-proxy.env")
    assert set(production) <= set(ENV_NAMES)
    with pytest.raises(SettingsError, match="REQUIRE_GEMINI_KEY"):
        _from(production, Settings)
    assert _from({**production, "GEMINI_API_KEY": "k"}, Settings).require_gemini_key
    assert _from(production, ServerSettings).bind == ("127.0.0.1:8000",)


@pytest.mark.parametrize(("settings", "name"), [
    (Settings(), "emulator"),
    (Settings(gemini_api_key="k"), "google"),
    (Settings(gemini_api_key="k", gemini_base_url="https://user:pw@gemini.internal:8443/proxy/"),
     "gemini.internal:8443"),
    (Settings(gemini_base_url="http://[::1]:8089"), "[::1]:8089"),
    (Settings(gemini_base_url="https://gemini.internal"), "gemini.internal"),
])
def test_the_upstream_is_named_without_credentials(settings, name):
    assert settings.upstream_name == name


def test_the_key_never_shows_in_repr():
    assert "sekrit" not in repr(Settings(gemini_api_key="sekrit"))


def test_model_fallbacks_are_resolved_like_request_models():
    settings = Settings.from_env({"MODEL_FALLBACKS": "gpt-4o > gemini-2.5-flash>gpt-3.5-turbo, "
                                                     "gemini-3-pro-preview>gemini-2.5-pro"})
    assert settings.model_chain("gemini-2.5-pro") == ("gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite")
    assert settings.model_chain("gemini-3-pro-preview") == ("gemini-3-pro-preview", "gemini-2.5-pro")
    # Chains are not followed into each other: gemini-2.5-pro's own chain is not asked after it.
    assert settings.model_chain("gemini-2.5-flash") == ("gemini-2.5-flash",)
    assert Settings().model_chain("gemini-2.5-pro") == ("gemini-2.5-pro",)


@pytest.mark.parametrize(("text", "says"), [
    ("gemini-2.5-pro", "is not model>fallback"),
    ("gemini-2.5-pro>", "is not model>fallback"),
    ("gemini-2.5-pro>gemini-2.5-flash>gemini-2.5-pro", "a loop, gemini-2.5-pro comes twice"),
    ("gpt-4o>gemini-2.5-pro", "a loop, gemini-2.5-pro comes twice"),  # gpt-4o is gemini-2.5-pro
    ("gemini-2.5-pro>../etc", "'../etc' is neither an alias"),
    ("gemini-2.5-pro>gemini-2.5-flash, gemini-2.5-pro>gemini-2.5-flash-lite", "starts two chains"),
    ("gpt-4o>gemini-2.5-flash, gemini-2.5-pro>gemini-2.5-flash-lite", "gemini-2.5-pro already has a chain"),
])
def test_a_fallback_chain_that_cannot_work_stops_the_start_naming_the_variable(text, says):
    with pytest.raises(SettingsError, match="MODEL_FALLBACKS") as refused:
        Settings.from_env({"MODEL_FALLBACKS": text})
    assert says in str(refused.value)
