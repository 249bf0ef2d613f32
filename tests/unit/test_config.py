"""Settings: parsing, and the documented defaults are the real ones."""
from dataclasses import fields

import pytest
from dotenv import dotenv_values

from gemini_proxy.config import Settings, SettingsError
from tests.support import DATA

ROOT = DATA.parents[1]
ENV_NAMES = [f.metadata["env"] for f in fields(Settings)]


def test_env_example_lists_every_setting_with_its_default():
    example = dotenv_values(ROOT / ".env.example")
    assert set(ENV_NAMES) <= set(example)
    assert Settings.from_env({k: v or "" for k, v in example.items() if k in ENV_NAMES}) == Settings()


def test_readme_documents_every_setting():
    readme = (ROOT / "README.md").read_text()
    assert [name for name in ENV_NAMES if f"`{name}`" not in readme] == []


def test_values_are_parsed():
    settings = Settings.from_env({"GEMINI_API_KEY": "k", "UPSTREAM_TIMEOUT": "2.5", "UPSTREAM_RETRIES": "0",
                                  "MODEL_ALIASES": "a=b, c = d", "DEFAULT_TEMPERATURE": "0"})
    assert (settings.gemini_api_key, settings.upstream_timeout, settings.upstream_retries) == ("k", 2.5, 0)
    assert settings.model_aliases == {"a": "b", "c": "d"}
    assert settings.default_temperature == 0.0


@pytest.mark.parametrize("env", [{"UPSTREAM_TIMEOUT": "soon"}, {"MODEL_ALIASES": "nope"}, {"EMULATOR_PORT": "x"},
                                 {"EMBEDDING_BATCH_SIZE": "0"}, {"MAX_BODY_BYTES": "-1"},
                                 {"MEDIA_ALLOW_PRIVATE_URLS": "maybe"},
                                 {"UPSTREAM_TIMEOUT": "0"}, {"UPSTREAM_CHUNK_TIMEOUT": "-5"},
                                 {"UPSTREAM_CONNECT_TIMEOUT": "inf"}])
def test_bad_values_fail_at_start_naming_the_variable(env):
    with pytest.raises(SettingsError, match=next(iter(env))):
        Settings.from_env(env)


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


def test_the_key_never_shows_in_repr():
    assert "sekrit" not in repr(Settings(gemini_api_key="sekrit"))
