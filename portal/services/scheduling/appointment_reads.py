"""Reading appointments: who sees which (a patient their own, a doctor those with them, an admin all),
lists by window and status, and single reads. Every read leaves an audit row; lists load patient,
doctor and slot in a fixed number of queries whatever their length.
"""
from datetime import timedelta

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import ACTIVE_STATUSES, Appointment, AppointmentStatus, Patient, Role
from portal.services import audit, clinic_time, policy
from portal.services.actor import Actor
from portal.services.errors import Invalid, NotFound
from portal.services.persistence import Page, commit_keeping_loaded, paginate
from portal.services.scheduling import slot_rules

ST = AppointmentStatus


def visible_appointments(actor: Actor) -> Select:
    """The appointments the actor may see, as a query to narrow further."""
    user = policy.require_role(actor.user, Role.PATIENT, Role.DOCTOR, Role.ADMIN)
    query = select(Appointment)
    if policy.is_admin(user):
        return query
    if user.role == Role.PATIENT.value:
        return query.where(Appointment.patient_id == policy.patient_id_of(user))
    return query.where(Appointment.doctor_id == policy.doctor_id_of(user))


def with_parties(query: Select) -> Select:
    """Patient (with account), doctor and slot loaded with the appointments, in the same query."""
    return query.options(joinedload(Appointment.patient).joinedload(Patient.user),
                         joinedload(Appointment.doctor), joinedload(Appointment.slot))


def list_appointments(actor: Actor, *, status: str | None = None, statuses: tuple[str, ...] | None = None,
                      start=None, end=None, page: int = 1, per_page: int = 20,
                      newest_first: bool = False, patient_id: int | None = None) -> Page[Appointment]:
    """A page of the actor's visible appointments, with patient, doctor and slot loaded (two queries
    and one audit insert whatever the page size). `start`/`end` are window bounds as in clinic_time;
    `statuses` keeps any of several (the portal's upcoming list: ACTIVE_STATUSES), as does `status` with them;
    `patient_id` keeps one patient's (a patient page)."""
    wanted = (*(statuses or ()), *((status,) if status else ()))
    if any(value not in {s.value for s in ST} for value in wanted):
        raise Invalid.field("status", f"Choose one of: {', '.join(s.value for s in ST)}.")
    query = visible_appointments(actor)
    if patient_id is not None:
        query = query.where(Appointment.patient_id == patient_id)
    if wanted:
        query = query.where(Appointment.status.in_(wanted))
    lower = clinic_time.parse_bound(start, end=False, field="from")
    upper = clinic_time.parse_bound(end, end=True, field="to")
    if lower is not None:
        query = query.where(Appointment.starts_at >= lower)
    if upper is not None:
        query = query.where(Appointment.starts_at < upper)
    return _audited_page(actor, query, page, per_page, newest_first)


def history(actor: Actor, *, page: int = 1, per_page: int = 20) -> Page[Appointment]:
    """What is no longer ahead, latest first: visits that have begun and cancelled ones whatever their date,
    so that next to the upcoming list (active and ahead) every appointment shows exactly once."""
    query = visible_appointments(actor).where(or_(Appointment.starts_at < clinic_time.now(),
                                                  Appointment.status.not_in(ACTIVE_STATUSES)))
    return _audited_page(actor, query, page, per_page, newest_first=True)


def _audited_page(actor: Actor, query: Select, page: int, per_page: int, newest_first: bool) -> Page[Appointment]:
    order = Appointment.starts_at.desc() if newest_first else Appointment.starts_at
    result = paginate(with_parties(query).order_by(order, Appointment.id), page, per_page)
    audit.record_many(actor, "read", "appointment", [(a.id, a.patient_id) for a in result.items])
    commit_keeping_loaded()
    return result


def unclosed_visits(actor: Actor, *, days: int = 30, limit: int = 50) -> list[Appointment]:
    """Visits before today, within `days`, still scheduled: never marked completed or no-show, so a doctor
    can close what they missed. Oldest first, at most `limit`, audited like any list."""
    today_start, _ = clinic_time.day_bounds(clinic_time.today())
    query = (visible_appointments(actor)
             .where(Appointment.status.in_(ACTIVE_STATUSES), Appointment.starts_at < today_start,
                    Appointment.starts_at >= today_start - timedelta(days=days)))
    visits = list(db.session.scalars(with_parties(query).order_by(Appointment.starts_at, Appointment.id)
                                     .limit(limit)).unique())
    audit.record_many(actor, "read", "appointment", [(a.id, a.patient_id) for a in visits])
    commit_keeping_loaded()
    return visits


def get_appointment(actor: Actor, appointment_id: int) -> Appointment:
    """One visible appointment with its parties (NotFound otherwise); the read is audited."""
    return _one_visible(actor, Appointment.id == appointment_id)


def booked_in_slot(actor: Actor, slot_id: int) -> Appointment:
    """The live appointment in a slot, so a calendar's booked slot can lead to it (NotFound otherwise)."""
    return _one_visible(actor, Appointment.slot_id == slot_id, slot_rules.not_cancelled())


def _one_visible(actor: Actor, *conditions) -> Appointment:
    appointment = db.session.scalar(with_parties(visible_appointments(actor)).where(*conditions))
    if appointment is None:
        raise NotFound("No such appointment.")
    audit.record(actor, "read", "appointment", appointment.id, appointment.patient_id)
    commit_keeping_loaded()
    return appointment
