"""The pool of Gemini keys (upstream/keys.py) and its settings, without a network: which key each
call takes, cooldowns per (key, model) and disabled keys on an injected clock, what the pool answers
when no key is left for a model, and how GEMINI_API_KEYS is read."""
import logging
import uuid
from collections import Counter
from contextlib import contextmanager

import pytest
import redis

from gemini_proxy.config import Settings, SettingsError
from gemini_proxy.config_parsing import UpstreamKey
from gemini_proxy.errors import ApiError
from gemini_proxy.upstream.key_sharing import SharedKeyStates, shared_id
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


PRO, FLASH = "gemini-2.5-pro", "gemini-2.5-flash"


def picks(keys: KeyPool, n: int, model: str | None = PRO, hold: bool = False) -> list[str]:
    names = []
    for _ in range(n):
        lease = keys.acquire(model)
        names.append(lease.name)
        if not hold:
            lease.release()
    return names


def fail(keys: KeyPool, model: str | None, error: ApiError, avoid: str | None = None) -> str:
    """One call's attempt that Gemini refused: the name of the key it took."""
    lease = keys.acquire(model, avoid=avoid)
    keys.failed(lease, error)
    lease.release()
    return lease.name


@pytest.mark.parametrize("strategy", ["least-in-flight", "round-robin"])
def test_calls_one_after_another_follow_the_weights_interleaved(strategy):
    names = picks(pool(2, 1, strategy=strategy), 6)
    assert Counter(names) == {"a": 4, "b": 2}
    assert "a,a,a" not in ",".join(names)  # smooth: b comes within each round, not after a burst of a


def test_least_in_flight_takes_the_key_with_the_fewest_calls_per_weight():
    keys = pool(1, 1, 1)
    held = [keys.acquire(PRO) for _ in range(3)]
    assert sorted(lease.name for lease in held) == ["a", "b", "c"]
    held[1].release()
    assert keys.acquire(FLASH).name == held[1].name  # the only key with nothing in flight, whatever the model
    weighted = pool(2, 1)
    assert Counter(picks(weighted, 3, hold=True)) == {"a": 2, "b": 1}  # a holds two calls for b's one


def test_round_robin_ignores_the_calls_in_flight():
    assert picks(pool(1, 1, strategy="round-robin"), 4, hold=True) == ["a", "b", "a", "b"]


def test_a_release_counts_once():
    keys = pool(1, 1)
    lease = keys.acquire(PRO)
    lease.release()
    lease.release()
    assert Counter(picks(keys, 2, hold=True)) == {"a": 1, "b": 1}  # a's in-flight count did not go below 0


def test_a_429_cools_the_key_for_that_model_only_for_gemini_delay_then_it_comes_back():
    clock = Clock()
    keys = pool(1, 1, clock=clock)
    lease = keys.acquire(PRO)
    assert lease.model == PRO
    assert keys.failed(lease, rate_limited("30")) is True
    lease.release()
    assert set(picks(keys, 4, PRO)) == {"b"}
    assert set(picks(keys, 4, FLASH)) == {"a", "b"}  # Gemini's quotas are per model: a still serves flash
    assert set(picks(keys, 4, None)) == {"a", "b"}  # a call without a model ignores cooldowns
    assert keys.state() == {"usable": 2, "total": 2}  # usable: not disabled
    clock.now += 29.9
    assert set(picks(keys, 4, PRO)) == {"b"}
    clock.now += 0.1
    assert set(picks(keys, 4, PRO)) == {"a", "b"}


def test_a_429_without_retry_info_cools_the_key_for_the_setting():
    clock = Clock()
    keys = pool(1, 1, cooldown=12, clock=clock)
    assert fail(keys, PRO, rate_limited(None)) == "a"
    clock.now += 11.5
    assert set(picks(keys, 4)) == {"b"}
    clock.now += 0.5
    assert set(picks(keys, 4)) == {"a", "b"}


def test_cooldowns_per_model_keep_the_later_end_and_the_pool_answer_names_the_soonest_for_that_model():
    clock = Clock()
    keys = pool(1, 1, clock=clock)
    for name, model, retry_after in (("a", PRO, "30"), ("b", PRO, "7"), ("a", FLASH, "3"), ("b", FLASH, "20")):
        lease = keys.acquire(model, avoid="b" if name == "a" else "a")
        assert lease.name == name
        keys.failed(lease, rate_limited(retry_after))
        lease.release()
    keys.failed(lease, rate_limited("2"))  # b's flash again, sooner: the later end stands
    assert keys.exhausted(PRO).headers == {"Retry-After": "7"}
    assert keys.exhausted(FLASH).headers == {"Retry-After": "3"}
    assert "rate-limited by Gemini for gemini-2.5-pro" in keys.exhausted(PRO).message
    assert keys.exhausted(None) is None
    assert keys.exhausted("gemini-2.0-flash") is None
    clock.now += 3
    assert set(picks(keys, 2, FLASH)) == {"a"}
    assert keys.exhausted(PRO).headers == {"Retry-After": "4"}
    clock.now += 17
    assert set(picks(keys, 2, FLASH)) == {"a", "b"}


def test_a_429_on_a_call_without_a_model_moves_the_call_and_rests_nothing():
    keys = pool(1, 1)
    lease = keys.acquire()
    assert lease.model is None
    assert keys.failed(lease, rate_limited("30")) is True  # the call may go to another key
    lease.release()
    assert set(picks(keys, 4, PRO)) == set(picks(keys, 4, None)) == {"a", "b"}
    keys.failed(keys.acquire(avoid="a"), REFUSED)  # b disabled: a, just refused, is all that is left
    with pytest.raises(ApiError) as refused:
        keys.acquire(avoid="a")
    assert (refused.value.status, refused.value.headers) == (429, {"Retry-After": "1"})


def test_a_refused_key_is_disabled_for_ten_cooldowns_for_every_model_and_logged_once():
    clock = Clock()
    keys = pool(1, 1, cooldown=5, clock=clock)
    first, second = keys.acquire(PRO), keys.acquire(PRO)
    assert first.name == "a"
    lines = Lines()
    with lines.of("gemini_proxy"):
        assert keys.failed(first, REFUSED) is True
        keys.failed(first, ApiError(403, "denied", "permission_error", None, "permission_denied"))
    assert [line for line in lines.messages if "refused" in line] == [
        "Gemini refused upstream key a (401 INVALID_ARGUMENT): left out for 50 s, calls go to the other keys"]
    first.release()
    second.release()
    assert keys.state() == {"usable": 1, "total": 2}
    clock.now += 5 * DISABLED_COOLDOWNS - 1
    assert set(picks(keys, 3, PRO)) == set(picks(keys, 3, FLASH)) == set(picks(keys, 3, None)) == {"b"}
    clock.now += 1
    assert set(picks(keys, 4)) == {"a", "b"}
    assert keys.state() == {"usable": 2, "total": 2}


def test_failures_about_the_request_leave_the_key_in():
    keys = pool(1, 1)
    for error in (ApiError(400, "bad", code="invalid_request"), ApiError(503, "busy", code="overloaded"),
                  ApiError(404, "no model", code="model_not_found")):
        lease = keys.acquire(PRO)
        assert keys.failed(lease, error) is False
        lease.release()
    assert keys.state() == {"usable": 2, "total": 2}
    assert set(picks(keys, 4)) == {"a", "b"}


def test_with_every_key_cooling_for_a_model_the_pool_answers_429_for_it_and_other_models_go_on():
    clock = Clock()
    keys = pool(1, 1, clock=clock)
    keys.failed(keys.acquire(PRO), rate_limited("30"))
    keys.failed(keys.acquire(PRO), rate_limited("7"))
    clock.now += 2.5
    with pytest.raises(ApiError) as refused:
        keys.acquire(PRO)
    error = refused.value
    assert (error.status, error.type, error.code, error.headers) == (
        429, "rate_limit_error", "rate_limit_exceeded", {"Retry-After": "5"})
    assert keys.exhausted(PRO).headers == {"Retry-After": "5"}
    assert keys.exhausted(FLASH) is None
    assert set(picks(keys, 4, FLASH)) == set(picks(keys, 4, None)) == {"a", "b"}
    assert keys.state() == {"usable": 2, "total": 2}


def test_with_every_key_disabled_the_pool_answers_503_and_cooling_keys_make_it_429():
    clock = Clock()
    keys = pool(1, 1, cooldown=6, clock=clock)
    keys.failed(keys.acquire(PRO), REFUSED)
    keys.failed(keys.acquire(PRO), REFUSED)
    for model in (PRO, None):
        with pytest.raises(ApiError) as refused:
            keys.acquire(model)
        assert (refused.value.status, refused.value.type, refused.value.code, refused.value.headers) == (
            503, "service_unavailable_error", "upstream_keys_unavailable", {"Retry-After": "60"})
    assert keys.state() == {"usable": 0, "total": 2}
    mixed = pool(1, 1, clock=clock)
    mixed.failed(mixed.acquire(PRO), REFUSED)
    mixed.failed(mixed.acquire(PRO), rate_limited("9"))
    with pytest.raises(ApiError) as cooling:
        mixed.acquire(PRO)
    assert (cooling.value.status, cooling.value.headers) == (429, {"Retry-After": "9"})
    assert mixed.acquire(FLASH).name == mixed.acquire(None).name == "b"


def test_after_one_key_failed_the_call_avoids_it_or_gets_the_pool_answer():
    keys = pool(1, 1)
    first = keys.acquire(PRO)
    keys.failed(first, rate_limited("30"))
    assert keys.acquire(PRO, avoid=first.name).name == "b"
    assert keys.exhausted(PRO) is None  # b is still usable


def test_a_pool_of_one_never_leaves_its_key_out():
    calls = []
    keys = pool(1, events=KeyEvents(sent=lambda name: calls.append(("sent", name)),
                                    rate_limited=lambda name: calls.append(("429", name))))
    assert not keys.failover
    for error in (rate_limited("30"), REFUSED):
        lease = keys.acquire(PRO)
        assert lease.header is None  # the SDK client's own key: nothing added to the call
        assert keys.failed(lease, error) is False
        lease.release()
    assert keys.state() == {"usable": 1, "total": 1}
    assert keys.exhausted(PRO) is None
    assert calls == [("sent", "a"), ("429", "a"), ("sent", "a")]


def test_the_usable_gauge_is_told_each_change_of_disabled_by_name_not_the_cooldowns():
    clock, told = Clock(), []
    keys = pool(1, 1, cooldown=2, clock=clock,
                events=KeyEvents(usable=lambda name, usable: told.append((name, usable))))
    assert told == [("a", True), ("b", True)]
    assert fail(keys, PRO, rate_limited("10")) == "a"
    assert fail(keys, PRO, rate_limited("20"), avoid="a") == "b"
    assert told[2:] == []  # cooling down for one model: still usable for the others
    refused = fail(keys, FLASH, REFUSED)
    keys.state()
    assert told[2:] == [(refused, False)]
    clock.now += 2 * DISABLED_COOLDOWNS
    keys.state()
    assert told[3:] == [(refused, True)]


def test_redis_holds_one_hash_of_cooldowns_per_key_ending_with_its_latest(redis_url):
    """On the real redis-server of the session: what two gateways would read and write."""
    one, other, idle = (shared_id(f"sharing-{uuid.uuid4().hex}") for _ in range(3))
    shared = SharedKeyStates(redis_url)
    try:
        shared.push_cooldown(one, PRO, 30)
        shared.push_cooldown(one, PRO, 2)  # another gateway's shorter cooldown cuts nothing short
        shared.push_cooldown(one, FLASH, 5)
        shared.push_disabled(other, 10)
        hash_name = f"gemini-proxy:upstream-key:{one}:cooldowns"
        with redis.Redis.from_url(redis_url) as direct:
            assert 29_000 < direct.pttl(hash_name) <= 30_000
            direct.hset(hash_name, "gemini-2.0-flash", 1)  # ended long ago: read as ended
        [(cooling, disabled), (other_cooling, other_disabled), nothing] = shared.pull([one, other, idle])
        assert (set(cooling), disabled) == ({PRO, FLASH}, 0)
        assert 29 < cooling[PRO] <= 30
        assert 4 < cooling[FLASH] <= 5
        assert other_cooling == {}
        assert 9 < other_disabled <= 10
        assert nothing == ({}, 0)
    finally:
        shared.close()


def test_keys_stay_out_of_repr_and_leases_carry_them_only_as_the_header():
    keys = pool(1, 1)
    lease = keys.acquire(PRO)
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
