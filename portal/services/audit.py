"""Audit rows for every read and write of patient data; the caller's transaction commits them."""
from portal.extensions import db
from portal.models import AuditEvent
from portal.services import policy
from portal.services.actor import Actor

ACTIONS = ("read", "create", "update", "delete")


def record(actor: Actor, action: str, object_type: str, object_id: int | None, patient_id: int | None) -> None:
    record_many(actor, action, object_type, [(object_id, patient_id)])


def record_many(actor: Actor, action: str, object_type: str, rows: list[tuple[int | None, int | None]]) -> None:
    """One row per (object_id, patient_id) seen in a list, added in one go; rows about a patient the
    actor reads under emergency access are flagged (policy decides which)."""
    if action not in ACTIONS:  # a caller's bug, not a user's input: fail loudly even under python -O
        raise ValueError(f"unknown audit action {action!r}")
    with db.session.no_autoflush:  # rows added earlier in the request stay pending: one INSERT at commit
        flagged = policy.under_emergency(actor.user, (patient_id for _, patient_id in rows))
    db.session.add_all([
        AuditEvent(actor_id=actor.user_id, action=action, object_type=object_type, object_id=object_id,
                   patient_id=patient_id, ip=actor.ip, request_id=actor.request_id,
                   emergency=patient_id in flagged)
        for object_id, patient_id in rows
    ])
