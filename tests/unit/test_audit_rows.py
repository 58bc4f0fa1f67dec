"""A list's audit rows: one statement whatever their number, one row per object in the order shown,
every column as the reader's request gives it; an empty list writes nothing."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Department, EmergencyAccess, User, utcnow
from portal.services import audit
from portal.services.actor import Actor
from tests.fixtures import clinic

pytestmark = pytest.mark.laptop


def _rows() -> list[tuple]:
    return list(db.session.execute(select(
        AuditEvent.actor_id, AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id,
        AuditEvent.patient_id, AuditEvent.ip, AuditEvent.request_id, AuditEvent.emergency,
    ).order_by(AuditEvent.id)).tuples())


def test_a_lists_rows_go_in_one_statement_in_order_with_every_column(ctx, factories):
    reader = factories.user(role="admin")
    first, second = clinic.patient(), clinic.patient()
    actor = Actor(user=db.session.get(User, reader.id), ip="198.51.100.9", request_id="req-42")
    before = utcnow()
    with clinic.counted_queries() as statements:
        audit.record_many(actor, "read", "medical_record", [(7, first.id), (5, second.id), (6, None)])
    db.session.commit()
    assert sum(s.lstrip().upper().startswith("INSERT INTO AUDIT_EVENTS") for s in statements) == 1
    assert _rows() == [(reader.id, "read", "medical_record", object_id, patient_id, "198.51.100.9", "req-42", False)
                       for object_id, patient_id in ((7, first.id), (5, second.id), (6, None))]
    stamps = list(db.session.scalars(select(AuditEvent.at)))
    assert all(before <= at <= utcnow() + timedelta(seconds=1) and at.tzinfo is not None for at in stamps)


def test_an_empty_list_writes_no_row(ctx):
    with clinic.counted_queries() as statements:
        audit.record_many(Actor(user=None), "read", "patient", [])
    db.session.commit()
    assert statements == [] and _rows() == []


def test_an_unknown_action_is_refused(ctx):
    with pytest.raises(ValueError):
        audit.record_many(Actor(user=None), "peek", "patient", [(1, None)])


def test_rows_of_several_kinds_go_in_one_statement_and_leave_pending_changes_to_the_commit(ctx):
    pending = Department(name="Pending")
    db.session.add(pending)
    with clinic.counted_queries() as statements:
        audit.record_each(Actor(user=None), "read", [("medical_record", 1, None), ("medical_record_version", 2, None)])
    assert pending in db.session.new  # its conflicts, if any, still surface at the caller's commit
    assert [s.split("(")[0].strip() for s in statements if s != "BEGIN"] == ["INSERT INTO audit_events"]  # SQLite's
    db.session.commit()
    assert [(row[2], row[3]) for row in _rows()] == [("medical_record", 1), ("medical_record_version", 2)]


def test_a_doctors_rows_are_flagged_by_the_insert_itself(ctx, factories):
    doctor = factories.user(role="doctor")
    under, expired, plain = clinic.patient(), clinic.patient(), clinic.patient()
    for patient, minutes in ((under, 30), (expired, -1)):
        db.session.add(EmergencyAccess(doctor_user_id=doctor.id, patient_id=patient.id, reason="x" * 10,
                                       expires_at=utcnow() + timedelta(minutes=minutes)))
    db.session.commit()
    ids, reader = [under.id, expired.id, plain.id], clinic.actor(doctor.id)
    with clinic.counted_queries() as statements:
        audit.record_many(reader, "read", "patient", [(pid, pid) for pid in ids] + [(9, None)])
    assert [s.split("(")[0].strip() for s in statements if s != "BEGIN"] == ["INSERT INTO audit_events"]
    db.session.commit()
    assert [(row[4], row[7]) for row in _rows()] == [(under.id, True), (expired.id, False), (plain.id, False),
                                                     (None, False)]
