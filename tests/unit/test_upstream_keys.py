"""The pool of Gemini keys (upstream/keys.py) and its settings, without a network: which key each
call takes, cooldowns and disabled keys on an injected clock, what the pool answers when no key is
left, and how GEMINI_API_KEYS is read."""
import logging
from collections import Counter
from contextlib import contextmanager

import pytest

from gemini_proxy.config import Settings, SettingsError
from gemini_proxy.config_parsing import UpstreamKey
from gemini_proxy.errors import ApiError
from gemini_proxy.upstream.keys import DISABLED_COOLDOWNS, KeyEvents, KeyPool


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def pool(*weights: int, strategy="least-in-flight", cooldown=60.0, clock=None, events=None) -> KeyPool:
    keys = tuple(UpstreamKey(f"secret-{name}", name, weight) for name, weight in zip("abcd", weights, strict=False))
    return KeyPool(keys, strategy, cooldown, events=events or KeyEvents(), clock=clock or Clock())


def rate_limited(retry_after: str | None = "30") -> ApiError:
    return ApiError(429, "quota", "rate_limit_error", None, "rate_limit_exceeded",
                    {"Retry-After": retry_after} if retry_after else {}, upstream="RESOURCE_EXHAUSTED")


REFUSED = ApiError(401, "The Gemini API key configured for this gateway was rejected by Gemini.",
                   "authentication_error", None, "invalid_api_key", upstream="INVALID_ARGUMENT")


class Lines(logging.Handler):
    """The messages one logger tree wrote (create_app's JSON logging stops "gemini_proxy"
    propagating, so caplog's root handler would miss them in a full run)."""

    def __init__(self):
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())

    @contextmanager
    def of(self, name: str):
        logger = logging.getLogger(name)
        logger.addHandler(self)
        try:
            yield self
        finally:
            logger.removeHandler(self)


def picks(keys: KeyPool, n: int, hold: bool = False) -> list[str]:
    names = []
    for _ in range(n):
        lease = keys.acquire()
        names.append(lease.name)
        if not hold:
            lease.release()
    return names


@pytest.mark.parametrize("strategy", ["least-in-flight", "round-robin"])
def test_calls_one_after_another_follow_the_weights_interleaved(strategy):
    names = picks(pool(2, 1, strategy=strategy), 6)
    assert Counter(names) == {"a": 4, "b": 2}
    assert "a,a,a" not in ",".join(names)  # smooth: b comes within each round, not after a burst of a


def test_least_in_flight_takes_the_key_with_the_fewest_calls_per_weight():
    keys = pool(1, 1, 1)
    held = [keys.acquire() for _ in range(3)]
    assert sorted(lease.name for lease in held) == ["a", "b", "c"]
    held[1].release()
    assert keys.acquire().name == held[1].name  # the only key with nothing in flight
    weighted = pool(2, 1)
    assert Counter(picks(weighted, 3, hold=True)) == {"a": 2, "b": 1}  # a holds two calls for b's one


def test_round_robin_ignores_the_calls_in_flight():
    assert picks(pool(1, 1, strategy="round-robin"), 4, hold=True) == ["a", "b", "a", "b"]


def test_a_release_counts_once():
    keys = pool(1, 1)
    lease = keys.acquire()
    lease.release()
    lease.release()
    assert Counter(picks(keys, 2, hold=True)) == {"a": 1, "b": 1}  # a's in-flight count did not go below 0


def test_a_429_cools_the_key_for_gemini_delay_then_it_comes_back():
    clock = Clock()
    keys = pool(1, 1, clock=clock)
    lease = keys.acquire()
    assert keys.failed(lease, rate_limited("30")) is True
    lease.release()
    assert set(picks(keys, 4)) == {"b"}
    assert keys.state() == {"usable": 1, "total": 2}
    clock.now += 29.9
    assert set(picks(keys, 4)) == {"b"}
    clock.now += 0.1
    assert keys.state() == {"usable": 2, "total": 2}
    assert set(picks(keys, 4)) == {"a", "b"}


def test_a_429_without_retry_info_cools_the_key_for_the_setting():
    clock = Clock()
    keys = pool(1, 1, cooldown=12, clock=clock)
    keys.failed(keys.acquire(), rate_limited(None))
    clock.now += 11.5
    assert keys.state()["usable"] == 1
    clock.now += 0.5
    assert keys.state()["usable"] == 2


def test_a_refused_key_is_disabled_for_ten_cooldowns_and_logged_once():
    clock = Clock()
    keys = pool(1, 1, cooldown=5, clock=clock)
    first, second = keys.acquire(), keys.acquire()
    assert first.name == "a"
    lines = Lines()
    with lines.of("gemini_proxy"):
        assert keys.failed(first, REFUSED) is True
        keys.failed(first, ApiError(403, "denied", "permission_error", None, "permission_denied"))
    assert [line for line in lines.messages if "refused" in line] == [
        "Gemini refused upstream key a (401 INVALID_ARGUMENT): left out for 50 s, calls go to the other keys"]
    first.release()
    second.release()
    clock.now += 5 * DISABLED_COOLDOWNS - 1
    assert set(picks(keys, 3)) == {"b"}
    clock.now += 1
    assert set(picks(keys, 4)) == {"a", "b"}


def test_failures_about_the_request_leave_the_key_in():
    keys = pool(1, 1)
    for error in (ApiError(400, "bad", code="invalid_request"), ApiError(503, "busy", code="overloaded"),
                  ApiError(404, "no model", code="model_not_found")):
        assert keys.failed(keys.acquire(), error) is False
    assert keys.state() == {"usable": 2, "total": 2}


def test_with_every_key_cooling_the_pool_answers_429_with_the_soonest_return():
    clock = Clock()
    keys = pool(1, 1, clock=clock)
    keys.failed(keys.acquire(), rate_limited("30"))
    keys.failed(keys.acquire(), rate_limited("7"))
    clock.now += 2.5
    with pytest.raises(ApiError) as refused:
        keys.acquire()
    error = refused.value
    assert (error.status, error.type, error.code, error.headers) == (
        429, "rate_limit_error", "rate_limit_exceeded", {"Retry-After": "5"})
    assert keys.exhausted().headers == {"Retry-After": "5"}
    assert keys.state() == {"usable": 0, "total": 2}


def test_with_every_key_disabled_the_pool_answers_503_and_cooling_keys_make_it_429():
    clock = Clock()
    keys = pool(1, 1, cooldown=6, clock=clock)
    keys.failed(keys.acquire(), REFUSED)
    keys.failed(keys.acquire(), REFUSED)
    with pytest.raises(ApiError) as refused:
        keys.acquire()
    assert (refused.value.status, refused.value.type, refused.value.code, refused.value.headers) == (
        503, "service_unavailable_error", "upstream_keys_unavailable", {"Retry-After": "60"})
    mixed = pool(1, 1, clock=clock)
    mixed.failed(mixed.acquire(), REFUSED)
    mixed.failed(mixed.acquire(), rate_limited("9"))
    with pytest.raises(ApiError) as cooling:
        mixed.acquire()
    assert (cooling.value.status, cooling.value.headers) == (429, {"Retry-After": "9"})


def test_after_one_key_failed_the_call_avoids_it_or_gets_the_pool_answer():
    keys = pool(1, 1)
    first = keys.acquire()
    keys.failed(first, rate_limited("30"))
    assert keys.acquire(avoid=first.name).name == "b"
    assert keys.exhausted() is None  # b is still usable


def test_a_pool_of_one_never_leaves_its_key_out():
    calls = []
    keys = pool(1, events=KeyEvents(sent=lambda name: calls.append(("sent", name)),
                                    rate_limited=lambda name: calls.append(("429", name))))
    assert not keys.failover
    for error in (rate_limited("30"), REFUSED):
        lease = keys.acquire()
        assert lease.header is None  # the SDK client's own key: nothing added to the call
        assert keys.failed(lease, error) is False
        lease.release()
    assert keys.state() == {"usable": 1, "total": 1}
    assert keys.exhausted() is None
    assert calls == [("sent", "a"), ("429", "a"), ("sent", "a")]


def test_the_usable_gauge_is_told_each_change_by_name():
    clock, told = Clock(), []
    keys = pool(1, 1, clock=clock, events=KeyEvents(usable=lambda name, usable: told.append((name, usable))))
    assert told == [("a", True), ("b", True)]
    keys.failed(keys.acquire(), rate_limited("10"))
    keys.failed(keys.acquire(avoid="a"), rate_limited("20"))
    assert told[2:] == [("a", False), ("b", False)]
    clock.now += 10
    keys.state()
    assert told[4:] == [("a", True)]


def test_keys_stay_out_of_repr_and_leases_carry_them_only_as_the_header():
    keys = pool(1, 1)
    lease = keys.acquire()
    assert lease.header == lease.key == "secret-a"
    assert "secret" not in repr(UpstreamKey("secret-a", "a"))
    assert keys.secrets == ("secret-a", "secret-b")


def test_gemini_api_keys_are_read_with_names_weights_and_a_file(tmp_path):
    keys_file = tmp_path / "keys"
    keys_file.write_text("# team keys\nfile-key-1 backup weight=3  # the big one\n\nfile-key-2\n")
    settings = Settings.from_env({"GEMINI_API_KEYS": "env-key-1 main, env-key-2",
                                  "GEMINI_API_KEYS_FILE": str(keys_file),
                                  "KEY_POOL_STRATEGY": "Round-Robin", "KEY_COOLDOWN_SECONDS": "15"})
    assert [(k.key, k.name, k.weight) for k in settings.upstream_keys] == [
        ("env-key-1", "main", 1), ("env-key-2", "key-2", 1), ("file-key-1", "backup", 3), ("file-key-2", "key-4", 1)]
    assert (settings.key_pool_strategy, settings.key_cooldown_seconds) == ("round-robin", 15.0)
    assert not settings.uses_emulator
    assert settings.upstream_base_url is None
    assert settings.upstream_api_key == "env-key-1"
    assert "env-key" not in repr(settings)
    assert Settings.from_env({"GEMINI_API_KEYS": "k", "REQUIRE_GEMINI_KEY": "true"}).require_gemini_key
    assert [(k.key, k.name) for k in Settings(gemini_api_key="solo").upstream_keys] == [("solo", "key-1")]
    assert [k.key for k in Settings().upstream_keys] == ["emulator"]


@pytest.mark.parametrize(("env", "message"), [
    ({"GEMINI_API_KEY": "AIzaSyA-secret-one", "GEMINI_API_KEYS": "AIzaSyA-secret-two"},
     "GEMINI_API_KEY and GEMINI_API_KEYS"),
    ({"GEMINI_API_KEYS": "AIzaSyA-secret-one AIzaSyA-secret-twoAAAAAAAAAAAAAAA"},
     r"GEMINI_API_KEYS entry 1: .*\(is a comma missing"),
    ({"GEMINI_API_KEYS": "AIzaSyA-secret-one a b"}, "GEMINI_API_KEYS entry 1"),
    ({"GEMINI_API_KEYS": "AIzaSyA-secret-one, AIzaSyA-secret-two weight=0"}, "GEMINI_API_KEYS entry 2: weight="),
    ({"GEMINI_API_KEYS": "AIzaSyA-secret-one rpm=5"}, "unknown option rpm="),
    ({"GEMINI_API_KEYS": "AIzaSyA-secret-one, AIzaSyA-secret-one"}, "entry 2: the same key as GEMINI_API_KEYS entry 1"),
    ({"GEMINI_API_KEYS": "AIzaSyA-secret-one x, AIzaSyA-secret-two x"}, "entry 2: the same name as"),
    ({"GEMINI_API_KEYS": " , "}, "hold no key"),
    ({"KEY_POOL_STRATEGY": "random"}, "KEY_POOL_STRATEGY"),
    ({"KEY_COOLDOWN_SECONDS": "0"}, "KEY_COOLDOWN_SECONDS"),
])
def test_bad_key_settings_fail_at_start_naming_the_variable_never_the_key(env, message):
    with pytest.raises(SettingsError, match=message) as refused:
        Settings.from_env(env)
    assert "secret" not in str(refused.value)


def test_a_keys_file_that_cannot_be_read_is_named(tmp_path):
    with pytest.raises(SettingsError, match=r"GEMINI_API_KEYS_FILE=.*missing"):
        Settings.from_env({"GEMINI_API_KEYS_FILE": str(tmp_path / "missing")})
    (tmp_path / "empty").write_text("# nothing yet\n")
    with pytest.raises(SettingsError, match="hold no key"):
        Settings.from_env({"GEMINI_API_KEYS_FILE": str(tmp_path / "empty")})
