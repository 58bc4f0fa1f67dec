"""Patient profiles: staff create, search, read, edit and archive them; a patient reads their own and
keeps their contact details current.

Who sees which profile is policy.visible_patients (created, actively assigned, treated; admins all);
anything else, and anything archived, is NotFound. Archiving only stamps archived_at: the profile and
everything hanging off it stay in the database. Every read and write leaves an audit row (a list:
one row per patient in one insert).
"""
from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import contains_eager

from portal.extensions import db
from portal.models import Assignment, Doctor, Patient, Role
from portal.models.patients import digits, fold
from portal.services import audit, clinic_time, policy
from portal.services.accounts import user_accounts
from portal.services.accounts.user_accounts import GENDERS
from portal.services.actor import Actor
from portal.services.errors import Forbidden, Invalid, NotFound
from portal.services.persistence import (
    Page,
    PagedQuery,
    archive_once,
    commit_keeping_loaded,
    on_postgresql,
    written_by_database,
)
from portal.services.plain_rows import ItemJson, PlainRows, listed
from portal.services.scheduling import appointment_reads

CONTACT_FIELDS = ("address", "city", "phone", "email")
PROFILE_FIELDS = ("full_name", "gender", "dob", *CONTACT_FIELDS)
MAX_TERMS = 8
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y")


def _as_date(term: str) -> date | None:
    if not any(char.isdigit() for char in term):  # a name: spares three strptime failures a word
        return None
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(term, pattern).date()
        except ValueError:
            continue
    return None


def search_terms(q: str | None) -> list[str]:
    """The pieces every match must contain: a date of birth as ISO, a phone number as its digits,
    anything else folded like the names (no case, no accents)."""
    terms = []
    for word in (q or "").split()[:MAX_TERMS]:
        day = _as_date(word)
        if day is not None:
            terms.append(day.isoformat())
        elif digits(word) and not any(char.isalpha() for char in word):
            terms.append(digits(word))
        else:
            terms.extend(fold(word).split())
    return terms


@lru_cache(maxsize=64)
def _search_page(role: str | None, terms: int, item_json: ItemJson | None, postgresql: bool) -> PagedQuery:
    """The patients a role sees whose search text holds each of `terms` patterns (:term_0...), by name, as
    PatientRows or as the JSON text `item_json` writes of each; built once per role, number of terms and database,
    run with policy.viewer and the patterns (_patterns)."""
    shown = listed(PATIENT_ROW, _ROW_COLUMNS, item_json)
    if policy.sees_few_patients(role):  # the matches are among their few patients: found once
        visible = policy.patients_to_narrow(role, postgresql)
        matches = select(visible.c.id, visible.c.full_name).where(*_holding_terms(visible.c.search_text, terms))
        return audit.ReadMatches(matches, lambda found: (found.full_name, found.id), lambda ids: select(shown).where(
            Patient.id.in_(ids)).order_by(Patient.full_name, Patient.id), "id")
    query = policy.patients_template(role).where(*_holding_terms(Patient.search_text, terms))
    return audit.ReadPages(query.with_only_columns(shown).order_by(Patient.full_name, Patient.id),
                           Patient.id, Patient.id)


def _holding_terms(search_text, terms: int) -> list:
    return [search_text.like(bindparam(f"term_{n}")) for n in range(terms)]


def _patterns(terms: list[str]) -> dict[str, str]:
    # letters, digits, spaces and dashes only: nothing LIKE would read as a pattern
    return {f"term_{n}": f"%{term}%" for n, term in enumerate(terms)}


# The longest text each profile field holds (the columns' sizes): longer is refused, not truncated.
MAX_LENGTHS = {"full_name": 200, "address": 300, "city": 120, "phone": 40, "email": 254}


def _problem(name: str, value) -> str | None:
    text = value.strip() if isinstance(value, str) else value
    if name == "full_name" and not text:
        return "Give the patient's name."
    if name in MAX_LENGTHS and text and len(text) > MAX_LENGTHS[name]:
        return f"Use at most {MAX_LENGTHS[name]} characters."
    if name == "gender" and text is not None and text not in GENDERS:
        return f"Choose one of: {', '.join(GENDERS)}."
    if name == "dob" and text is not None and text > clinic_time.today():
        return "The date of birth cannot be in the future."
    if name == "email" and text:
        try:
            user_accounts.normalize_email(text)  # the one e-mail rule, as for accounts
        except Invalid as error:
            return error.fields["email"][0]
    return None


def profile_problems(fields: dict) -> dict[str, list[str]]:
    """Every problem of these profile fields at once, so a form can show them all after one submit."""
    problems = {name: _problem(name, value) for name, value in fields.items()}
    return {name: [problem] for name, problem in problems.items() if problem}


def _check(fields: dict) -> dict:
    problems = profile_problems(fields)
    if problems:
        raise Invalid(problems)
    return {name: value.strip() if isinstance(value, str) else value for name, value in fields.items()}


def create_patient(actor: Actor, **fields) -> Patient:
    """A new profile (doctors and admins), remembered as created by the actor: that doctor sees it and
    may archive it."""
    policy.require_staff(actor.user)
    patient = Patient(created_by_id=actor.user_id, **_check(fields))
    db.session.add(patient)
    db.session.flush()
    audit.record(actor, "create", "patient", patient.id, patient.id)
    db.session.commit()
    return patient


@dataclass(frozen=True, slots=True)
class PatientRow:
    """A profile as the search lists show it (the API's PatientSchema, the patient and desk pages)."""

    id: int
    full_name: str
    gender: str | None
    dob: date | None
    address: str | None
    city: str | None
    phone: str | None
    email: str | None
    user_id: int | None
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime


_ROW_COLUMNS = {field.name: getattr(Patient, field.name) for field in fields(PatientRow)}
PATIENT_ROW = PlainRows("patient", PatientRow, *_ROW_COLUMNS.values())


def list_patients(actor: Actor, *, q: str | None = None, page: int = 1, per_page: int = 20,
                  item_json: ItemJson | None = None) -> Page[PatientRow] | Page[str]:
    """The visible patients by name, narrowed by `q` (each word must match the name, the date of birth
    or the phone); one statement whatever the page size: the page with its total, which writes its audit rows
    (audit.read_page; on SQLite an insert follows). With `item_json`, on PostgreSQL, each patient is the JSON
    text it writes (Page.json_items)."""
    policy.require_staff(actor.user)
    terms = search_terms(q)
    pages = _search_page(policy.role_of(actor.user), len(terms), written_by_database(item_json), on_postgresql())
    return audit.read_page(actor, pages, "patient", page, per_page, {**policy.viewer(actor.user), **_patterns(terms)})


def get_patient(actor: Actor, patient_id: int) -> Patient:
    """One visible profile (NotFound otherwise); the read is audited."""
    patient = policy.get_visible_patient(actor.user, patient_id)
    audit.record(actor, "read", "patient", patient.id, patient.id)
    commit_keeping_loaded()
    return patient


def update_patient(actor: Actor, patient_id: int, **changes) -> Patient:
    """Change a visible profile; fields left out stay. A patient may change only their contact fields
    (address, city, phone, email): any other field is Forbidden and nothing changes."""
    patient = policy.get_visible_patient(actor.user, patient_id)
    if actor.role == Role.PATIENT.value:
        refused = sorted(set(changes) - set(CONTACT_FIELDS))
        if refused:
            raise Forbidden(f"Patients may change only their contact details ({', '.join(CONTACT_FIELDS)}); "
                            f"not: {', '.join(refused)}.")
    for name, value in _check(changes).items():
        setattr(patient, name, value)
    audit.record(actor, "update", "patient", patient.id, patient.id)
    db.session.commit()
    return patient


def archive_patient(actor: Actor, patient_id: int) -> Patient:
    """Archive a visible profile (an admin, or the doctor who created it; Forbidden for others who see
    it): it leaves every list and read, and stays in the database with its records."""
    patient = policy.get_visible_patient(actor.user, patient_id)
    if not policy.can_manage_patient(actor.user, patient):
        raise Forbidden("Only an admin or the doctor who created this patient may archive it.")
    if not archive_once(Patient, patient.id, clinic_time.now()):
        db.session.rollback()
        raise NotFound("No such patient.")
    audit.record(actor, "delete", "patient", patient.id, patient.id)
    db.session.commit()
    return patient


def patient_doctors(actor: Actor, patient_id: int) -> list[Assignment]:
    """The active assignments of a visible patient with their doctors, by doctor name (one query)."""
    patient = policy.get_visible_patient(actor.user, patient_id)
    assignments = list(db.session.scalars(
        select(Assignment).join(Assignment.doctor).options(contains_eager(Assignment.doctor))
        .where(Assignment.patient_id == patient.id, Assignment.ended_at.is_(None))
        .order_by(Doctor.full_name, Assignment.id)))
    audit.record_many(actor, "read", "assignment", [(a.id, patient.id) for a in assignments])
    commit_keeping_loaded()
    return assignments


def patient_appointments(actor: Actor, patient_id: int, *, page: int = 1, per_page: int = 20) -> Page:
    """A visible patient's appointments that the actor may also read one by one (a doctor: those with
    them; the patient and admins: all), newest first, audited as appointment_reads lists are."""
    patient = policy.get_visible_patient(actor.user, patient_id)
    return appointment_reads.list_appointments(actor, patient_id=patient.id, page=page, per_page=per_page,
                                               newest_first=True)
