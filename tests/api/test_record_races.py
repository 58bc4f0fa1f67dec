"""Simultaneous writers against the real app under gunicorn with 4 worker processes: of many edits based on
one version exactly one wins and every other is 409 stale_record, of many identical assignments exactly
one is created, and of many deletes of one patient or image exactly one archives it (one audit row).
Nothing answers 500 and no edit is lost without its writer being told."""
import threading
from collections import Counter

import pytest
import requests
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Assignment, MedicalRecord, MedicalRecordVersion
from tests.api.clinic_api import caller
from tests.api.images import png_bytes
from tests.api.records_api import audit_rows
from tests.fixtures import clinic
from tests.fixtures.api_client import PREFIX
from tests.fixtures.gunicorn_server import gunicorn_server

WRITERS = 12


@pytest.fixture(scope="module")
def server(app):
    with gunicorn_server(workers=4) as base:
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


def _one_archive_wins(app, answers, object_type: str, object_id: int) -> None:
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {200: 1, 404: WRITERS - 1}, statuses
    deletes = [row for row in audit_rows(app, object_type=object_type, object_id=object_id) if row[1] == "delete"]
    assert len(deletes) == 1, deletes


def test_of_simultaneous_deletes_of_one_patient_exactly_one_archives_it(app, server, writers):
    _, patient_id = _record(app)
    answers = race("DELETE", f"{server}/patients/{patient_id}", [w.token for w in writers], [None] * WRITERS)
    _one_archive_wins(app, answers, "patient", patient_id)


def test_of_simultaneous_deletes_of_one_image_exactly_one_archives_it(app, server, writers):
    _, patient_id = _record(app)
    uploaded = requests.post(f"{server}/patients/{patient_id}/images", timeout=60,
                             headers={"Authorization": f"Bearer {writers[0].token}"},
                             files=[("files", ("scan.png", png_bytes(), "image/png"))])
    assert uploaded.status_code == 201, uploaded.text
    image_id = uploaded.json()["data"][0]["id"]
    answers = race("DELETE", f"{server}/images/{image_id}", [w.token for w in writers], [None] * WRITERS)
    _one_archive_wins(app, answers, "patient_image", image_id)
