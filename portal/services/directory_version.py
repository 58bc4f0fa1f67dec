"""The directory version: one number that changes whenever anything the public directory shows may have changed.

Anonymous directory answers are kept for a few seconds per process (directory/answer_cache.py) and used
only while the version they were built under is still current. So every change must move it, and move
it only once the change is visible to others: after the commit of a transaction that wrote a table the
directory shows, and in the same Lua script as a hold placed or released (hold_store.py).

Writes are caught at the SQLAlchemy session, not in the services, so no future write path can forget
them: a flush's rows (`after_flush`) and a statement's DML (`do_orm_execute`, for bulk and Core
updates) mark the session, and `after_commit` of the outermost transaction bumps. It is a denylist:
every table counts except those that never show in the directory (NOT_SHOWN); a DML statement in
plain text counts whatever its table.

The version lives in Redis, shared by every process (one GET per cached read), or in the process when
there is no Redis (the laptop, one process). A missing Redis key (a fresh or flushed Redis) is set to a
random number by its first reader, never counted up from nothing, so answers kept under a version from
before the flush never match again. A Redis that cannot be reached reads as "no version": nothing is reused.
"""
import secrets
import threading
from abc import ABC, abstractmethod
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import TextClause, event, inspect
from sqlalchemy.orm import ORMExecuteState, Session

from portal.extensions import per_app, stores

KEY = "directory:version"
NOT_SHOWN = frozenset({
    "audit_events", "jobs", "user_sessions", "token_families", "refresh_tokens", "password_reset_tokens",
    "patients", "medical_records", "medical_record_versions", "patient_images", "emergency_accesses",
    "assignments", "waitlist_entries",
})
_DML_WORDS = ("INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "WITH")
_DIRTY = "directory_changed"  # Session.info flag: this transaction wrote a shown table


class Version(ABC):
    @abstractmethod
    def current(self) -> str | None:
        """The version now; None when it cannot be known (then nothing may be reused)."""

    @abstractmethod
    def bump(self) -> None:
        """Make every answer built so far stale."""


# INCR only a version that exists: a missing one is set at random by its next reader (never to 1, which an
# answer kept from before a flush may carry).
BUMP_SCRIPT = "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('INCR', KEYS[1]) end"


class RedisVersion(Version):
    def __init__(self, client: Redis):
        self.client = client
        self._bump = client.register_script(BUMP_SCRIPT)

    def current(self):
        try:
            raw = self.client.get(KEY)
            if raw is None:  # a fresh or flushed Redis: start anywhere but where an old answer may be
                self.client.set(KEY, secrets.randbits(48), nx=True)
                raw = self.client.get(KEY)
        except RedisError:
            return None
        return raw.decode() if raw is not None else None

    def bump(self):
        try:
            self._bump(keys=[KEY])
        except RedisError:  # Redis is away: current() reads None everywhere, so nothing stale is reused
            current_app.logger.warning("could not bump the directory version")


class MemoryVersion(Version):
    """For one process without Redis; starts at a random number, like a fresh Redis key."""

    def __init__(self):
        self._value = secrets.randbits(48)
        self._lock = threading.Lock()

    def current(self):
        return str(self._value)

    def bump(self):
        with self._lock:
            self._value += 1


def version() -> Version:
    """One per app: Redis when configured, otherwise in-process."""
    return per_app("directory_version",
                   lambda: RedisVersion(stores.redis) if stores.redis is not None else MemoryVersion())


# The earliest end of a hold that the answer being built showed: the answer is stale when that hold ends.
_hold_deadline: ContextVar[datetime | None] = ContextVar("hold_deadline", default=None)


def start_answer() -> None:
    _hold_deadline.set(None)


def note_holds_end(ends: list[datetime]) -> None:
    """Called where holds are read for an answer; a hold ending changes it without any write."""
    if ends:
        earliest = min(ends)
        noted = _hold_deadline.get()
        _hold_deadline.set(earliest if noted is None else min(noted, earliest))


def spoil_answer() -> None:
    """The answer being built is incomplete (holds could not be read): it must not be kept."""
    _hold_deadline.set(datetime.min.replace(tzinfo=UTC))


def hold_deadline() -> datetime | None:
    return _hold_deadline.get()


def _tables(statement) -> set[str] | None:
    """The table a DML statement writes; None for one in plain text (unknown: counts)."""
    table = getattr(statement, "table", None)
    return {table.name} if table is not None and hasattr(table, "name") else None


def _on_execute(state: ORMExecuteState) -> None:
    statement = state.statement
    if isinstance(statement, TextClause):
        if str(statement).lstrip().upper().startswith(_DML_WORDS):
            state.session.info[_DIRTY] = True
    elif state.is_insert or state.is_update or state.is_delete:
        tables = _tables(statement)
        if tables is None or tables - NOT_SHOWN:
            state.session.info[_DIRTY] = True


def _after_flush(session: Session, _context) -> None:
    if session.info.get(_DIRTY):  # already known: a flush of many rows (a list's audit rows) looks no further
        return
    for row in (*session.new, *session.dirty, *session.deleted):
        if {table.name for table in inspect(row).mapper.tables} - NOT_SHOWN:
            session.info[_DIRTY] = True
            return


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction() or not session.info.pop(_DIRTY, False):
        return  # a savepoint's release: the outer transaction has not committed yet
    version().bump()


def _after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_DIRTY, None)


def track_writes(session_class: type[Session]) -> None:
    """Bump the version after every commit that wrote a shown table, for every session of that class."""
    if not event.contains(session_class, "after_commit", _after_commit):
        event.listen(session_class, "do_orm_execute", _on_execute)
        event.listen(session_class, "after_flush", _after_flush)
        event.listen(session_class, "after_commit", _after_commit)
        event.listen(session_class, "after_rollback", _after_rollback)
