"""Policy and audit under emergency access: a live grant makes the patient visible to that doctor only,
and flags that doctor's audit rows about that patient; an expired one does neither."""
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import AuditEvent, EmergencyAccess, User, utcnow
from portal.services import audit, policy
from portal.services.errors import NotFound
from tests.fixtures import clinic


@pytest.fixture
def setup(ctx, factories):
    doctor, other = factories.user(role="doctor"), factories.user(role="doctor")
    patient, bystander = clinic.patient(), clinic.patient()
    db.session.add(EmergencyAccess(doctor_user_id=doctor.id, patient_id=patient.id, reason="x" * 10,
                                   expires_at=utcnow() + timedelta(minutes=30)))
    db.session.commit()
    return db.session.get(User, doctor.id), db.session.get(User, other.id), patient.id, bystander.id


def _flags() -> list[tuple[int, bool]]:
    return [(e.patient_id, e.emergency) for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]


def test_a_live_grant_opens_the_patient_to_that_doctor_only(setup):
    doctor, other, patient_id, _ = setup
    assert policy.get_visible_patient(doctor, patient_id).id == patient_id
    with pytest.raises(NotFound):
        policy.get_visible_patient(other, patient_id)


def test_reads_under_the_grant_are_flagged_and_others_are_not(setup):
    doctor, other, patient_id, bystander_id = setup
    audit.record_many(clinic.actor(doctor.id), "read", "medical_record", [(1, patient_id), (2, bystander_id)])
    audit.record(clinic.actor(other.id), "read", "medical_record", 3, patient_id)
    audit.record(clinic.actor(None), "read", "medical_record", 4, patient_id)
    db.session.commit()
    assert _flags() == [(patient_id, True), (bystander_id, False), (patient_id, False), (patient_id, False)]


def test_an_expired_grant_neither_opens_nor_flags(setup):
    doctor, _, patient_id, _ = setup
    grant = db.session.scalar(db.select(EmergencyAccess))
    grant.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(NotFound):
        policy.get_visible_patient(doctor, patient_id)
    audit.record(clinic.actor(doctor.id), "read", "patient", patient_id, patient_id)
    db.session.commit()
    assert _flags() == [(patient_id, False)]


def test_visible_patient_ids_for_a_doctor_match_visible_patients(setup, factories):
    """The doctor's-side form of the rule gives the same patients as the per-patient one, whatever the link."""
    from portal.models import Assignment, Doctor, Patient

    doctor, other, granted, _ = setup
    doctor_id = db.session.scalar(db.select(Doctor.id).where(Doctor.user_id == doctor.id))
    created = clinic.patient()
    created.created_by_id = doctor.id
    assigned, ended, treated, archived = (clinic.patient() for _ in range(4))
    db.session.add_all([Assignment(patient_id=assigned.id, doctor_id=doctor_id),
                        Assignment(patient_id=ended.id, doctor_id=doctor_id, ended_at=utcnow()),
                        Assignment(patient_id=archived.id, doctor_id=doctor_id)])
    archived.archived_at = utcnow()
    db.session.commit()
    clinic.appointment(treated.id, clinic.slot(doctor_id))
    seen = {user.id: set(db.session.scalars(policy.visible_patient_ids(user))) for user in (doctor, other)}
    for user in (doctor, other):
        assert seen[user.id] == set(db.session.scalars(policy.visible_patients(user).with_only_columns(Patient.id)))
    assert seen == {doctor.id: {granted, created.id, assigned.id, treated.id}, other.id: set()}
