"""Medical records: filed and edited by staff for visible patients, read by the patient, never lost.

Every edit freezes the version it replaces into medical_record_versions (with who replaced it, and
when) and bumps `version`. A writer names the version it edited; the UPDATE only matches while the
row still has that version (`WHERE version = :v`), so of two simultaneous writers exactly one wins
and the other gets StaleRecord (409 stale_record) carrying the record as it now is. Archiving stamps
archived_at instead of deleting. Reads and writes are audited; lists in one insert.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import aliased, joinedload

from portal.extensions import db
from portal.models import Department, Doctor, MedicalRecord, MedicalRecordVersion, Patient, Role, User
from portal.services import audit, clinic_time, policy
from portal.services.actor import Actor
from portal.services.clinic_time import MissingField
from portal.services.errors import Conflict, Invalid, NotFound
from portal.services.persistence import Page, PagedQuery, commit_keeping_loaded, written_by_database
from portal.services.plain_rows import DepartmentRef, ItemJson, Party, PlainRows, listed

CONTENT_FIELDS = ("diagnostics", "observations", "treatments", "misc", "department_id", "recorded_at")
FUTURE_TOLERANCE = timedelta(minutes=5)


class StaleRecord(Conflict):
    """The record changed since the version this write is based on."""

    code = "stale_record"

    def __init__(self, current: MedicalRecord):
        super().__init__(f"The record is now at version {current.version}; your change was based on an older "
                         "one. Compare with the current record and send your change again with its version.")
        self.current = current


@dataclass(frozen=True)
class RecordVersion:
    """One version of a record as history shows it: its content, who wrote it and when."""

    version: int
    diagnostics: str
    observations: str | None
    treatments: str | None
    misc: str | None
    department_id: int | None
    recorded_at: datetime
    written_by: User | None
    written_at: datetime
    current: bool


@dataclass(frozen=True, slots=True)
class RecordRow:
    """A record as lists show it (the API's RecordSchema, the timeline and department pages): its fields,
    its doctor and department (None when it has none) and its patient's name."""

    id: int
    patient_id: int
    doctor_id: int | None
    department_id: int | None
    author_id: int | None
    diagnostics: str
    observations: str | None
    treatments: str | None
    misc: str | None
    recorded_at: datetime
    version: int
    created_at: datetime
    updated_at: datetime
    doctor: Party | None
    department: DepartmentRef | None
    patient: Party


def _record_row(*values) -> RecordRow:
    *fields, doctor_id, doctor_name, department_id, department_name, patient_name = values
    return RecordRow(*fields, doctor=None if doctor_id is None else Party(doctor_id, doctor_name),
                     department=None if department_id is None else DepartmentRef(department_id, department_name),
                     patient=Party(fields[1], patient_name))


_PATIENT = aliased(Patient)  # not `patients`: a visibility subquery of patients must not correlate to it
# A RecordRow's attributes and their columns, in _record_row's order (a nested one's as `doctor.full_name`).
_ROW_COLUMNS = {
    "id": MedicalRecord.id, "patient_id": MedicalRecord.patient_id, "doctor_id": MedicalRecord.doctor_id,
    "department_id": MedicalRecord.department_id, "author_id": MedicalRecord.author_id,
    "diagnostics": MedicalRecord.diagnostics, "observations": MedicalRecord.observations,
    "treatments": MedicalRecord.treatments, "misc": MedicalRecord.misc, "recorded_at": MedicalRecord.recorded_at,
    "version": MedicalRecord.version, "created_at": MedicalRecord.created_at, "updated_at": MedicalRecord.updated_at,
    "doctor.id": Doctor.id, "doctor.full_name": Doctor.full_name, "department.id": Department.id,
    "department.name": Department.name, "patient.full_name": _PATIENT.full_name}
RECORD_ROW = PlainRows("record", _record_row, *_ROW_COLUMNS.values())
# The same for an item's JSON (ItemJson), with the nested objects that may be None (plain_rows.listed).
_JSON_COLUMNS = {**_ROW_COLUMNS, "doctor": Doctor.id, "department": Department.id}


def _as_rows(query: Select, item_json: ItemJson | None = None) -> Select:
    """A query of visible records as RecordRows, or as each record's JSON text that `item_json` writes; outer joins
    throughout, so that a count of it needs none of the joined tables (PostgreSQL drops them) and no record is lost
    to a join."""
    return (query.with_only_columns(listed(RECORD_ROW, _JSON_COLUMNS, item_json))
            .outerjoin_from(MedicalRecord, Doctor, Doctor.id == MedicalRecord.doctor_id)
            .outerjoin_from(MedicalRecord, Department, Department.id == MedicalRecord.department_id)
            .outerjoin_from(MedicalRecord, _PATIENT, _PATIENT.id == MedicalRecord.patient_id))


def _with_names(query: Select) -> Select:
    return query.options(joinedload(MedicalRecord.doctor), joinedload(MedicalRecord.department))


def _visible(actor: Actor, record_id: int) -> MedicalRecord:
    record = db.session.scalar(_with_names(policy.visible_records(actor.user)).where(MedicalRecord.id == record_id))
    if record is None:
        raise NotFound("No such record.")
    return record


def _recorded_at_problem(fields: dict) -> str | None:
    """The problem of recorded_at, if any; a good one is put into UTC in `fields`."""
    if "recorded_at" not in fields:
        return None
    recorded_at = fields["recorded_at"]
    if recorded_at is None:
        return "Give the time of the record."
    try:  # an offset can carry the first or last day of the calendar past what UTC can hold
        fields["recorded_at"] = recorded_at = recorded_at.astimezone(UTC)
    except OverflowError:
        return clinic_time.OUT_OF_RANGE
    if recorded_at > clinic_time.now() + FUTURE_TOLERANCE:
        return "A record cannot be dated in the future."
    return None


def record_problems(fields: dict) -> dict[str, list[str]]:
    """Every problem of these record fields at once, so a form (or a 422) names them all after one
    submit; a well-formed recorded_at is put into UTC in `fields`."""
    problems = {"recorded_at": _recorded_at_problem(fields)}
    if "diagnostics" in fields and not (fields["diagnostics"] or "").strip():
        problems["diagnostics"] = "Write the diagnostics."
    department_id = fields.get("department_id")
    if department_id is not None:
        department = db.session.get(Department, department_id)
        if department is None or department.archived_at is not None:
            problems["department_id"] = "No such department."
    return {name: [problem] for name, problem in problems.items() if problem}


def _check(fields: dict) -> dict:
    problems = record_problems(fields)
    if problems:
        raise Invalid(problems)
    return fields


def create_record(actor: Actor, patient_id: int, **fields) -> MedicalRecord:
    """File a record for a visible patient (staff only). A doctor's record is theirs and, unless
    another department is named, filed under their department; recorded_at defaults to now."""
    policy.require_staff(actor.user)
    patient = policy.get_visible_patient(actor.user, patient_id)
    fields = _check(fields)
    doctor_id = policy.doctor_id_of(actor.user)
    if fields.get("department_id") is None and doctor_id is not None:
        fields["department_id"] = db.session.scalar(select(Doctor.department_id).where(Doctor.id == doctor_id))
    fields["recorded_at"] = fields.get("recorded_at") or clinic_time.now()
    record = MedicalRecord(patient_id=patient.id, doctor_id=doctor_id, author_id=actor.user_id, version=1, **fields)
    db.session.add(record)
    db.session.flush()
    audit.record(actor, "create", "medical_record", record.id, patient.id)
    db.session.commit()
    return get_loaded(record.id)


def get_loaded(record_id: int) -> MedicalRecord:
    """A fresh copy with doctor and department names, without checks or audit (after a write)."""
    return db.session.scalar(_with_names(select(MedicalRecord)).where(MedicalRecord.id == record_id))


def month_window(year: int | None, month: int | None) -> tuple[datetime, datetime] | None:
    """A clinic year or month as [start, end) in UTC; Invalid for a month without a year."""
    if month is not None and year is None:
        raise Invalid.field("month", "Give the year with the month.")
    if year is None:
        return None
    try:
        first = date(year, month or 1, 1)
        after = date(year + 1, 1, 1) if month is None else date(year + month // 12, month % 12 + 1, 1)
    except ValueError:
        raise Invalid.field("year", "That year or month is out of range.") from None
    return clinic_time.day_bounds(first)[0], clinic_time.day_bounds(after)[0]


def list_records(actor: Actor, *, patient_id: int | None = None, doctor_id: int | None = None,
                 department_id: int | None = None, year: int | None = None, month: int | None = None,
                 page: int = 1, per_page: int = 20) -> Page[RecordRow]:
    """Visible records, newest recorded first, by patient, doctor, department and clinic year/month.
    One query (the page with its total) and one audit insert whatever the page size."""
    policy.require_role(actor.user, Role.PATIENT, Role.DOCTOR, Role.ADMIN)
    query = policy.visible_records(actor.user)
    for column, value in ((MedicalRecord.patient_id, patient_id), (MedicalRecord.doctor_id, doctor_id),
                          (MedicalRecord.department_id, department_id)):
        if value is not None:
            query = query.where(column == value)
    window = month_window(year, month)
    if window is not None:
        query = query.where(MedicalRecord.recorded_at >= window[0], MedicalRecord.recorded_at < window[1])
    return audit.read_page(actor, PagedQuery(_ordered(query)), "medical_record", page, per_page)


def patient_records(actor: Actor, patient_id: int, *, page: int = 1, per_page: int = 20,
                    item_json: ItemJson | None = None) -> Page[RecordRow] | Page[str]:
    """A visible patient's records (NotFound for a patient the actor cannot see), as list_records; with
    `item_json`, on PostgreSQL, each as the JSON text it writes (Page.json_items)."""
    patient_id = policy.visible_patient_id(actor.user, patient_id)
    pages = _timeline_page(policy.role_of(actor.user), written_by_database(item_json))
    return audit.read_page(actor, pages, "medical_record", page, per_page,
                           {**policy.viewer(actor.user), "patient_id": patient_id})


def department_records(actor: Actor, department_id: int, *, page: int = 1, per_page: int = 20,
                       item_json: ItemJson | None = None) -> Page[RecordRow] | Page[str]:
    """Visible records filed under a department, for its doctors and admins (Forbidden for others;
    NotFound for no such department, as GET /departments/{id} says anyway); `item_json` as patient_records."""
    department_id = policy.department_for_records(actor.user, department_id)
    pages = _department_page(policy.role_of(actor.user), written_by_database(item_json))
    return audit.read_page(actor, pages, "medical_record", page, per_page,
                           {**policy.viewer(actor.user), "department_id": department_id})


def _ordered(query: Select, item_json: ItemJson | None = None) -> Select:
    return _as_rows(query, item_json).order_by(MedicalRecord.recorded_at.desc(), MedicalRecord.id.desc())


@cache
def _timeline_page(role: str | None, item_json: ItemJson | None) -> PagedQuery:
    """A patient's (:patient_id) records as a role sees them, built once: one walk of (patient_id, recorded_at)."""
    query = policy.records_template(role).where(MedicalRecord.patient_id == bindparam("patient_id"))
    return audit.ReadPages(_ordered(query, item_json), MedicalRecord.id, MedicalRecord.patient_id,
                           _by_ids(item_json))


@cache
def _department_page(role: str | None, item_json: ItemJson | None) -> PagedQuery:
    """A department's (:department_id) records as a role sees them, built once. A doctor's are hundreds at most
    (policy.sees_few_patients): found once, counted and cut before the page's rows are read whole, which
    reads half the buffers; an admin's whole department is paged as any list."""
    query = policy.records_template(role).where(MedicalRecord.department_id == bindparam("department_id"))
    if not policy.sees_few_patients(role):
        return audit.ReadPages(_ordered(query, item_json), MedicalRecord.id, MedicalRecord.patient_id,
                               _by_ids(item_json))
    return audit.ReadMatches(query.with_only_columns(MedicalRecord.id, MedicalRecord.recorded_at,
                                                    MedicalRecord.patient_id),
                             lambda found: (found.recorded_at.desc(), found.id.desc()), _by_ids(item_json),
                             "patient_id")


def _by_ids(item_json: ItemJson | None) -> Callable[[Select], Select]:
    """The rows of the records whose ids a page chose (a subquery), as the list shows them, in its order."""
    return lambda ids: _ordered(select(MedicalRecord).where(MedicalRecord.id.in_(ids)), item_json)


def get_record(actor: Actor, record_id: int) -> MedicalRecord:
    """One visible record (NotFound otherwise); the read is audited."""
    record = _visible(actor, record_id)
    audit.record(actor, "read", "medical_record", record.id, record.patient_id)
    commit_keeping_loaded()
    return record


def update_record(actor: Actor, record_id: int, version: int | None, **changes) -> MedicalRecord:
    """Edit a visible record (staff only; a patient is Forbidden) based on `version`; fields left out
    stay. The replaced version is frozen with who replaced it and when. StaleRecord when `version` is
    not the current one, decided by the UPDATE itself so simultaneous writers cannot both win."""
    record = _visible(actor, record_id)
    policy.require_staff(actor.user)
    if version is None:
        raise MissingField("version")
    changes = _check(changes)
    if record.version != version:
        raise StaleRecord(record)
    frozen = MedicalRecordVersion(record_id=record.id, version=record.version, edited_by_id=actor.user_id,
                                  edited_at=clinic_time.now(),
                                  **{name: getattr(record, name) for name in CONTENT_FIELDS})
    result = db.session.execute(
        update(MedicalRecord).where(MedicalRecord.id == record.id, MedicalRecord.version == version,
                                    MedicalRecord.archived_at.is_(None))
        .values(version=version + 1, updated_at=frozen.edited_at, **changes)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise StaleRecord(_visible(actor, record_id))
    db.session.add(frozen)
    audit.record(actor, "update", "medical_record", record.id, record.patient_id)
    db.session.commit()
    return get_loaded(record.id)


def archive_record(actor: Actor, record_id: int, version: int | None = None) -> MedicalRecord:
    """Archive a visible record (staff only): it leaves every list and read and stays in the database.
    With `version`, StaleRecord unless the record is still at that version."""
    record = _visible(actor, record_id)
    policy.require_staff(actor.user)
    conditions = [MedicalRecord.id == record.id, MedicalRecord.archived_at.is_(None)]
    if version is not None:
        conditions.append(MedicalRecord.version == version)
    result = db.session.execute(update(MedicalRecord).where(*conditions).values(archived_at=clinic_time.now())
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise StaleRecord(_visible(actor, record_id))
    audit.record(actor, "delete", "medical_record", record.id, record.patient_id)
    db.session.commit()
    return get_loaded(record.id)


def history(actor: Actor, record_id: int) -> list[RecordVersion]:
    """Every version of a visible record, oldest first, the current one last: each with who wrote it and
    when (version 1: the record's author at creation; later ones: whoever replaced the one before)."""
    record = _visible(actor, record_id)
    frozen = list(db.session.scalars(select(MedicalRecordVersion).where(MedicalRecordVersion.record_id == record.id)
                                     .order_by(MedicalRecordVersion.version)))
    user_ids = {record.author_id, *(v.edited_by_id for v in frozen)} - {None}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    writers = [(users.get(record.author_id), record.created_at)] + [(users.get(v.edited_by_id), v.edited_at)
                                                                    for v in frozen]
    versions = [RecordVersion(v.version, v.diagnostics, v.observations, v.treatments, v.misc, v.department_id,
                              v.recorded_at, *writers[index], current=False) for index, v in enumerate(frozen)]
    versions.append(RecordVersion(record.version, record.diagnostics, record.observations, record.treatments,
                                  record.misc, record.department_id, record.recorded_at,
                                  *writers[len(frozen)], current=True))
    audit.record_each(actor, "read", [("medical_record", record.id, record.patient_id)]
                      + [("medical_record_version", v.id, record.patient_id) for v in frozen])
    commit_keeping_loaded()
    return versions
