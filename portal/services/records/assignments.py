"""Assignments: a doctor looking after a patient, made and ended by staff (a doctor may assign a colleague).

At most one active assignment per patient and doctor: the partial unique index uq_assignments_active_pair
decides, so of two simultaneous requests one is created and the other gets the same Conflict as the
check here gives. Ending keeps the row with ended_at; an ended assignment no longer makes the patient
visible to its doctor (policy.visible_patients), and the pair may be assigned again.
"""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from portal.extensions import db
from portal.models import Assignment
from portal.services import audit, clinic_time, policy
from portal.services.actor import Actor
from portal.services.errors import Conflict, NotFound
from portal.services.persistence import Page, commit_keeping_loaded, paginate


def _already_assigned() -> Conflict:
    return Conflict("This doctor is already assigned to this patient.", code="assignment_exists")


def _with_parties(query):
    return (query.join(Assignment.doctor)
            .options(contains_eager(Assignment.patient), contains_eager(Assignment.doctor)))


def _load(assignment_id: int) -> Assignment:
    return db.session.scalar(_with_parties(select(Assignment).join(Assignment.patient))
                             .where(Assignment.id == assignment_id))


def create_assignment(actor: Actor, patient_id: int, doctor_id: int) -> Assignment:
    """Assign a doctor (oneself or a colleague) to a visible patient; staff only. NotFound for a
    patient the actor cannot see or a doctor the directory does not list; Forbidden for a doctor who sees
    the patient only through emergency access; Conflict assignment_exists while one is active."""
    policy.require_staff(actor.user)
    patient = policy.get_patient_to_assign(actor.user, patient_id)
    doctor = policy.seen_doctor(actor.user, doctor_id)
    active = select(Assignment.id).where(Assignment.patient_id == patient.id, Assignment.doctor_id == doctor.id,
                                         Assignment.ended_at.is_(None))
    if db.session.scalar(active) is not None:
        raise _already_assigned()
    assignment = Assignment(patient_id=patient.id, doctor_id=doctor.id, created_by_id=actor.user_id)
    db.session.add(assignment)
    try:
        db.session.flush()  # a simultaneous twin waits here on the index, then fails it
    except IntegrityError:  # the only constraint left unchecked above is the active-pair index
        db.session.rollback()
        raise _already_assigned() from None
    audit.record(actor, "create", "assignment", assignment.id, patient.id)
    db.session.commit()
    return _load(assignment.id)


def list_assignments(actor: Actor, *, patient_id: int | None = None, doctor_id: int | None = None,
                     include_ended: bool = False, page: int = 1, per_page: int = 20) -> Page[Assignment]:
    """Assignments of the patients the actor sees (staff only), newest first; ended ones only with
    include_ended. One query (the page with its total) and one audit insert whatever the page size."""
    query = _with_parties(policy.visible_assignments(actor.user))
    if patient_id is not None:
        query = query.where(Assignment.patient_id == patient_id)
    if doctor_id is not None:
        query = query.where(Assignment.doctor_id == doctor_id)
    if not include_ended:
        query = query.where(Assignment.ended_at.is_(None))
    result = paginate(query.order_by(Assignment.created_at.desc(), Assignment.id.desc()), page, per_page)
    audit.record_many(actor, "read", "assignment", [(a.id, a.patient_id) for a in result.items])
    commit_keeping_loaded()
    return result


def end_assignment(actor: Actor, assignment_id: int) -> Assignment:
    """End an active assignment of a visible patient (staff only): the row stays with ended_at.
    Conflict assignment_ended when it already has ended."""
    assignment = db.session.scalar(policy.visible_assignments(actor.user)
                                   .where(Assignment.id == assignment_id).with_for_update(of=Assignment))
    if assignment is None:
        raise NotFound("No such assignment.")
    if assignment.ended_at is not None:
        db.session.rollback()
        raise Conflict("This assignment has already ended.", code="assignment_ended")
    assignment.ended_at = clinic_time.now()
    audit.record(actor, "delete", "assignment", assignment.id, assignment.patient_id)
    db.session.commit()
    return _load(assignment_id)

