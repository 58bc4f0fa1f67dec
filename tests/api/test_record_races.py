"""Simultaneous writers against the real app under gunicorn with 4 worker processes: of many edits based on
one version exactly one wins and every other is 409 stale_record, and of many identical assignments exactly
one is created. Nothing answers 500 and no edit is lost without its writer being told."""
import threading
from collections import Counter

import pytest
import requests
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Assignment, MedicalRecord, MedicalRecordVersion
from tests.api.clinic_api import caller
from tests.fixtures import clinic
from tests.fixtures.api_client import PREFIX
from tests.fixtures.gunicorn_server import gunicorn_server

pytestmark = pytest.mark.laptop  # every race here runs on SQLite too
WRITERS = 12


@pytest.fixture(scope="module")
def server(app):
    with gunicorn_server(app, workers=4) as base:
        yield base + PREFIX


@pytest.fixture
def writers(app, factories):
    return [caller(app, factories.user(role="admin")) for _ in range(WRITERS)]


def _record(app) -> tuple[int, int]:
    """(record id, patient id) of a fresh record at version 1."""
    with app.app_context():
        record = MedicalRecord(patient_id=clinic.patient().id, diagnostics="v1", version=1)
        db.session.add(record)
        db.session.commit()
        ids = record.id, record.patient_id
        db.session.remove()
    return ids


def race(method: str, url: str, tokens: list[str], bodies: list[dict]) -> list[requests.Response]:
    """Send bodies[n] with tokens[n], one thread each, all released together by a barrier."""
    barrier = threading.Barrier(len(tokens))
    answers: list = [None] * len(tokens)

    def run(index: int) -> None:
        with requests.Session() as session:
            barrier.wait()
            answers[index] = session.request(method, url, json=bodies[index], timeout=60,
                                              headers={"Authorization": f"Bearer {tokens[index]}"})

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert all(answer is not None for answer in answers), "a request got no answer"
    return answers


def test_of_simultaneous_edits_of_one_version_exactly_one_wins(app, server, writers):
    record_id, _ = _record(app)
    answers = race("PATCH", f"{server}/records/{record_id}", [w.token for w in writers],
                   [{"version": 1, "diagnostics": f"writer {n}"} for n in range(WRITERS)])
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {200: 1, 409: WRITERS - 1}, statuses
    (winner,) = [a.json()["data"] for a in answers if a.status_code == 200]
    for loser in (a.json() for a in answers if a.status_code == 409):
        assert loser["error"]["code"] == "stale_record"
        assert (loser["data"]["version"], loser["data"]["diagnostics"]) == (2, winner["diagnostics"])
    with app.app_context():
        row = db.session.get(MedicalRecord, record_id)
        frozen = db.session.scalars(select(MedicalRecordVersion)).all()
        assert (row.version, row.diagnostics) == (2, winner["diagnostics"])
        assert [(v.version, v.diagnostics) for v in frozen] == [(1, "v1")]
        db.session.remove()


def test_of_simultaneous_identical_assignments_exactly_one_is_created(app, server, writers, factories):
    doctor = caller(app, factories.user(role="doctor"))
    _, patient_id = _record(app)
    answers = race("POST", f"{server}/assignments", [w.token for w in writers],
                   [{"patient_id": patient_id, "doctor_id": doctor.doctor_id}] * WRITERS)
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 1, 409: WRITERS - 1}, statuses
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {"assignment_exists"}
    with app.app_context():
        assert db.session.scalar(select(func.count(Assignment.id))) == 1
        db.session.remove()
