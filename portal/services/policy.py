"""Who may do what to which object: the one place every list and read goes through.

A patient sees their own patient profile and what hangs off it; a doctor sees patients they
created, are assigned to, or have an appointment with, and for a while those they opened with
emergency access ("break the glass"); an admin sees everything. Whatever a user may not see is
reported as NotFound, never Forbidden, so existence does not leak.
"""
from functools import cache

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Exists,
    Select,
    Subquery,
    and_,
    any_,
    bindparam,
    exists,
    func,
    or_,
    select,
    union,
)

from portal.extensions import db
from portal.models import (
    Appointment,
    Assignment,
    Department,
    Doctor,
    DoctorPatient,
    EmergencyAccess,
    MedicalRecord,
    Patient,
    PatientImage,
    Role,
    User,
    utcnow,
)
from portal.services.errors import Forbidden, NotFound


def require_role(user: User | None, *roles: Role) -> User:
    """Forbidden unless the user has one of the roles (a role check, not an object check)."""
    if user is None or user.role not in {r.value for r in roles}:
        raise Forbidden("Your role may not do this.")
    return user


def require_admin(user: User | None) -> User:
    """Forbidden for anyone but an admin: user management and the audit log."""
    return require_role(user, Role.ADMIN)


def is_admin(user: User | None) -> bool:
    return user is not None and user.role == Role.ADMIN.value


def doctor_id_of(user: User | None) -> int | None:
    """The doctor profile linked to a doctor account, if any."""
    if user is None or user.role != Role.DOCTOR.value:
        return None
    return db.session.scalar(select(Doctor.id).where(Doctor.user_id == user.id, Doctor.archived_at.is_(None)))


def patient_id_of(user: User | None) -> int | None:
    """A patient account's own live patient profile (User.own_patient_id: the bearer and session checks load
    it with the user, so this costs no statement on a signed-in request)."""
    if user is None or user.role != Role.PATIENT.value:
        return None
    return user.own_patient_id


# Who reads, and when: the values every visibility statement below is run with (viewer()). The statements
# themselves depend only on the reader's role, so each is built once per role and SQLAlchemy reuses its
# compiled form and cache key; building a doctor's set anew on every request cost a record page a third of
# its CPU. A statement run without these values fails (SQLAlchemy requires them); it never shows more.
VIEWER = bindparam("viewer_id")
VIEWER_NOW = bindparam("viewer_now")
VIEWER_PATIENT = bindparam("viewer_patient_id")  # a patient account's own profile (patient_id_of)


def viewer(user: User | None) -> dict:
    """The values to run a visibility template (patients_template, records_template...) with for `user`."""
    return {"viewer_id": user.id if user is not None else None, "viewer_now": utcnow(),
            "viewer_patient_id": patient_id_of(user)}


def role_of(user: User | None) -> str | None:
    """What a visibility template depends on: the reader's role."""
    return user.role if user is not None else None


@cache
def patients_template(role: str | None) -> Select:
    """visible_patients as a statement built once per role, to run with viewer(user) or to compose into
    statements that are built once too."""
    query = select(Patient).where(Patient.archived_at.is_(None))
    if role == Role.ADMIN.value:
        return query
    if role == Role.PATIENT.value:
        return query.where(Patient.user_id == VIEWER)
    if role == Role.DOCTOR.value:
        return query.where(Patient.id.in_(_doctor_patient_ids()))
    return query.where(Patient.id.is_(None))


@cache
def patients_to_narrow(role: str | None, postgresql: bool) -> Subquery:
    """The patients a role sees as rows of (id, full_name, search_text), for a list that narrows them by a
    condition on the search text that many of the clinic's patients may meet (a search term). On PostgreSQL a
    doctor's list is one index range of doctor_patients, which holds each patient's search text: the term is
    checked there without reading a patient's row (0.8 ms and 78 buffers for a common surname at 1,000,000
    records, against 2.1 ms and 1,045 when each of the doctor's patients was read). The few they created or
    hold an emergency access to are read from patients. SQLite, which has no arrays, and the other roles take
    patients_template."""
    if role == Role.DOCTOR.value and postgresql:
        others = union(*_created_or_opened()).scalar_subquery()
        return union(_on_list(DoctorPatient.patient_id.label("id"), DoctorPatient.full_name, DoctorPatient.search_text),
                     select(Patient.id, Patient.full_name, Patient.search_text).where(
                         Patient.archived_at.is_(None), Patient.id == any_(func.array(others)))).subquery("visible")
    return patients_template(role).with_only_columns(Patient.id, Patient.full_name,
                                                     Patient.search_text).subquery("visible")


def sees_few_patients(role: str | None) -> bool:
    """Whether a role's visible patients are few whatever the clinic's size (a doctor's own: hundreds at most),
    so that a list may first find its matches among them (persistence.PagedMatches). Not an admin's."""
    return role != Role.ADMIN.value


def visible_patients(user: User | None) -> Select:
    """A query of the patients this user may see (archived ones are seen by nobody), its values bound."""
    return patients_template(role_of(user)).params(viewer(user))


def _on_list(*columns) -> Select:
    """`columns` of the rows of doctor_patients that put a patient on the reader's (VIEWER's) list."""
    doctor_id = select(Doctor.id).where(Doctor.user_id == VIEWER).correlate(None).scalar_subquery()
    return select(*columns).where(DoctorPatient.doctor_id == doctor_id, DoctorPatient.listed()).correlate(None)


def _created_or_opened(*, emergency: bool = True) -> list[Select]:
    """The ids of the patients the doctor (VIEWER) created and, unless `emergency` is False, of those they hold
    a live emergency access to, one statement each: their patients that doctor_patients does not list."""
    parts = [select(Patient.id).where(Patient.created_by_id == VIEWER)]
    if emergency:
        parts.append(select(EmergencyAccess.patient_id).where(EmergencyAccess.doctor_user_id == VIEWER,
                                                              EmergencyAccess.expires_at > VIEWER_NOW))
    return [part.correlate(None) for part in parts]


@cache
def _doctor_patient_ids(*, emergency: bool = True) -> CompoundSelect:
    """The ids of a doctor's (VIEWER's) patients as one small set, each part an indexed lookup: their list
    (doctor_patients: assigned to them now, or ever booked with them), the profiles they created and (unless
    `emergency` is False) their live emergency grants. Lists of what hangs off patients (records of a
    department, say) then start from these few ids instead of checking every row's patient."""
    # each part correlate(None): never tied to an outer patients/assignments
    return union(_on_list(DoctorPatient.patient_id), *_created_or_opened(emergency=emergency))


def visible_patient_ids(user: User | None) -> Select:
    """The ids of visible_patients, to narrow queries of what hangs off a patient (images, records)."""
    return visible_patients(user).with_only_columns(Patient.id)


def emergency_reader(user: User | None) -> int | None:
    """Whose emergency accesses flag this user's reads in the audit log: a doctor's own, nobody else's."""
    return user.id if user is not None and user.role == Role.DOCTOR.value else None


# An audit row's emergency flag, decided by the audit insert itself for each row (no query of its own): true
# while the reader (emergency_reader) holds a live emergency access to the row's patient. While a grant lasts,
# every read of that patient by that doctor is flagged, even one they could have made without it: the review
# sees the whole episode. Bind parameters: reader, about (the patient), now.
def under_emergency(reader, about, now) -> Exists:
    """True while `reader` holds a live emergency access to the patient `about` (SQL expressions both)."""
    return exists().where(EmergencyAccess.doctor_user_id == reader, EmergencyAccess.patient_id == about,
                          EmergencyAccess.expires_at > now)


UNDER_EMERGENCY = under_emergency(bindparam("reader"), bindparam("about"), bindparam("now"))


@cache
def _visible_patient_query(role: str | None, only_id: bool) -> Select:
    query = patients_template(role).where(Patient.id == bindparam("patient_id"))
    return query.with_only_columns(Patient.id) if only_id else query


def get_visible_patient(user: User | None, patient_id: int) -> Patient:
    patient = db.session.scalar(_visible_patient_query(role_of(user), False),
                                {**viewer(user), "patient_id": patient_id})
    if patient is None:
        raise NotFound("No such patient.")
    return patient


def visible_patient_id(user: User | None, patient_id: int) -> int:
    """get_visible_patient for a caller who needs only the id: a patient naming their own profile costs no
    statement (patient_id_of comes with the signed-in user); anyone else is checked as there, reading only the id."""
    if patient_id_of(user) == patient_id:
        return patient_id
    found = db.session.scalar(_visible_patient_query(role_of(user), True), {**viewer(user), "patient_id": patient_id})
    if found is None:
        raise NotFound("No such patient.")
    return found


def get_patient_to_assign(user: User | None, patient_id: int) -> Patient:
    """A patient whose doctors this user may change: one they see (NotFound otherwise), but for a doctor
    not through emergency access alone, which is an hour's look for care, never a way to a lasting
    assignment (Forbidden)."""
    patient = get_visible_patient(user, patient_id)
    if user.role == Role.DOCTOR.value and db.session.scalar(
            select(Patient.id).where(Patient.id == patient.id, Patient.id.in_(_doctor_patient_ids(emergency=False))),
            viewer(user)) is None:
        raise Forbidden("Emergency access lets you read and treat this patient, not assign doctors to them.")
    return patient


def get_patient_to_book(user: User | None, patient_id: int) -> Patient:
    """A patient staff may book for at the desk: as get_patient_to_assign, because an appointment too makes
    the patient lastingly visible to the doctor, which an emergency access alone must never become."""
    try:
        return get_patient_to_assign(user, patient_id)
    except Forbidden:
        raise Forbidden("Emergency access lets you read and treat this patient, not book appointments for "
                        "them.") from None


def can_manage_patient(user: User | None, patient: Patient) -> bool:
    """Archiving a patient: an admin, or the doctor who created the profile."""
    return is_admin(user) or (user is not None and user.role == Role.DOCTOR.value
                              and patient.created_by_id == user.id)


def may_read_patient_trail(user: User | None, patient: Patient) -> bool:
    """A patient's access log and full export: that patient (their own account) and admins only."""
    return is_admin(user) or (user is not None and patient.user_id == user.id)


def can_archive_image(user: User | None, image: PatientImage) -> bool:
    """Archiving an image of a visible patient: staff (doctor, admin) any; a patient only their own uploads."""
    if user is None:
        return False
    if user.role in (Role.DOCTOR.value, Role.ADMIN.value):
        return True
    return user.role == Role.PATIENT.value and image.uploaded_by_id == user.id


def may_act_for_doctor(user: User | None, doctor_id: int) -> bool:
    """Managing a doctor's profile and availability: an admin or that doctor."""
    return is_admin(user) or (doctor_id is not None and doctor_id_of(user) == doctor_id)


def listed_doctor() -> ColumnElement[bool]:
    """A doctor the public directory shows, lists, counts and lets patients book: not archived, and
    either without an account or with an active doctor account, so deactivating or re-roling the
    account takes the profile down everywhere at once (a profile an admin made for an account still
    awaiting approval is shown: the admin vouched for it)."""
    account_ok = exists().where(User.id == Doctor.user_id, User.is_active_flag.is_(True),
                                User.role == Role.DOCTOR.value)
    return and_(Doctor.archived_at.is_(None), or_(Doctor.user_id.is_(None), account_ok))


@cache
def _seen_doctor_query(listed_only: bool) -> Select:
    """seen_doctor's statement, built once per form (every slot list reads its doctor through it)."""
    query = select(Doctor).where(Doctor.id == bindparam("doctor_id"), Doctor.archived_at.is_(None))
    return query.where(listed_doctor()) if listed_only else query


def seen_doctor(user: User | None, doctor_id: int) -> Doctor:
    """A doctor as `user` may look at them: listed, or managed by the user (an admin, or the doctor
    themself, who keeps their own calendar while unlisted); NotFound otherwise."""
    doctor = db.session.scalar(_seen_doctor_query(not may_act_for_doctor(user, doctor_id)), {"doctor_id": doctor_id})
    if doctor is None:
        raise NotFound("No such doctor.")
    return doctor


def appointment_reader(user: User | None) -> str:
    """The role whose appointments_template the user reads through; Forbidden for a role that sees none."""
    return require_role(user, Role.PATIENT, Role.DOCTOR, Role.ADMIN).role


@cache
def appointments_template(role: str) -> Select:
    """visible_appointments as a statement built once per role (see patients_template); a doctor's are those
    of their live doctor profile, found inside the statement."""
    query = select(Appointment)
    if role == Role.ADMIN.value:
        return query
    if role == Role.PATIENT.value:
        return query.where(Appointment.patient_id == VIEWER_PATIENT)
    own_profile = select(Doctor.id).where(Doctor.user_id == VIEWER, Doctor.archived_at.is_(None))
    return query.where(Appointment.doctor_id == own_profile.scalar_subquery())


def visible_appointments(user: User | None) -> Select:
    """The appointments this user may see: a patient their own, a doctor those with them, an admin all."""
    return appointments_template(appointment_reader(user)).params(viewer(user))


def linked_appointments(patient_id: int) -> Select:
    """The appointments open to a signed link from a mail: its patient's own, nobody else's (the link names
    the patient; reminder_links checks the signature, the appointment and the time before this)."""
    return select(Appointment).where(Appointment.patient_id == patient_id)


def require_staff(user: User | None) -> User:
    """Doctors and admins: who creates and searches patients, assigns doctors and writes records."""
    return require_role(user, Role.DOCTOR, Role.ADMIN)


def visible_assignments(user: User | None) -> Select:
    """Assignments of the patients this user sees, for staff (patients read their doctors elsewhere)."""
    require_staff(user)
    return select(Assignment).join(Assignment.patient).where(visible_patients(user).whereclause)


@cache
def records_template(role: str | None) -> Select:
    """visible_records as a statement built once per role (see patients_template)."""
    patient_ids = patients_template(role).with_only_columns(Patient.id)
    return select(MedicalRecord).where(MedicalRecord.archived_at.is_(None), MedicalRecord.patient_id.in_(patient_ids))


def visible_records(user: User | None) -> Select:
    """Medical records, not archived, of the patients this user sees (by patient id, so the database
    can start from a doctor's few patients rather than from every record of a department)."""
    return records_template(role_of(user)).params(viewer(user))


# A live department, and whether the reader (if a doctor) works in it: both answers of the gate below at once.
_DEPARTMENT_OF_READER = select(
    Department.id, exists().where(Doctor.user_id == bindparam("user_id"), Doctor.archived_at.is_(None),
                                  Doctor.department_id == Department.id),
).where(Department.id == bindparam("department_id"), Department.archived_at.is_(None))


def department_for_records(user: User | None, department_id: int) -> int:
    """The department whose records list the user asks for: NotFound for no such (live) department; Forbidden
    for anyone but its own doctors and admins (the department itself is public, so refusing says nothing
    that GET /departments does not). One statement."""
    found = db.session.execute(_DEPARTMENT_OF_READER, {"user_id": user.id if user is not None else None,
                                                       "department_id": department_id}).first()
    if found is None:
        raise NotFound("No such department.")
    in_department = user is not None and user.role == Role.DOCTOR.value and found[1]
    if not (is_admin(user) or in_department):
        raise Forbidden("Only the department's doctors and admins see its records.")
    return found[0]
