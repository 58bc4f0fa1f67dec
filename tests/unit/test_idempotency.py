"""Idempotency keys without HTTP: the same rules from the Redis store and the in-process store."""
import pytest

from portal.services import idempotency
from portal.services.errors import Conflict, Invalid
from portal.services.idempotency_store import Answer, MemoryIdempotencyStore, RedisIdempotencyStore

DAY_MS = 24 * 60 * 60 * 1000
ANSWER = Answer(201, '{"status": "created"}', {"Content-Type": "application/json"})


class Clock:
    """Seconds that move only when the test says so."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def memory_store(app, ctx, clock, monkeypatch):
    made = MemoryIdempotencyStore(clock)
    monkeypatch.setitem(app.extensions, "idempotency_store", made)
    return made


@pytest.fixture
def redis_store(app, ctx, monkeypatch):
    made = RedisIdempotencyStore(app.extensions["redis"])
    monkeypatch.setitem(app.extensions, "idempotency_store", made)
    return made


@pytest.fixture(params=["redis_store", "memory_store"])
def store(request):
    return request.getfixturevalue(request.param)


def test_a_key_is_claimed_once_then_answers_with_what_was_kept(store):
    claim = idempotency.begin(7, "k1", "fp")
    assert isinstance(claim, idempotency.Claim)
    with pytest.raises(Conflict) as caught:
        idempotency.begin(7, "k1", "fp")
    assert caught.value.code == "request_in_progress"
    idempotency.finish(claim, ANSWER)
    assert idempotency.begin(7, "k1", "fp") == ANSWER
    assert isinstance(idempotency.begin(8, "k1", "fp"), idempotency.Claim)  # another caller, another key


def test_another_request_with_the_key_is_a_mismatch_running_or_finished(store):
    claim = idempotency.begin(7, "k1", "fp")
    for _ in range(2):
        with pytest.raises(Invalid) as caught:
            idempotency.begin(7, "k1", "other")
        assert caught.value.code == "idempotency_mismatch" and list(caught.value.fields) == ["Idempotency-Key"]
        idempotency.finish(claim, ANSWER)


def test_an_abandoned_claim_lets_the_retry_run(store):
    claim = idempotency.begin(7, "k1", "fp")
    idempotency.abandon(claim)
    retry = idempotency.begin(7, "k1", "fp")
    assert isinstance(retry, idempotency.Claim) and retry.entry.token != claim.entry.token
    idempotency.abandon(claim)  # the stale claim cannot release the retry's
    with pytest.raises(Conflict):
        idempotency.begin(7, "k1", "fp")


def test_only_the_claimant_keeps_an_answer(store):
    claim = idempotency.begin(7, "k1", "fp")
    idempotency.abandon(claim)
    retry = idempotency.begin(7, "k1", "fp")
    idempotency.finish(claim, Answer(500, "stale", {}))
    with pytest.raises(Conflict):
        idempotency.begin(7, "k1", "fp")
    idempotency.finish(retry, ANSWER)
    assert idempotency.begin(7, "k1", "fp") == ANSWER


def test_in_memory_a_claim_lasts_its_lease_and_an_answer_a_day(ctx, memory_store, clock):
    lease = ctx.config["IDEMPOTENCY_LEASE_SECONDS"]
    idempotency.begin(7, "crashed", "fp")
    clock.now += lease - 1
    with pytest.raises(Conflict):
        idempotency.begin(7, "crashed", "fp")
    clock.now += 1
    idempotency.finish(idempotency.begin(7, "crashed", "fp"), ANSWER)
    clock.now += DAY_MS / 1000 - 1
    assert idempotency.begin(7, "crashed", "fp") == ANSWER
    clock.now += 1
    assert isinstance(idempotency.begin(7, "crashed", "fp"), idempotency.Claim)


def test_in_redis_a_claim_lives_for_its_lease_and_an_answer_for_a_day(app, ctx, redis_store):
    redis = app.extensions["redis"]
    claim = idempotency.begin(7, "k1", "fp")
    lease_ms = ctx.config["IDEMPOTENCY_LEASE_SECONDS"] * 1000
    assert lease_ms - 5000 < redis.pttl(claim.scope) <= lease_ms
    idempotency.finish(claim, ANSWER)
    assert DAY_MS - 5000 < redis.pttl(claim.scope) <= DAY_MS
    assert claim.scope.startswith("idempotency:7:") and "k1" not in claim.scope  # the key is hashed


def test_without_redis_the_app_keeps_keys_in_process(app, ctx, monkeypatch):
    monkeypatch.setitem(app.extensions, "redis", None)
    monkeypatch.delitem(app.extensions, "idempotency_store", raising=False)
    assert isinstance(idempotency.store(), MemoryIdempotencyStore)
    claim = idempotency.begin(7, "k1", "fp")
    idempotency.finish(claim, ANSWER)
    assert idempotency.begin(7, "k1", "fp") == ANSWER
