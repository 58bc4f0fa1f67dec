"""Accounts: registration, sign-in, profile changes and the admin's hand on users."""
import re
from contextlib import contextmanager
from datetime import date

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import Doctor, Patient, Role, User
from portal.services import mail, throttle
from portal.services.accounts import passwords, sessions, tokens
from portal.services.errors import Conflict, Forbidden, Invalid, Unauthenticated

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
SELF_SERVICE_ROLES = (Role.PATIENT.value, Role.DOCTOR.value)
GENDERS = ("female", "male", "other", "unspecified")


def normalize_email(email: str, field: str = "email") -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise Invalid.field(field, str(error)) from None


def _check_username(username: str) -> str:
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise Invalid.field("username", "Use 3 to 64 letters, digits, dots, dashes or underscores, "
                                        "starting with a letter or digit.")
    return username


def _check_full_name(full_name: str) -> str:
    full_name = (full_name or "").strip()
    if not full_name or len(full_name) > 200:
        raise Invalid.field("full_name", "Give a name of 1 to 200 characters.")
    return full_name


def _check_gender(gender: str | None) -> str | None:
    if gender in (None, ""):
        return None
    if gender not in GENDERS:
        raise Invalid.field("gender", f"Choose one of: {', '.join(GENDERS)}.")
    return gender


def _check_phone(phone: str | None) -> str | None:
    phone = (phone or "").strip()
    if len(phone) > 40:
        raise Invalid.field("phone", "Use at most 40 characters.")
    return phone or None


def _ensure_unique(username: str | None, email: str | None, except_id: int | None = None) -> None:
    """Conflict when another account already uses the username or email, whatever their case."""
    for field, column, value in (("username", User.username, username), ("email", User.email, email)):
        if value is None:
            continue
        query = select(User.id).where(func.lower(column) == value.lower())
        if except_id is not None:
            query = query.where(User.id != except_id)
        if db.session.scalar(query) is not None:
            raise Conflict(f"That {field} is already taken.", code=f"{field}_taken")


def _with_taken(problems: dict[str, list[str]], username: str | None, email: str | None,
                except_id: int | None = None) -> dict[str, list[str]]:
    """The problems plus "already taken" for a well-formed username or email another account uses, so a form
    shows everything after one submit (alone, a taken name stays the Conflict the API answers with 409)."""
    for field, value in (("username", username), ("email", email)):
        if value and field not in problems:
            try:
                _ensure_unique(**{"username": None, "email": None, field: value}, except_id=except_id)
            except Conflict as error:
                problems[field] = [error.message]
    return problems


@contextmanager
def _unique_writes():
    """Write and commit, turning a lost race on a unique index (at a flush or at the commit) into the
    same Conflict the pre-check gives, so two people taking one username at once never see a 500."""
    try:
        yield
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        text = str(error.orig).lower()
        field = "email" if "email" in text else "username"
        raise Conflict(f"That {field} is already taken.", code=f"{field}_taken") from None


def _check_dob(dob: date | None) -> date | None:
    if dob is not None and not date(1900, 1, 1) <= dob <= date.today():
        raise Invalid.field("dob", "Give a date of birth between 1900 and today.")
    return dob


def _validated(username, email, password, full_name, gender, phone=None, dob=None) -> dict:
    """Every field checked at once, so a form can show all its problems together."""
    problems: dict[str, list[str]] = {}
    values = {}
    checks = (("username", lambda: _check_username(username or "")),
              ("email", lambda: normalize_email(email or "")),
              ("full_name", lambda: _check_full_name(full_name)), ("gender", lambda: _check_gender(gender)),
              ("phone", lambda: _check_phone(phone)), ("dob", lambda: _check_dob(dob)),
              ("password", lambda: passwords.check_new(password or "")))
    for name, check in checks:
        try:
            values[name] = check()
        except Invalid as error:
            problems.update(error.fields)
    if problems:
        raise Invalid(_with_taken(problems, values.get("username"), values.get("email")))
    return values


def registration_problems(*, username: str, email: str, password: str, full_name: str, phone: str | None = None,
                          ip: str | None = None) -> dict[str, list[str]]:
    """Everything wrong with a sign-up, checked without creating anything, for a form whose own checks (the
    repeated password) already failed; empty when register() would go ahead. Counts toward
    REGISTRATION_LIMIT when ip is given, as a registration would."""
    if ip is not None:
        throttle.take_registration(ip)
    try:
        values = _validated(username, email, password, full_name, None, phone)
    except Invalid as error:
        return error.fields
    return _with_taken({}, values["username"], values["email"])


def details_problems(user: User, *, username: str, email: str, full_name: str, phone: str | None) -> dict:
    """Everything wrong with new contact details, checked without saving, for a form whose own check (an
    empty field) already failed: formats and a username or email another account uses, all at once."""
    problems: dict[str, list[str]] = {}
    values = {}
    for name, check, value in (("username", _check_username, username), ("email", normalize_email, email),
                               ("full_name", _check_full_name, full_name), ("phone", _check_phone, phone)):
        try:
            values[name] = check(value or "")
        except Invalid as error:
            problems.update(error.fields)
    return _with_taken(problems, values.get("username"), values.get("email"), except_id=user.id)


def taken(username: str | None, email: str | None, except_id: int | None = None) -> dict[str, list[str]]:
    """Which of a username and an email other accounts already use, both at once (a Conflict names one)."""
    try:
        email = normalize_email(email) if email else None
    except Invalid:
        email = None
    return _with_taken({}, (username or "").strip() or None, email, except_id)


def _insert(values: dict, password: str, role: str, approved: bool, dob: date | None,
            phone: str | None) -> User:
    _ensure_unique(values["username"], values["email"])
    with _unique_writes():
        user = User(username=values["username"], email=values["email"], full_name=values["full_name"],
                    password_hash=passwords.hash_password(password), role=role, approved=approved,
                    gender=values["gender"], dob=dob, phone=phone)
        db.session.add(user)
        db.session.flush()
        if role == Role.PATIENT.value:
            db.session.add(Patient(user_id=user.id, created_by_id=user.id, full_name=user.full_name,
                                   gender=user.gender, dob=dob, phone=phone, email=user.email))
        elif role == Role.DOCTOR.value and approved:
            link_doctor_profile(user)
    return user


def register(*, username: str, email: str, password: str, full_name: str, role: str = Role.PATIENT.value,
             gender: str | None = None, dob: date | None = None, phone: str | None = None,
             ip: str | None = None) -> User:
    """A patient can sign in at once and gets a linked patient profile; a doctor waits for an admin."""
    if ip is not None:
        throttle.take_registration(ip)
    if role not in SELF_SERVICE_ROLES:
        raise Invalid.field("role", "Choose patient or doctor.")
    values = _validated(username, email, password, full_name, gender, phone, dob)
    return _insert(values, password, role, approved=role == Role.PATIENT.value, dob=values["dob"],
                   phone=values["phone"])


def create_user(*, role: str, username: str, email: str, password: str, full_name: str = "") -> User:
    """An account made by an operator: any role, approved and active at once (doctors get a profile)."""
    if role not in {r.value for r in Role}:
        raise Invalid.field("role", "Choose admin, doctor or patient.")
    values = _validated(username, email, password, full_name or username, None)
    return _insert(values, password, role, approved=True, dob=None, phone=None)


def find_by_login(login: str) -> User | None:
    login = (login or "").strip().lower()
    column = User.email if "@" in login else User.username
    return db.session.scalar(select(User).where(func.lower(column) == login))


def authenticate(login: str, password: str, ip: str) -> User:
    """The user whose credentials these are; the same failure for an unknown user and a wrong password.

    Inactive and pending accounts are told so only after the right password was given.
    """
    user = find_by_login(login)
    # Failures count against the account, whether it was named by username or by email.
    account = f"user:{user.id}" if user else f"login:{(login or '').strip().lower()}"
    throttle.ensure_login_allowed(account, ip)
    if not passwords.verify(user.password_hash if user else None, password or ""):
        throttle.record_login_failure(account, ip)
        raise Unauthenticated("Authentication failed.")
    if not user.is_active_flag:
        raise Forbidden("This account is deactivated.", code="account_inactive")
    if not user.approved:
        raise Forbidden("This account is waiting for an administrator's approval.", code="account_pending")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        db.session.commit()
    return user


def _check_current_password(user: User, changes: dict, problems: dict[str, list[str]]) -> None:
    current = changes.get("current_password")
    if not current:
        problems["current_password"] = ["Give your current password to change it."]
    elif not passwords.verify(user.password_hash, current):
        problems["current_password"] = ["The current password is not right."]


def _tell_old_address(user: User, old_email: str) -> None:
    """Whoever took over a session cannot quietly move the account (and its reset mails) elsewhere."""
    clinic = current_app.config["CLINIC_NAME"]
    body = (f"Hello {user.full_name or user.username},\n\n"
            f"the email address of your {clinic} account was changed from {old_email} to {user.email}.\n"
            "If you did not do this, contact the clinic at once.\n")
    mail.send_later(old_email, f"{clinic}: your email address was changed", body)


def update_profile(user: User, *, changes: dict, keep_session: str | None = None,
                   keep_family: str | None = None) -> User:
    """Change one's own username, email, full_name, phone and, with the current password, the password.

    A new email needs the current password too, and the old address is told. A new password ends every
    other session and token family of the account.
    """
    allowed = {"username", "email", "full_name", "phone", "password", "current_password", "gender", "dob"}
    unknown = set(changes) - allowed
    if unknown:
        raise Invalid({name: ["This field cannot be changed here."] for name in sorted(unknown)})
    problems: dict[str, list[str]] = {}
    updates = {}
    for name, check in (("username", _check_username), ("email", normalize_email),
                        ("full_name", _check_full_name), ("gender", _check_gender), ("phone", _check_phone)):
        if name in changes:
            try:
                updates[name] = check(changes[name] or "")
            except Invalid as error:
                problems.update(error.fields)
    if "dob" in changes:
        try:
            updates["dob"] = _check_dob(changes["dob"])
        except Invalid as error:
            problems.update(error.fields)
    new_password = changes.get("password")
    old_email = user.email
    new_email = "email" in updates and updates["email"].lower() != old_email.lower()
    if new_password is not None or new_email:
        _check_current_password(user, changes, problems)
    if new_password is not None and passwords.problems(new_password):
        problems["password"] = passwords.problems(new_password)
    if problems:
        raise Invalid(_with_taken(problems, updates.get("username"), updates.get("email"), except_id=user.id))
    _ensure_unique(updates.get("username"), updates.get("email"), except_id=user.id)
    with _unique_writes():
        for name, value in updates.items():
            setattr(user, name, value)
        if user.patient is not None:
            for name in ("full_name", "phone", "email", "gender", "dob"):
                if name in updates:
                    setattr(user.patient, name, updates[name])
        if new_password is not None:
            user.password_hash = passwords.hash_password(new_password)
            sessions.end_all_for_user(user.id, keep_raw=keep_session)
            tokens.revoke_all_for_user(user.id, keep_family_id=keep_family)
        if new_email:
            _tell_old_address(user, old_email)  # in the same commit: no change without its warning
    return user


def set_password(user: User, password: str) -> None:
    """A new password from a reset: every session and token family of the account ends."""
    passwords.check_new(password)
    user.password_hash = passwords.hash_password(password)
    sessions.end_all_for_user(user.id)
    tokens.revoke_all_for_user(user.id)


def link_doctor_profile(user: User) -> Doctor:
    """Link the doctor profile with the account's email, or create one, when a doctor is approved."""
    if user.doctor is not None:
        return user.doctor
    doctor = db.session.scalar(select(Doctor).where(Doctor.user_id.is_(None), Doctor.archived_at.is_(None),
                                                    func.lower(Doctor.email) == user.email.lower()))
    if doctor is None:
        doctor = Doctor(full_name=user.full_name or user.username, speciality="General practice",
                        email=user.email, phone=user.phone, gender=user.gender, dob=user.dob)
        db.session.add(doctor)
    doctor.user_id = user.id
    db.session.flush()
    return doctor
