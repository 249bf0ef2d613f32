"""Client key entries, key lookup, and rate-limit arithmetic."""
import hashlib

import pytest

from gemini_proxy.access.keys import ANONYMOUS, KeyRing, parse_entry, presented_key
from gemini_proxy.access.limits import RateLimits, reset_text
from gemini_proxy.config import Settings, SettingsError
from gemini_proxy.errors import ApiError


def test_entries_name_keys_and_set_limits():
    _, named = parse_entry("sk-1 team-a rpm=10 tpm=5000")
    assert (named.name, named.rpm, named.tpm) == ("team-a", 10, 5000)
    _, unnamed = parse_entry("sk-2", 3)
    assert unnamed.name == "key-3"
    assert unnamed.rpm is None


def test_labels_reveal_nothing_of_the_key_but_limits_count_each_key():
    """A label used to carry a 32-bit hash prefix of an unnamed key: enough to confirm a guess of
    a short key offline. Labels are now places; limits count by the key's digest."""
    ring = KeyRing(Settings(gateway_api_keys="sk-aaa, sk-bbb, sk-ccc team, sk-ddd team"))
    clients = [ring.client_for({"Authorization": f"Bearer sk-{c * 3}"}) for c in "abcd"]
    assert [c.name for c in clients] == ["key-1", "key-2", "team", "team"]
    assert len({c.limit_id for c in clients}) == 4
    digests = {hashlib.sha256(f"sk-{c * 3}".encode()).hexdigest() for c in "abcd"}
    assert not any(d[:k] in c.name for c in clients for d in digests for k in (4, 8))
    passing = KeyRing(Settings(pass_through_keys=True))
    one, other = (passing.client_for({"Authorization": f"Bearer AIza-{n}"}) for n in (1, 2))
    assert one.name == other.name == "passthrough"
    assert one.limit_id != other.limit_id
    assert "AIza" not in repr(one)

    limits = RateLimits(Settings(rate_limit_rpm=1))
    for client in clients:  # one request each: the two "team" keys do not share a budget
        limits.admit(client)
    with pytest.raises(ApiError):
        limits.admit(clients[3])


@pytest.mark.parametrize("entry", ["sk a b", "sk team rpm=x", "sk team burst=3"])
def test_bad_entries_fail_at_start(entry):
    with pytest.raises(SettingsError):
        parse_entry(entry)


@pytest.mark.parametrize("headers, key", [
    ({"Authorization": "Bearer sk-1"}, "sk-1"), ({"Authorization": "bearer  sk-1 "}, "sk-1"),
    ({"api-key": "sk-2"}, "sk-2"), ({"x-api-key": "sk-3"}, "sk-3"), ({"Authorization": "Basic x"}, None), ({}, None),
])
def test_presented_key(headers, key):
    assert presented_key(headers) == key


def test_key_ring():
    ring = KeyRing(Settings(gateway_api_keys="sk-1 team-a, sk-2"))
    assert not ring.open
    assert ring.client_for({"Authorization": "Bearer sk-1"}).name == "team-a"
    for headers in ({}, {"Authorization": "Bearer sk-3"}):
        with pytest.raises(ApiError) as caught:
            ring.client_for(headers)
        assert (caught.value.status, caught.value.code) == (401, "invalid_api_key")
    assert KeyRing(Settings()).client_for({}) is ANONYMOUS
    passing = KeyRing(Settings(pass_through_keys=True)).client_for({"Authorization": "Bearer AIza-own"})
    assert passing.gemini_key == "AIza-own"
    assert "AIza" not in passing.name


@pytest.mark.parametrize("seconds, text", [(0.02, "20ms"), (12.1, "13s"), (60, "1m0s"), (75.5, "1m16s")])
def test_reset_times_are_written_like_openai(seconds, text):
    assert reset_text(seconds) == text


def test_tokens_are_charged_after_the_answer_and_then_refuse():
    limits = RateLimits(Settings(rate_limit_tpm=100))
    client = parse_entry("sk-9 team-9")[1]
    limits.admit(client)
    limits.charge(client, 150)
    assert limits.headers(client)["x-ratelimit-remaining-tokens"] == "0"
    with pytest.raises(ApiError) as caught:
        limits.admit(client)
    assert (caught.value.status, caught.value.type) == (429, "tokens")
    assert "Retry-After" in caught.value.headers


def test_no_limits_no_headers():
    assert RateLimits(Settings()).headers(ANONYMOUS) == {}
