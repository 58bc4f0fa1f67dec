"""Signed one-click links in reminder mails: "I'll come" (confirm) and "Cancel", without signing in.

A link's token is the appointment's id and start, signed with SECRET_KEY and a salt per action
(itsdangerous), so one token serves one appointment, one action and one time: it stops working at the
start, and when the appointment moves (the start it names is no longer the appointment's). Nothing
is stored; changing SECRET_KEY ends every link. The token is the last path segment of the mailed
link, and the API takes the same token as `?token=`.

Whoever holds a valid link acts as the appointment's patient (Actor.link_patient_id): the services
then apply a patient's rules (the change cut-off among them) and see that patient's appointments
only; audit rows name the patient's account when there is one. A token for another appointment is
NotFound; a forged or damaged one Unauthenticated; one whose time has come or moved token_expired.
"""
from datetime import UTC, datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from portal.extensions import db
from portal.models import Appointment
from portal.services import audit, clinic_time
from portal.services.actor import Actor
from portal.services.errors import NotFound, Unauthenticated
from portal.services.persistence import commit_keeping_loaded
from portal.services.scheduling.appointment_reads import with_parties

SALTS = {"confirm": "appointment-confirm", "cancel": "appointment-cancel"}
PATHS = {"confirm": "/r/confirm/", "cancel": "/r/cancel/"}  # the portal's pages (web/reminder_pages.py)

NOT_VALID = "This link is not valid. Open the link from the mail as it is, or sign in to see your appointments."
PASSED = "This link has expired: the appointment's time has come."
MOVED = "This link was for an earlier time of the appointment, which has moved; use the newest mail, or sign in."


def _serializer(action: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALTS[action])


def _stamp(moment: datetime) -> int:
    return int(moment.timestamp())


def token(appointment: Appointment, action: str) -> str:
    """The signed token of one action on one appointment at its present time."""
    return _serializer(action).dumps([appointment.id, _stamp(appointment.starts_at)])


def link(appointment: Appointment, action: str) -> str:
    """The mailed link (from PUBLIC_BASE_URL, never a request's Host); its last path segment is the token."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}{PATHS[action]}{token(appointment, action)}"


def _read(raw: str, action: str) -> tuple[int, int]:
    try:
        appointment_id, stamp = _serializer(action).loads(raw or "")
    except (BadSignature, TypeError, ValueError):
        raise Unauthenticated(NOT_VALID) from None
    if not isinstance(appointment_id, int) or not isinstance(stamp, int):  # only ever signed by token()
        raise Unauthenticated(NOT_VALID)
    return appointment_id, stamp


def verify(raw: str, action: str, appointment_id: int | None = None) -> Appointment:
    """The appointment a link of `action` is for, with its parties, while the link still works.

    `appointment_id` is the id the caller named (the API's path): another appointment's token is
    NotFound there, as an appointment one may not see. Unauthenticated `unauthenticated` for a token
    that is not ours (or of another action), `token_expired` once the start it names has come or the
    appointment has moved away from it.
    """
    token_id, stamp = _read(raw, action)
    if appointment_id is not None and appointment_id != token_id:
        raise NotFound("No such appointment.")
    if clinic_time.now() >= datetime.fromtimestamp(stamp, UTC):
        raise Unauthenticated(PASSED, code="token_expired")
    appointment = db.session.scalar(with_parties(select(Appointment)).where(Appointment.id == token_id))
    if appointment is None:
        raise NotFound("No such appointment.")
    if _stamp(appointment.starts_at) != stamp:
        raise Unauthenticated(MOVED, code="token_expired")
    return appointment


def actor_for(appointment: Appointment, ip: str | None, request_id: str | None) -> Actor:
    """The Actor a valid link acts as: the appointment's patient (their account for audit rows, if any)."""
    return Actor(user=appointment.patient.user, ip=ip, request_id=request_id,
                 link_patient_id=appointment.patient_id)


def open_link(raw: str, action: str, ip: str | None, request_id: str | None) -> tuple[Actor, Appointment]:
    """A link opened to be looked at (the portal's page before its button): the appointment and the
    Actor to answer with; the read is audited as the patient's."""
    appointment = verify(raw, action)
    actor = actor_for(appointment, ip, request_id)
    audit.record(actor, "read", "appointment", appointment.id, appointment.patient_id)
    commit_keeping_loaded()
    return actor, appointment


def link_actor(raw: str, action: str, appointment_id: int, ip: str | None, request_id: str | None) -> Actor:
    """The Actor for an answer through the link (the API's `?token=`), after verify() for that appointment."""
    return actor_for(verify(raw, action, appointment_id), ip, request_id)
