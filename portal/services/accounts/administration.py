"""The admin's hand on accounts: list and count them, approve doctors, (de)activate, change roles.

Every function here is an admin's power, checked by policy in the service itself, not only by the
pages and endpoints that call it.
"""
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import Patient, Role, User
from portal.services import policy
from portal.services.accounts import sessions, tokens, user_accounts
from portal.services.actor import Actor
from portal.services.errors import Conflict, Invalid, NotFound
from portal.services.persistence import Page, paginate


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
        user_accounts.link_doctor_profile(user)
    if user.role == Role.PATIENT.value and user.patient is None:
        db.session.add(Patient(user_id=user.id, created_by_id=admin.id, full_name=user.full_name or user.username,
                               email=user.email, phone=user.phone, gender=user.gender, dob=user.dob))
    db.session.commit()
    return user
