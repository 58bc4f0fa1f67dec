"""The clinic directory's records: departments and doctor profiles, and who may change them.

Nothing is deleted: a department or doctor that goes is archived (archived_at), which keeps the
appointments and records that point at it readable. A department is only archived once no active
doctor belongs to it; a doctor only once no upcoming appointment is booked with them.
Finding doctors and their free slots is in doctor_search.
"""
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from sqlalchemy import and_, func, select, update

from portal.extensions import db
from portal.models import Appointment, Department, Doctor, Role, Slot, User
from portal.services import clinic_time, policy
from portal.services.accounts import user_accounts
from portal.services.actor import Actor
from portal.services.errors import Conflict, Forbidden, Invalid, NotFound
from portal.services.persistence import commit_or_conflict
from portal.services.scheduling import booking_rules, slot_rules

DOCTOR_FIELDS = ("full_name", "speciality", "department_id", "gender", "dob", "description", "fees",
                 "email", "phone", "user_id", *booking_rules.FIELDS)
MAX_FEES = Decimal("99999999.99")


class DepartmentInfo(NamedTuple):
    department: Department
    doctor_count: int  # active doctors only


def _departments_with_counts():
    count = func.count(Doctor.id).label("doctor_count")
    return (select(Department, count)
            .outerjoin(Doctor, and_(Doctor.department_id == Department.id, policy.listed_doctor()))
            .where(Department.archived_at.is_(None)).group_by(Department.id))


def list_departments() -> list[DepartmentInfo]:
    """Every active department with its doctor count, in one query (a clinic has tens, not thousands)."""
    rows = db.session.execute(_departments_with_counts().order_by(func.lower(Department.name)))
    return [DepartmentInfo(department, count) for department, count in rows]


def get_department(department_id: int) -> DepartmentInfo:
    row = db.session.execute(_departments_with_counts().where(Department.id == department_id)).first()
    if row is None:
        raise NotFound("No such department.")
    return DepartmentInfo(*row)


def live_department(department_id: int) -> Department:
    department = db.session.get(Department, department_id)
    if department is None or department.archived_at is not None:
        raise NotFound("No such department.")
    return department


def _name_taken() -> Conflict:
    return Conflict("A department with that name exists.", code="department_name_taken")


def _department_values(name: str | None, description: str | None, except_id: int | None) -> dict:
    values = {}
    if name is not None:
        name = name.strip()
        if not name or len(name) > 120:
            raise Invalid.field("name", "Give a name of 1 to 120 characters.")
        clash = select(Department.id).where(func.lower(Department.name) == name.lower(),
                                            Department.archived_at.is_(None), Department.id != (except_id or 0))
        if db.session.scalar(clash) is not None:
            raise _name_taken()
        values["name"] = name
    if description is not None:
        if len(description) > 5000:
            raise Invalid.field("description", "Keep the description under 5000 characters.")
        values["description"] = description.strip()
    return values


def create_department(actor: Actor, *, name: str, description: str = "") -> DepartmentInfo:
    """Admin only; the name is unique whatever its case (Conflict department_name_taken)."""
    policy.require_role(actor.user, Role.ADMIN)
    if name is None:
        raise Invalid.field("name", "Give a name of 1 to 120 characters.")
    department = Department(**_department_values(name, description or "", None))
    db.session.add(department)
    commit_or_conflict({"uq_departments_name_lower": _name_taken})
    return get_department(department.id)


def update_department(actor: Actor, department_id: int, *, name: str | None = None,
                      description: str | None = None) -> DepartmentInfo:
    policy.require_role(actor.user, Role.ADMIN)
    department = live_department(department_id)
    for key, value in _department_values(name, description, department.id).items():
        setattr(department, key, value)
    commit_or_conflict({"uq_departments_name_lower": _name_taken})
    return get_department(department_id)


def delete_department(actor: Actor, department_id: int) -> None:
    """Archive a department; Conflict department_in_use while active doctors belong to it."""
    policy.require_role(actor.user, Role.ADMIN)
    department = live_department(department_id)
    if get_department(department_id).doctor_count:
        raise Conflict("Doctors still belong to this department; move or archive them first.",
                       code="department_in_use")
    department.archived_at = clinic_time.now()
    db.session.commit()


def get_doctor(doctor_id: int) -> Doctor:
    doctor = db.session.get(Doctor, doctor_id)
    if doctor is None or doctor.archived_at is not None:
        raise NotFound("No such doctor.")
    return doctor


def _text(values: dict, key: str, limit: int, required: bool) -> None:
    value = values[key]
    value = value.strip() if isinstance(value, str) else value
    if value in (None, ""):
        if required:
            raise Invalid.field(key, f"Give 1 to {limit} characters.")
        values[key] = None
    elif not isinstance(value, str) or len(value) > limit:
        raise Invalid.field(key, f"Give 1 to {limit} characters.")
    else:
        values[key] = value


def _doctor_values(changes: dict, *, creating: bool, except_doctor: int | None = None) -> dict:
    """Validated doctor fields; on create full_name, speciality and department_id are required."""
    unknown = set(changes) - set(DOCTOR_FIELDS)
    if unknown:
        raise Invalid({key: ["Unknown field."] for key in sorted(unknown)})
    values = dict(changes)
    for key, limit, required in (("full_name", 200, True), ("speciality", 120, True),
                                 ("description", 5000, False), ("phone", 40, False)):
        if key in values or (creating and required):
            values.setdefault(key, None)
            _text(values, key, limit, required)
    if "department_id" in values or creating:
        if values.get("department_id") is None:
            raise Invalid.field("department_id", "Pick a department.")
        try:
            live_department(values["department_id"])
        except NotFound:
            raise Invalid.field("department_id", "No such department.") from None
    if "gender" in values:
        values["gender"] = values["gender"] or None
        if values["gender"] is not None and values["gender"] not in user_accounts.GENDERS:
            raise Invalid.field("gender", f"Choose one of: {', '.join(user_accounts.GENDERS)}.")
    if "dob" in values and values["dob"] is not None and (
            not isinstance(values["dob"], date) or values["dob"] >= clinic_time.today()):
        raise Invalid.field("dob", "Give a date of birth in the past.")
    if values.get("fees") is not None:
        values["fees"] = _fees(values["fees"])
    if values.get("email"):
        values["email"] = user_accounts.normalize_email(values["email"])
    if values.get("user_id") is not None:
        _check_account(values["user_id"], except_doctor)
    problems = booking_rules.override_problems(values)
    if problems:
        raise Invalid(problems)
    return values


def _fees(raw) -> Decimal:
    try:
        fees = Decimal(str(raw)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise Invalid.field("fees", "Give an amount such as 80.00.") from None
    if not Decimal(0) <= fees <= MAX_FEES:
        raise Invalid.field("fees", "Give an amount from 0 to 99999999.99.")
    return fees


def _account_taken() -> Conflict:
    return Conflict("That account already has a doctor profile.", code="doctor_account_taken")


ACCOUNT_CONFLICTS = {"uq_doctors_user_id": _account_taken, "doctors.user_id": _account_taken}  # PostgreSQL, SQLite


def _check_account(user_id: int, except_doctor: int | None) -> None:
    user = db.session.get(User, user_id)
    if user is None or user.role != Role.DOCTOR.value:
        raise Invalid.field("user_id", "Link a doctor account.")
    owner = db.session.scalar(select(Doctor.id).where(Doctor.user_id == user_id))
    if owner is not None and owner != except_doctor:
        raise _account_taken()


def create_doctor(actor: Actor, **fields) -> Doctor:
    """Admin only: full_name, speciality, department_id; optional gender, dob, description, fees,
    email, phone, user_id (a doctor account without a profile)."""
    policy.require_role(actor.user, Role.ADMIN)
    doctor = Doctor(**_doctor_values(fields, creating=True))
    db.session.add(doctor)
    commit_or_conflict(ACCOUNT_CONFLICTS)
    return doctor


def update_doctor(actor: Actor, doctor_id: int, **changes) -> Doctor:
    """An admin, or the doctor themself, who may not relink the account (user_id) nor change the booking
    rules of their slots (booking_rules.FIELDS): those are the admin's. Sending back a rule's current
    value is no change, so a doctor's client may PUT the whole profile it read."""
    doctor = get_doctor(doctor_id)
    if not policy.may_act_for_doctor(actor.user, doctor_id):
        raise Forbidden("Only that doctor or an admin changes this profile.")
    if not policy.is_admin(actor.user):
        if "user_id" in changes:
            raise Forbidden("Only an admin links a doctor profile to an account.")
        if any(name in changes and changes[name] != getattr(doctor, name) for name in booking_rules.FIELDS):
            raise Forbidden("Only an admin changes a doctor's booking rules.")
    for key, value in _doctor_values(changes, creating=False, except_doctor=doctor_id).items():
        setattr(doctor, key, value)
    commit_or_conflict(ACCOUNT_CONFLICTS)
    return doctor


def delete_doctor(actor: Actor, doctor_id: int) -> None:
    """Archive a doctor and withdraw their future slots; Conflict doctor_has_appointments while
    upcoming appointments are booked with them (cancel or move those first)."""
    policy.require_role(actor.user, Role.ADMIN)
    doctor = get_doctor(doctor_id)
    moment = clinic_time.now()
    upcoming = select(Appointment.id).where(Appointment.doctor_id == doctor_id, slot_rules.not_cancelled(),
                                            Appointment.starts_at > moment).limit(1)
    if db.session.scalar(upcoming) is not None:
        raise Conflict("This doctor has upcoming appointments.", code="doctor_has_appointments")
    doctor.archived_at = moment
    db.session.execute(update(Slot).where(Slot.doctor_id == doctor_id, slot_rules.live(), Slot.starts_at > moment)
                       .values(removed_at=moment))
    db.session.commit()
