"""The directory version: one number that changes whenever anything the public directory shows may have changed.

Anonymous directory answers are kept for a few seconds per process (directory/answer_cache.py) and used
only while the version they were built under is still current. So every change must move it, and move
it only once the change is visible to others: after the commit of a transaction that wrote a table the
directory shows (caught at the session: services/change_versions.py), and in the same Lua script as a hold
placed or released (hold_store.py). It is a denylist: every table counts except those that never show in
the directory (NOT_SHOWN). Small facts every such answer needs are kept under it the same way (kept()).
"""
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TypeVar

from flask import g

from portal.extensions import per_app
from portal.services import change_versions

T = TypeVar("T")

KEY = "directory:version"
NOT_SHOWN = frozenset({
    "audit_events", "jobs", "user_sessions", "token_families", "refresh_tokens", "password_reset_tokens",
    "patients", "medical_records", "medical_record_versions", "patient_images", "emergency_accesses",
    "assignments", "waitlist_entries",
})

DIRECTORY = change_versions.watch(KEY, lambda writes: any(table not in NOT_SHOWN for table, _ in writes))


def version() -> change_versions.Version:
    """One per app: Redis when configured, otherwise in-process."""
    return DIRECTORY.version()


def build_under(current: str) -> None:
    """This request builds an anonymous answer under the version `current`, which answer_cache.begin just read:
    facts kept under it may be used (kept)."""
    g.directory_version = current


def kept(name: str, build: Callable[[], T]) -> T:
    """`build()`'s value, kept in the process while the directory version it was built under is current: for a
    small fact every anonymous answer needs (the booking-rule overrides), read again only after a write has
    moved the version. The version was read before build() reads the database, so what is kept is never older
    than its version says. Built every time in any other request: no version was read there to vouch for it
    (g, unlike a context variable, cannot carry one over from an earlier request of the same thread)."""
    current = g.get("directory_version")
    if current is None:
        return build()
    held = per_app(f"directory_kept:{name}", lambda: [None])
    found = held[0]  # (version, value), replaced whole: threads read one pair or the other
    if found is not None and found[0] == current:
        return found[1]
    value = build()
    held[0] = (current, value)
    return value


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
