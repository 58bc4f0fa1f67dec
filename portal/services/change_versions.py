"""Change versions: numbers that move after every commit that wrote certain tables, shared by every process.

What a process keeps between requests (directory answers, the callers behind access tokens) is used only
while the version it was kept under is current. So every change must move the version, and move it only once
the change is visible to others: after the commit of a transaction that wrote a watched table.

Writes are caught at the SQLAlchemy session, not in the services, so no future write path can forget them:
a flush's rows (`after_flush`) and a statement's DML (`do_orm_execute`, for bulk and Core updates) mark the
session, and the outermost transaction's commit bumps each version marked (with the commit's other
messages to Redis, in one round trip: services/commit_messages.py). Each write is seen as
its table and its kind (insert, update or delete; an INSERT with an ON CONFLICT clause counts as an update),
so a version may ignore kinds that cannot make what it guards stale (a new login's token family). A DML
statement in plain text counts for every version, whatever its table and kind. A SELECT whose data-modifying
CTEs write a watched table says so where it is built (`declaring`), since its kind is SELECT.

A version lives in Redis, shared by every process (one GET per use), or in the process when there is no
Redis (the laptop, one process). A missing Redis key (a fresh or flushed Redis) is set to a random number by
its first reader, never counted up from nothing, so what was kept under a version from before the flush
never matches again. A Redis that cannot be reached reads as "no version": nothing is reused.
"""
import secrets
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import Select, TextClause, event, inspect
from sqlalchemy.orm import ORMExecuteState, Session

from portal.extensions import per_app, stores
from portal.services import commit_messages
from portal.services.commit_messages import Message

_DML_WORDS = ("INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "WITH")
Write = tuple[str, str]  # (table, "insert" | "update" | "delete")
_MARKED = "change_versions"  # Session.info: the keys of the versions this transaction moves at its commit
_DECLARED = "change_versions_writes"  # a statement's execution option: the writes its data-modifying CTEs make


class Version(ABC):
    @abstractmethod
    def current(self) -> str | None:
        """The version now; None when it cannot be known (then nothing may be reused)."""

    @abstractmethod
    def bump(self) -> None:
        """Make everything kept so far stale."""

    def bump_message(self) -> Message:
        """The bump as a message of a commit (services/commit_messages.py); in the process, done as it is written."""
        return Message(lambda _batch: self.bump(), lambda _error: None)

    def current_with(self, key: str) -> tuple[str | None, bytes | None]:
        """The version now and the value of another key kept beside it (keep_beside: a shared copy of something
        kept under a version), in one round trip; without Redis there is nothing beside it."""
        return self.current(), None

    def keep_beside(self, key: str, value: bytes, seconds: int) -> None:
        """Keep `value` under `key` for `seconds`, for every process's current_with; without Redis, nowhere (the
        one process keeps its own copy)."""
        return None


# INCR only a version that exists: a missing one is set at random by its next reader (never to 1, which
# something kept from before a flush may carry).
BUMP_SCRIPT = "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('INCR', KEYS[1]) end"


class RedisVersion(Version):
    def __init__(self, client: Redis, key: str):
        self.client = client
        self.key = key
        self._bump = client.register_script(BUMP_SCRIPT)

    def current(self):
        try:
            raw = self.client.get(self.key)
            if raw is None:  # a fresh or flushed Redis: start anywhere but where something kept may be
                self.client.set(self.key, secrets.randbits(48), nx=True)
                raw = self.client.get(self.key)
        except RedisError:
            return None
        return raw.decode() if raw is not None else None

    def current_with(self, key):
        try:
            raw, value = self.client.mget(self.key, key)
        except RedisError:
            return None, None
        if raw is None:  # a fresh or flushed Redis: nothing beside it can have been kept under it
            return self.current(), None
        return raw.decode(), value

    def keep_beside(self, key, value, seconds):
        try:
            self.client.set(key, value, ex=seconds)
        except RedisError:  # the other processes read it again themselves, as without Redis
            current_app.logger.warning("could not keep %s beside the version %s", key, self.key)

    def bump(self):
        try:
            self._bump(keys=[self.key])
        except RedisError:
            self._not_bumped()

    def bump_message(self):
        return Message(lambda batch: batch.script(self._bump, [self.key], []), lambda _error: self._not_bumped())

    def _not_bumped(self) -> None:
        # Redis is away: current() reads None everywhere, so nothing stale is reused
        current_app.logger.warning("could not bump the version %s", self.key)


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


@dataclass(frozen=True)
class Watched:
    """One version: its Redis key, and whether some writes move it."""

    key: str
    moved_by: Callable[[frozenset[Write]], bool]

    def version(self) -> Version:
        """One per app: Redis when configured, otherwise in-process."""
        return per_app(self.key, lambda: RedisVersion(stores.redis, self.key) if stores.redis is not None
                       else MemoryVersion())


_WATCHED: dict[str, Watched] = {}


def watch(key: str, moved_by: Callable[[frozenset[Write]], bool]) -> Watched:
    """Declare a version (at import time); track_writes moves it after every commit with writes that move it."""
    _WATCHED[key] = Watched(key, moved_by)
    return _WATCHED[key]


def _mark(session: Session, writes: frozenset[Write] | None) -> None:
    """Mark the versions these writes move (None: unknown writes, which move every version)."""
    marked = session.info.setdefault(_MARKED, set())
    marked.update(key for key, watched in _WATCHED.items()
                  if key not in marked and (writes is None or watched.moved_by(writes)))


def declaring(statement: Select, *writes: Write) -> Select:
    """`statement`, marked as making `writes` in its data-modifying CTEs: each execution moves their versions."""
    return statement.execution_options(**{_DECLARED: frozenset(writes)})


def _on_execute(state: ORMExecuteState) -> None:
    statement = state.statement
    declared = state.execution_options.get(_DECLARED)
    if declared:
        _mark(state.session, declared)
    if isinstance(statement, TextClause):
        if str(statement).lstrip().upper().startswith(_DML_WORDS):
            _mark(state.session, None)
    elif state.is_insert or state.is_update or state.is_delete:
        table = getattr(statement, "table", None)
        if table is None or not hasattr(table, "name"):
            _mark(state.session, None)
            return
        upsert = state.is_insert and getattr(statement, "_post_values_clause", None) is not None
        kind = "insert" if state.is_insert and not upsert else "delete" if state.is_delete else "update"
        _mark(state.session, frozenset({(table.name, kind)}))


def _writes(rows: Iterable, kind: str) -> set[Write]:
    mappers = {inspect(row).mapper for row in rows}  # a flush of many rows (a list's audit rows) has few mappers
    return {(table.name, kind) for mapper in mappers for table in mapper.tables}


def _after_flush(session: Session, _context) -> None:
    if len(session.info.get(_MARKED, ())) < len(_WATCHED):
        _mark(session, frozenset(_writes(session.new, "insert") | _writes(session.dirty, "update")
                                 | _writes(session.deleted, "delete")))


@commit_messages.on_commit
def _bumps(session: Session) -> list[Message]:
    """The bump of each version the committing transaction moved."""
    return [_WATCHED[key].version().bump_message() for key in session.info.pop(_MARKED, ())]


def _after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_MARKED, None)


def track_writes(session_class: type[Session]) -> None:
    """Bump each watched version after every commit that wrote its tables, for every session of that class."""
    if not event.contains(session_class, "after_flush", _after_flush):
        event.listen(session_class, "do_orm_execute", _on_execute)
        event.listen(session_class, "after_flush", _after_flush)
        event.listen(session_class, "after_rollback", _after_rollback)
