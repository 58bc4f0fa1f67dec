"""The clinic's booking rules for patients, in one place: minimum notice, horizon, change cut-off, no-show limit.

Clinic-wide values come from the environment (BOOKING_MIN_NOTICE_MINUTES, BOOKING_HORIZON_DAYS,
CHANGE_CUTOFF_HOURS, NO_SHOW_LIMIT); an admin overrides the first three per doctor (doctor columns,
None = the clinic's). They bind patients acting for themselves; staff (the doctor of the slot, admins)
book, move and cancel outside them, which is how a clinic handles the exceptions on the phone.

How time is counted, also across a DST change in CLINIC_TZ:
- notice and cut-off are elapsed time: 120 minutes' notice means two real hours, even on the night the
  clock jumps. A slot starting exactly `notice` after now is bookable; one second sooner is too_soon. A
  change exactly `cut-off` before the start is allowed; one second later is too_late.
- the horizon counts whole clinic days: with 90 days, every slot up to the end of the clinic day 90 days
  after today may be booked (the first slot of the 91st day is too_far), whatever the time of day now and
  however many 23- or 25-hour days lie between.
- no-shows count over the last 12 calendar months, from the same clinic wall-clock time a year ago.

The lists patients pick from show only what they may book: `in_window` is the one SQL condition every
slot list uses (statements built once take its bounds as parameters: starts_within with doctor_window,
window_condition with window_values), so a slot that is shown can be booked and one that cannot is not shown.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import BindParameter, ColumnElement, and_, case, func, literal, or_, select

from portal.extensions import db
from portal.models import Appointment, AppointmentStatus, Doctor, Role, Slot
from portal.models.base import UTCDateTime, instant_parameter
from portal.services import clinic_time, directory_version, policy
from portal.services.actor import Actor
from portal.services.errors import RuleRefusal
from portal.services.persistence import Page, paginate

FIELDS = ("min_notice_minutes", "horizon_days", "change_cutoff_hours")
LIMITS = {"min_notice_minutes": 43_200, "horizon_days": 730, "change_cutoff_hours": 720}  # 30 days; 2 years; 30 days


@dataclass(frozen=True)
class Rules:
    """The rules that apply to one doctor's slots (or the clinic's, when no doctor overrides them)."""

    min_notice_minutes: int
    horizon_days: int
    change_cutoff_hours: int

    def earliest(self, moment: datetime) -> datetime:
        """The first start a patient may book at `moment` (itself included)."""
        return moment + timedelta(minutes=self.min_notice_minutes)

    def last_day(self, moment: datetime) -> date:
        """The last clinic day a patient may book at `moment`."""
        return clinic_time.to_local(moment).date() + timedelta(days=self.horizon_days)

    def horizon_end(self, moment: datetime) -> datetime:
        """The end of the last bookable clinic day (exclusive): local midnight after it, DST-correct."""
        return clinic_time.day_bounds(self.last_day(moment))[1]

    def change_deadline(self, starts_at: datetime) -> datetime:
        """The last moment a patient may cancel or move an appointment starting at `starts_at` (itself included)."""
        return starts_at - timedelta(hours=self.change_cutoff_hours)


def clinic_rules() -> Rules:
    config = current_app.config
    return Rules(int(config["BOOKING_MIN_NOTICE_MINUTES"]), int(config["BOOKING_HORIZON_DAYS"]),
                 int(config["CHANGE_CUTOFF_HOURS"]))


def no_show_limit() -> int:
    """How many no-shows in 12 months stop a patient from booking online; 0 = no limit."""
    return int(current_app.config["NO_SHOW_LIMIT"])


def call_the_clinic() -> str:
    """'call the clinic on <CLINIC_PHONE>', or just 'call the clinic' where no number is configured."""
    phone = (current_app.config.get("CLINIC_PHONE") or "").strip()
    return f"call the clinic on {phone}" if phone else "call the clinic"


def rules_for(doctor: Doctor) -> Rules:
    """The doctor's overrides where set, the clinic's settings elsewhere."""
    clinic = clinic_rules()
    return Rules(*(getattr(clinic, name) if getattr(doctor, name) is None else getattr(doctor, name)
                   for name in FIELDS))


def binds(actor: Actor) -> bool:
    """The rules bind patients; staff book, move and cancel outside them."""
    return actor.role == Role.PATIENT.value


def _utc(moment: datetime):
    return literal(moment, type_=UTCDateTime())


# --- what patients may book ------------------------------------------------------------------------------

def doctor_window(doctor: Doctor, moment: datetime) -> dict[str, datetime]:
    """One doctor's booking window at `moment` as values: the first bookable start and the end (exclusive)."""
    rules = rules_for(doctor)
    return {"window_earliest": rules.earliest(moment), "window_end": rules.horizon_end(moment)}


def starts_within(earliest: ColumnElement, end: ColumnElement) -> ColumnElement[bool]:
    """Slots starting in [earliest, end): one doctor's booking window, given as values or parameters."""
    return and_(Slot.starts_at >= earliest, Slot.starts_at < end)


def window_parameter(name: str) -> BindParameter:
    """A bound of the booking window as a bind parameter, for statements built once (its value comes from
    doctor_window or window_values under the same name)."""
    return instant_parameter(f"window_{name}")


@dataclass(frozen=True)
class Overrides:
    """The distinct overrides admins have set (few): they shape in_window's CASE expressions for many doctors."""

    notices: tuple[int, ...]
    horizons: tuple[int, ...]


_OVERRIDES = select(Doctor.min_notice_minutes, Doctor.horizon_days).distinct().where(
    or_(Doctor.min_notice_minutes.is_not(None), Doctor.horizon_days.is_not(None)))


def overrides() -> Overrides:
    """The booking-rule overrides in force: one small query, kept under the directory version for anonymous
    directory answers (a tenth of a speciality window's CPU when asked every time)."""
    return directory_version.kept("booking_rule_overrides", _read_overrides)


def _read_overrides() -> Overrides:
    rows = db.session.execute(_OVERRIDES).all()
    return Overrides(tuple(sorted({notice for notice, _ in rows if notice is not None})),
                     tuple(sorted({days for _, days in rows if days is not None})))


def window_values(found: Overrides, moment: datetime) -> dict[str, datetime]:
    """The bounds of window_condition at `moment`, by parameter name (window_parameter's)."""
    clinic = clinic_rules()
    earliest = {n: Rules(n, clinic.horizon_days, clinic.change_cutoff_hours).earliest(moment) for n in found.notices}
    ends = {d: Rules(clinic.min_notice_minutes, d, clinic.change_cutoff_hours).horizon_end(moment)
            for d in found.horizons}
    values = {"window_earliest": clinic.earliest(moment), "window_end": clinic.horizon_end(moment)}
    values["window_soonest"] = min([values["window_earliest"], *earliest.values()])
    values["window_latest"] = max([values["window_end"], *ends.values()])
    values.update({f"window_earliest_{n}": value for n, value in earliest.items()})
    values.update({f"window_end_{d}": value for d, value in ends.items()})
    return values


def free_values(found: Overrides, moment: datetime | None = None) -> dict[str, datetime]:
    """What a statement built once over free slots in their doctors' windows runs with: the moment itself
    (parameter `moment`, default now) and window_values at it."""
    moment = moment or clinic_time.now()
    return {"moment": moment, **window_values(found, moment)}


def window_condition(found: Overrides, bound: Callable[[str], ColumnElement]) -> ColumnElement[bool]:
    """in_window for many doctors (Doctor in the query): each doctor's overrides as CASE expressions over
    the bounds `bound` gives by name (values, or window_parameter for a statement built once); plain outer
    bounds keep the slot index usable."""
    earliest, end = bound("earliest"), bound("end")
    if found.notices:
        earliest = case({n: bound(f"earliest_{n}") for n in found.notices},
                        value=Doctor.min_notice_minutes, else_=earliest)
    if found.horizons:
        end = case({d: bound(f"end_{d}") for d in found.horizons}, value=Doctor.horizon_days, else_=end)
    return and_(Slot.starts_at >= bound("soonest"), Slot.starts_at < bound("latest"),
                Slot.starts_at >= earliest, Slot.starts_at < end)


def in_window(doctor: Doctor | None = None, moment: datetime | None = None,
              found: Overrides | None = None) -> ColumnElement[bool]:
    """Slots starting inside their doctor's booking window at `moment` (default now), as a SQL condition.

    With `doctor` (a single doctor's list) the bounds are plain parameters. Without it the condition needs
    Doctor in the query (joined or correlated) and costs one small query here (the overrides), unless the
    caller has `found` them already."""
    moment = moment or clinic_time.now()
    if doctor is not None:
        values = doctor_window(doctor, moment)
        return starts_within(_utc(values["window_earliest"]), _utc(values["window_end"]))
    found = overrides() if found is None else found
    values = window_values(found, moment)
    return window_condition(found, lambda name: _utc(values[f"window_{name}"]))


def _span(minutes: int) -> str:
    """'2 hours', '90 minutes', '1 day': how long a rule's time is, in words."""
    if minutes % (24 * 60) == 0 and minutes >= 24 * 60:
        days = minutes // (24 * 60)
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0 and minutes >= 60:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def window_note(doctor: Doctor, moment: datetime | None = None) -> str:
    """What a patient may book with this doctor, in one sentence for the page they pick from."""
    moment = moment or clinic_time.now()
    rules = rules_for(doctor)
    sooner = f"at least {_span(rules.min_notice_minutes)} ahead and " if rules.min_notice_minutes else ""
    return (f"Times can be booked online {sooner}up to {rules.last_day(moment):%A %-d %B %Y}. "
            f"For another time, {call_the_clinic()}.")


def check_slot(actor: Actor, slot: Slot, doctor: Doctor | None = None) -> None:
    """A patient may hold or book this slot now: RuleRefusal too_soon / too_far otherwise (staff pass)."""
    if not binds(actor):
        return
    moment = clinic_time.now()
    rules = rules_for(doctor or slot.doctor)
    if slot.starts_at < rules.earliest(moment):
        raise RuleRefusal(
            f"This time starts too soon to book online: appointments with this doctor are booked at least "
            f"{_span(rules.min_notice_minutes)} ahead. Please pick a later time, or {call_the_clinic()}.",
            code="too_soon")
    if slot.starts_at >= rules.horizon_end(moment):
        days = f"{rules.horizon_days} day{'s' if rules.horizon_days != 1 else ''}"
        raise RuleRefusal(
            f"This time is too far ahead to book yet: you can book up to {days} ahead, until "
            f"{rules.last_day(moment):%A %-d %B %Y}. Please pick an earlier time.", code="too_far")


# --- changes ---------------------------------------------------------------------------------------------

def change_refusal(actor: Actor, appointment: Appointment) -> RuleRefusal | None:
    """too_late when a patient would cancel or move the appointment closer to its start than the cut-off."""
    if not binds(actor):
        return None
    rules = rules_for(appointment.doctor)
    if clinic_time.now() <= rules.change_deadline(appointment.starts_at):
        return None
    hours = rules.change_cutoff_hours
    return RuleRefusal(
        f"It is too late to cancel or move this appointment online: changes are possible until "
        f"{hours} hour{'s' if hours != 1 else ''} before it starts. Please {call_the_clinic()}.",
        code="too_late")


def check_change(actor: Actor, appointment: Appointment) -> None:
    refusal = change_refusal(actor, appointment)
    if refusal is not None:
        raise refusal


# --- no-shows --------------------------------------------------------------------------------------------

def year_before(moment: datetime) -> datetime:
    """The same clinic wall-clock time a year earlier (29 February becomes the 28th)."""
    local = clinic_time.to_local(moment)
    day = min(local.day, 28) if (local.month, local.day) == (2, 29) else local.day
    return local.replace(year=local.year - 1, day=day).astimezone(UTC)


def no_show_count(patient_id: int, moment: datetime | None = None) -> int:
    """The patient's no-shows that started in the 12 months before `moment`: one count on the partial index
    ix_appointments_patient_no_show (patient, start WHERE status = 'no_show')."""
    moment = moment or clinic_time.now()
    return db.session.scalar(select(func.count(Appointment.id)).where(
        Appointment.patient_id == patient_id, Appointment.status == AppointmentStatus.NO_SHOW.value,
        Appointment.starts_at > year_before(moment), Appointment.starts_at <= moment)) or 0


def check_no_shows(actor: Actor, patient_id: int) -> None:
    """no_show_limit when a patient who missed NO_SHOW_LIMIT visits in 12 months books for themselves."""
    limit = no_show_limit()
    if not binds(actor) or limit <= 0:
        return
    missed = no_show_count(patient_id)
    if missed >= limit:
        raise RuleRefusal(
            f"You cannot book online at the moment, because {missed} of your appointments in the last 12 months "
            f"were missed without cancelling. Please {call_the_clinic()} to book.",
            code="no_show_limit")


def override_problems(values: dict) -> dict[str, list[str]]:
    """Each override must be empty (the clinic's setting) or a whole number from 0 to its limit."""
    problems = {}
    for name in FIELDS:
        if name not in values or values[name] is None:
            continue
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= LIMITS[name]:
            problems[name] = [f"Give a whole number from 0 to {LIMITS[name]}, or leave it empty for the "
                              "clinic's setting."]
    return problems


def doctors_with_overrides(actor: Actor, *, page: int = 1, per_page: int = 50) -> Page[Doctor]:
    """Every doctor (not archived, listed or not) by name, with their overrides, for the admin's rules page."""
    policy.require_admin(actor.user)
    query = select(Doctor).where(Doctor.archived_at.is_(None)).order_by(func.lower(Doctor.full_name), Doctor.id)
    return paginate(query, page, per_page)
