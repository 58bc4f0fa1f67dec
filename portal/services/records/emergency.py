"""Emergency access ("break the glass"): a doctor opens a patient they cannot otherwise see, for a while.

The grant itself is all policy needs: while it lasts, visible_patients includes the patient for that
doctor and every read is flagged in the audit log. Nothing is hidden about it: the patient and every
admin get a mail at once (without the reason, which may hold health information), and admins review
each grant afterwards.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import Select, select, update
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import EmergencyAccess, Patient, Role, User, utcnow
from portal.services import audit, clinic_time, mail, policy
from portal.services.actor import Actor
from portal.services.errors import Conflict, Invalid, NotFound

MIN_REASON = 10
MAX_REASON = 2000


def start(actor: Actor, patient_id: int, reason: str) -> EmergencyAccess:
    """Open an unarchived patient to this doctor for EMERGENCY_ACCESS_MINUTES; the patient and the admins are told."""
    user = policy.require_role(actor.user, Role.DOCTOR)
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise Invalid.field("reason", f"Say why, in at least {MIN_REASON} characters.")
    if len(reason) > MAX_REASON:
        raise Invalid.field("reason", f"At most {MAX_REASON} characters.")
    patient = db.session.scalar(select(Patient).options(joinedload(Patient.user))
                                .where(Patient.id == patient_id, Patient.archived_at.is_(None)))
    if patient is None:
        raise NotFound("No such patient.")
    now = utcnow()
    grant = EmergencyAccess(doctor_user_id=user.id, patient_id=patient.id, reason=reason, started_at=now,
                            expires_at=now + timedelta(minutes=int(current_app.config["EMERGENCY_ACCESS_MINUTES"])))
    db.session.add(grant)
    db.session.flush()
    audit.record(actor, "create", "emergency_access", grant.id, patient.id)
    _tell_patient_and_admins(grant, patient, user)
    db.session.commit()
    return grant


def _tell_patient_and_admins(grant: EmergencyAccess, patient: Patient, doctor: User) -> None:
    clinic = current_app.config["CLINIC_NAME"]
    when = clinic_time.format_local(grant.started_at)
    until = clinic_time.format_local(grant.expires_at)
    who = doctor.full_name or doctor.username
    address = patient.mail_address
    if address:
        mail.send_later(address, "Your record was opened in an emergency", (
            f"Hello {patient.full_name},\n\n{who}, a doctor at {clinic}, opened your record with emergency "
            f"access on {when}. The access ends {until}. Every page they open is recorded; you can see "
            "who looked at your record in the portal, and an administrator reviews every emergency access.\n"))
    admins = db.session.scalars(select(User.email).where(User.role == Role.ADMIN.value, User.is_active_flag))
    for admin_email in admins:
        mail.send_later(admin_email, "Emergency access to review", (
            f"{who} opened patient #{patient.id} with emergency access on {when} (until {until}).\n"
            f"Review it in the emergency-access queue (entry #{grant.id}).\n"))


def grants_query(actor: Actor, reviewed: bool | None = None) -> Select:
    """Every grant for the admins' review, newest first; `reviewed` narrows to reviewed or open ones."""
    policy.require_role(actor.user, Role.ADMIN)
    query = select(EmergencyAccess).options(
        joinedload(EmergencyAccess.doctor_user), joinedload(EmergencyAccess.reviewed_by),
        joinedload(EmergencyAccess.patient),
    ).order_by(EmergencyAccess.started_at.desc(), EmergencyAccess.id.desc())
    if reviewed is True:
        query = query.where(EmergencyAccess.reviewed_at.is_not(None))
    elif reviewed is False:
        query = query.where(EmergencyAccess.reviewed_at.is_(None))
    return query


def review(actor: Actor, grant_id: int, note: str | None) -> EmergencyAccess:
    """Mark a grant reviewed with the admin's note; a second review is 409 (the first reviewer stays on record)."""
    user = policy.require_role(actor.user, Role.ADMIN)
    grant = db.session.get(EmergencyAccess, grant_id)
    if grant is None:
        raise NotFound("No such emergency access.")
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_REASON:
        raise Invalid.field("note", f"At most {MAX_REASON} characters.")
    # Only while unreviewed, in the UPDATE itself: of two admins reviewing at once, the second is told.
    first = db.session.execute(update(EmergencyAccess).where(EmergencyAccess.id == grant.id,
                                                             EmergencyAccess.reviewed_at.is_(None))
                               .values(reviewed_at=utcnow(), reviewed_by_id=user.id, review_note=note))
    if first.rowcount != 1:
        db.session.rollback()
        raise Conflict("This emergency access was already reviewed.", code="already_reviewed")
    db.session.commit()
    return db.session.scalar(grants_query(actor).where(EmergencyAccess.id == grant_id))


def live_access(actor: Actor, patient_id: int) -> EmergencyAccess | None:
    """The doctor's live grant for this patient (the latest ending), or None; other roles have none. The
    patient page says plainly when a doctor reads under one, and until when."""
    if actor.user is None or actor.role != Role.DOCTOR.value:
        return None
    return db.session.scalar(
        select(EmergencyAccess)
        .where(EmergencyAccess.doctor_user_id == actor.user_id, EmergencyAccess.patient_id == patient_id,
               EmergencyAccess.expires_at > utcnow())
        .order_by(EmergencyAccess.expires_at.desc()).limit(1))
