"""Helpers for the directory and booking API tests: a clinic to book in, fast callers, query counts.

Accounts made by factories.user() can sign in with a password, which costs a password hash; the
many patients some tests need are made directly (clinic.patient_account) and given tokens straight
from the token service, which is what a sign-in would hand them.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask

from portal.extensions import db
from portal.models import Appointment, User
from portal.services.accounts import tokens
from tests.fixtures import clinic


@dataclass(frozen=True)
class Caller:
    user_id: int
    token: str
    patient_id: int | None = None
    doctor_id: int | None = None


def token_for(app: Flask, user_id: int) -> str:
    with app.app_context():
        token = tokens.issue_pair(db.session.get(User, user_id)).access_token
        db.session.remove()
    return token


def caller(app: Flask, made) -> Caller:
    """A factories.user() account with an access token (no password check needed)."""
    return Caller(made.id, token_for(app, made.id), made.patient_id, made.doctor_id)


def patients(app: Flask, count: int) -> list[Caller]:
    """`count` patients with their own profiles and tokens, made without password hashing."""
    made = []
    with app.app_context():
        for _ in range(count):
            user = clinic.patient_account()
            pair = tokens.issue_pair(user)
            made.append(Caller(user.id, pair.access_token, patient_id=user.patient.id))
        db.session.remove()
    return made


def iso(moment: datetime) -> str:
    """How the API writes a timestamp: ISO 8601 in UTC with its offset."""
    return moment.isoformat()


def query_count(app: Flask, call: Callable[[], object]) -> int:
    """How many SQL statements `call` runs (a request through the test client, say)."""
    with app.app_context(), clinic.counted_queries() as statements:
        response = call()
    assert response.status_code == 200, response.get_json()
    return len(statements)


def keep_booking_rules(api) -> None:
    """One anonymous directory read, which keeps the booking rules' overrides under the current directory
    version (directory_version.kept), so that an anonymous read counted next costs its own statements only."""
    assert api.get("/doctors?per_page=50").status_code == 200


def steady_query_count(app: Flask, call: Callable[[], object]) -> int:
    """query_count of `call` sent a second time: its caller is then kept (services/accounts/callers.py), so
    what is counted is the request's own work, whatever the caller's last request was."""
    call()
    return query_count(app, call)


def active_appointments(app: Flask, slot_id: int) -> list[Appointment]:
    with app.app_context():
        rows = list(db.session.scalars(db.select(Appointment).where(Appointment.slot_id == slot_id,
                                                                    Appointment.status != "cancelled")))
        db.session.remove()
    return rows
