"""STAND-IN for the lead's outbox (portal/services/jobs/ on main): the same interface, kept in process memory.

The waitlist branch was written before the durable outbox reached main; this file only lets its code and
tests run. On merge, take main's portal/services/jobs/ and drop this file. What it keeps of the contract:
a job joins the current database transaction (it is kept when the session commits and dropped when it
rolls back), a `key` is unique, `run_due(now)` runs every due job in this process, a handler that raises
leaves its job to run again.
"""
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count

from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db

_handlers: dict[str, Callable[[dict], None]] = {}
_lock = threading.Lock()
_ids = count(1)


@dataclass
class Job:
    kind: str
    payload: dict
    due_at: datetime
    key: str | None
    id: int = field(default_factory=lambda: next(_ids))


_jobs: list[Job] = []
_keys: set[str] = set()


def handler(kind: str):
    def register(func: Callable[[dict], None]):
        _handlers[kind] = func
        return func
    return register


def enqueue(kind: str, payload: dict, *, due_at: datetime | None = None, key: str | None = None) -> Job | None:
    session = db.session()
    pending = session.info.setdefault("outbox_pending", [])
    with _lock:
        if key is not None and (key in _keys or any(job.key == key for job in pending)):
            return None
    job = Job(kind, dict(payload), due_at or datetime.now(UTC), key)
    pending.append(job)
    return job


@event.listens_for(Session, "after_commit")
def _kept(session):
    pending = session.info.pop("outbox_pending", [])
    with _lock:
        for job in pending:
            if job.key is None or job.key not in _keys:
                _jobs.append(job)
                if job.key is not None:
                    _keys.add(job.key)


@event.listens_for(Session, "after_soft_rollback")
def _dropped(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop("outbox_pending", None)


def pending() -> list[Job]:
    with _lock:
        return list(_jobs)


def forget_all() -> None:
    with _lock:
        _jobs.clear()
        _keys.clear()


def run_due(now: datetime | None = None) -> int:
    """Run every due job (and those they enqueue that are due too); returns how many ran."""
    ran = 0
    while True:
        moment = now or datetime.now(UTC)
        with _lock:
            due = sorted((job for job in _jobs if job.due_at <= moment), key=lambda job: (job.due_at, job.id))
            for job in due:
                _jobs.remove(job)
        if not due:
            return ran
        for job in due:
            try:
                _handlers[job.kind](job.payload)
                db.session.commit()
            except Exception:
                db.session.rollback()
                with _lock:
                    _jobs.append(job)
                raise
            ran += 1
