"""What a commit tells Redis goes in one round trip (services/commit_messages.py), seen in the bytes the app
sends: a booking's directory bump, its mail's "run job N now" and the release of the hold it used up."""
import hashlib

import pytest
from redis import Redis
from redis.connection import AbstractConnection
from sqlalchemy import select

from portal.extensions import db
from portal.models import Department
from portal.services import commit_messages, directory_version
from portal.services.change_versions import BUMP_SCRIPT
from portal.services.scheduling import hold_store
from tests.fixtures import clinic
from tests.fixtures.api_client import envelope


@pytest.fixture
def sent(monkeypatch):
    """Every write of the app's Redis connections, one per round trip (a pipeline is one), as bytes."""
    writes: list[bytes] = []
    original = AbstractConnection.send_packed_command

    def counted(connection, command, check_health=True):
        writes.append(b"".join(command) if isinstance(command, list | tuple) else command)
        return original(connection, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    return writes


@pytest.fixture
def slot(ctx):
    return clinic.slot(clinic.doctor().id, clinic.soon(60 * 48))


def _sha(source: str) -> bytes:
    return hashlib.sha1(source.encode()).hexdigest().encode()  # what EVALSHA names a script by


def test_a_booking_tells_redis_what_it_did_in_one_round_trip(app, api, ctx, slot, alice, sent, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_RUNNER", "rq")
    redis = app.extensions["redis"]
    first = clinic.slot(slot.doctor_id, clinic.soon(60 * 72))
    assert api.get(f"/doctors/{slot.doctor_id}/slots").status_code == 200  # the directory has a version
    for booked in (first, slot):  # the first booking also lets RQ ask Redis for its version, once
        hold = envelope(api.post("/holds", json={"slot_id": booked.id}, token=alice.token))["data"]
        version = int(redis.get(directory_version.KEY))
        sent.clear()
        assert api.post("/appointments", json={"hold_id": hold["hold_id"]}, token=alice.token).status_code == 201
    after_commit = [write for write in sent if _sha(hold_store._RELEASE) in write]
    assert len(after_commit) == 1, sent
    assert _sha(BUMP_SCRIPT) in after_commit[0] and b"RPUSH" in after_commit[0]
    assert len(sent) == 3, sent  # the caller and the hold read before, everything the commit owes after
    assert redis.get(f"hold:id:{hold['hold_id']}") is None and redis.get(f"hold:slot:{slot.id}") is None
    assert int(redis.get(directory_version.KEY)) >= version + 2  # the booking's bump and the release's
    queued = redis.lrange(f"rq:queue:{app.config['JOBS_QUEUE']}", 0, -1)
    assert len(queued) >= 2 and all(job.startswith(b"outbox-") for job in queued)  # each booking's mail


def test_a_redis_that_lost_its_scripts_still_hears_everything(app, api, slot, alice):
    redis = app.extensions["redis"]
    assert api.get(f"/doctors/{slot.doctor_id}/slots").status_code == 200
    hold = envelope(api.post("/holds", json={"slot_id": slot.id}, token=alice.token))["data"]
    version = int(redis.get(directory_version.KEY))
    redis.script_flush()  # as after a restart of Redis
    assert api.post("/appointments", json={"hold_id": hold["hold_id"]}, token=alice.token).status_code == 201
    assert redis.get(f"hold:id:{hold['hold_id']}") is None and redis.get(f"hold:slot:{slot.id}") is None
    assert int(redis.get(directory_version.KEY)) >= version + 2


def _setting(key: str) -> commit_messages.Message:
    return commit_messages.Message(lambda batch: batch.pipe.set(key, "told"), lambda error: None)


def test_a_rolled_back_transaction_tells_nothing_and_the_next_commit_tells_only_its_own(app, ctx):
    redis = app.extensions["redis"]
    db.session.execute(select(1))  # a transaction in progress
    commit_messages.after_commit(db.session(), _setting("rolled-back"))
    db.session.rollback()
    db.session.execute(select(1))
    commit_messages.after_commit(db.session(), _setting("committed"))
    db.session.commit()
    assert redis.get("rolled-back") is None and redis.get("committed") == b"told"


def test_a_message_redis_refuses_is_reported_and_the_others_still_go(app, ctx):
    redis = app.extensions["redis"]
    redis.set("not-a-list", "text")
    refused = []
    commit_messages.after_commit(db.session(), commit_messages.Message(
        lambda batch: batch.pipe.rpush("not-a-list", "x"), refused.append))
    commit_messages.after_commit(db.session(), _setting("told-anyway"))
    db.session.commit()
    assert [type(error).__name__ for error in refused] == ["ResponseError"]
    assert redis.get("told-anyway") == b"told"


def test_redis_down_at_the_commit_reports_every_message_and_the_commit_stands(app, ctx, monkeypatch, caplog):
    monkeypatch.setitem(app.extensions, "redis", Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1))
    refused = []
    db.session.add(Department(name="Opened while Redis is down"))  # moves the directory version too
    for key in ("first", "second"):
        commit_messages.after_commit(db.session(), commit_messages.Message(
            lambda batch, key=key: batch.pipe.set(key, "told"), refused.append))
    db.session.commit()  # no exception: what Redis was to hear is reported, the change is committed
    assert [type(error).__name__ for error in refused] == ["ConnectionError", "ConnectionError"]
    assert "could not bump the version directory:version" in caplog.text
    assert db.session.scalar(select(Department.id).where(Department.name == "Opened while Redis is down"))
