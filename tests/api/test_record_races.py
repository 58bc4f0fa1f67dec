"""Simultaneous writers against the real app under gunicorn with 4 worker processes: of many edits based on
one version exactly one wins and every other is 409 stale_record, of many identical assignments exactly
one is created, of many deletes of one patient or image exactly one archives it (one audit row), and a
review of an emergency access that another admin's review overtook is 409, the first one kept.
Nothing answers 500 and no edit is lost without its writer being told."""
import threading
from collections import Counter

import pytest
import requests
from sqlalchemy import func, select, text

from portal.extensions import db
from portal.models import Assignment, EmergencyAccess, MedicalRecord, MedicalRecordVersion, utcnow
from tests.api.clinic_api import caller
from tests.api.images import png_bytes
from tests.api.records_api import audit_rows
from tests.fixtures import clinic
from tests.fixtures.api_client import PREFIX

pytestmark = pytest.mark.laptop  # every race here runs on SQLite too
WRITERS = 12


@pytest.fixture
def server(app, gunicorn_servers):
    return gunicorn_servers(app) + PREFIX


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


@pytest.mark.production_only("holds a PostgreSQL row lock and watches pg_stat_activity")
def test_a_review_that_waited_for_another_admins_review_is_told_it_came_second(app, server, writers, factories):
    """Deterministic: admin A's review holds the row, admin B's request reads it unreviewed and waits for the
    row; once A commits, B must get 409 already_reviewed and A's review stays on record."""
    doctor = caller(app, factories.user(role="doctor"))
    _, patient_id = _record(app)
    first, second = writers[0], writers[1]
    with app.app_context():
        grant = EmergencyAccess(doctor_user_id=doctor.user_id, patient_id=patient_id, reason="Unconscious in the ER",
                                started_at=utcnow(), expires_at=utcnow())
        db.session.add(grant)
        db.session.commit()
        grant_id = grant.id
        with db.engine.connect() as holder:
            holder.execute(text("UPDATE emergency_accesses SET reviewed_at = now(), reviewed_by_id = :u, "
                                "review_note = 'first' WHERE id = :g"), {"u": first.user_id, "g": grant_id})
            answer: list = []
            waiting = threading.Thread(target=lambda: answer.append(requests.patch(
                f"{server}/admin/emergency-access/{grant_id}", json={"reviewed": True, "note": "second"},
                headers={"Authorization": f"Bearer {second.token}"}, timeout=60)))
            waiting.start()
            with db.engine.connect() as watcher:  # until B's UPDATE waits for the row A holds
                while waiting.is_alive() and not watcher.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query LIKE 'UPDATE emergency_accesses%'")).scalar():
                    watcher.rollback()
            holder.commit()
            waiting.join(60)
        assert answer and answer[0].status_code == 409, answer and answer[0].text
        assert answer[0].json()["error"]["code"] == "already_reviewed"
        db.session.expire_all()
        stored = db.session.get(EmergencyAccess, grant_id)
        assert (stored.review_note, stored.reviewed_by_id) == ("first", first.user_id)
        db.session.remove()
