"""Accounts: registration, sign-in, profile changes and the admin's hand on users."""
import re
from contextlib import contextmanager
from datetime import date

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import Doctor, Patient, Role, User
from portal.services import policy, throttle
from portal.services.accounts import passwords, sessions, tokens
from portal.services.actor import Actor
from portal.services.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from portal.services.persistence import Page, paginate

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
            _link_doctor_profile(user)
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


def update_profile(user: User, *, changes: dict, keep_session: str | None = None,
                   keep_family: str | None = None) -> User:
    """Change one's own username, email, full_name, phone and, with the current password, the password.

    A new password ends every other session and token family of the account.
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
    if new_password is not None:
        current = changes.get("current_password")
        if not current:
            problems["current_password"] = ["Give your current password to change it."]
        elif not passwords.verify(user.password_hash, current):
            problems["current_password"] = ["The current password is not right."]
        problems.update({k: v for k, v in _password_problems(new_password).items()})
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
    return user


def _password_problems(password: str) -> dict[str, list[str]]:
    found = passwords.problems(password)
    return {"password": found} if found else {}


def set_password(user: User, password: str) -> None:
    """A new password from a reset: every session and token family of the account ends."""
    passwords.check_new(password)
    user.password_hash = passwords.hash_password(password)
    sessions.end_all_for_user(user.id)
    tokens.revoke_all_for_user(user.id)


def _link_doctor_profile(user: User) -> Doctor:
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


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def list_users(actor: Actor, *, role: str | None = None, pending: bool | None = None,
               page: int = 1, per_page: int = 20) -> Page[User]:
    """Accounts oldest first, for an admin (Forbidden otherwise); `pending` keeps those awaiting approval."""
    policy.require_admin(actor.user)
    return paginate(_users_query(role, pending), page, per_page)


def pending_count(actor: Actor) -> int:
    """How many accounts wait for an admin's approval (the admin dashboard's call to action)."""
    policy.require_admin(actor.user)
    return db.session.scalar(select(func.count(User.id)).where(User.approved.is_(False)))


def _users_query(role: str | None, pending: bool | None):
    query = select(User).options(selectinload(User.patient), selectinload(User.doctor)).order_by(User.id)
    if role:
        if role not in {r.value for r in Role}:
            raise Invalid.field("role", "Choose admin, doctor or patient.")
        query = query.where(User.role == role)
    if pending is True:
        query = query.where(User.approved.is_(False))
    elif pending is False:
        query = query.where(User.approved.is_(True))
    return query


def admin_update(actor: Actor, user_id: int, *, role: str | None = None, is_active: bool | None = None,
                 approved: bool | None = None) -> User:
    """Approve a pending doctor, (de)activate, or change a role; deactivation ends sessions and tokens.
    An admin's power only (Forbidden otherwise)."""
    admin = policy.require_admin(actor.user)
    user = get_user(user_id)
    if user.id == admin.id and (is_active is False or approved is False or (role and role != Role.ADMIN.value)):
        raise Conflict("You cannot lock yourself out of the admin role.", code="self_lockout")
    if role is not None:
        if role not in {r.value for r in Role}:
            raise Invalid.field("role", "Choose admin, doctor or patient.")
        user.role = role
    if approved is not None:
        user.approved = approved
    if is_active is not None:
        user.is_active_flag = is_active
    if is_active is False or approved is False:
        # Whatever stops an account signing in ends what it has open; approving again does not revive it.
        sessions.end_all_for_user(user.id)
        tokens.revoke_all_for_user(user.id)
    if user.role == Role.DOCTOR.value and user.approved:
        _link_doctor_profile(user)
    if user.role == Role.PATIENT.value and user.patient is None:
        db.session.add(Patient(user_id=user.id, created_by_id=admin.id, full_name=user.full_name or user.username,
                               email=user.email, phone=user.phone, gender=user.gender, dob=user.dob))
    db.session.commit()
    return user
