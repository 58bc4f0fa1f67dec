"""The callers behind access tokens, kept per process while nothing about accounts has changed.

Every API request with a Bearer token must know its caller as the database says now: the user (role,
active, approved), whether the token's family was revoked, and the user's own patient profile
(tokens._BEARER reads them in one statement). That statement was a quarter of a patient's dashboard. So a
process keeps what it read, per token family and user, and uses it again only

- while the **accounts version** is the one it was read under: any commit that changed or deleted rows of
  `users` or `token_families`, or wrote `patients`, moves it (change_versions catches every write at the
  session), so a logout, a revoked family, a deactivation, a role change or an archived patient profile
  is seen by every process's very next request, exactly as before. A login (a new token family) or a
  registration's new user does not: nobody's kept caller can be stale by it;
- for at most KEEP_SECONDS, which bounds what a bump lost to a Redis fault could leave behind;
- never without a version: with Redis down every request reads the database again.

The version is read before the database, so a change that commits between the two leaves the new state
kept under the old version, which the bump then makes stale: nothing older than the version is ever kept.
A hit costs one Redis GET instead of the statement; the user is attached to the request's session without
SQL (Session.merge with load=False), so services see the same ORM object as before.
"""
import threading
import time
from typing import NamedTuple

from sqlalchemy import inspect
from sqlalchemy.orm import make_transient_to_detached

from portal.extensions import db, per_app
from portal.models import User
from portal.services import change_versions


def _moves_callers(writes: frozenset[change_versions.Write]) -> bool:
    """Any write to patients (a profile linked, archived or restored changes a caller's own patient id), and
    changes to users and token families; a new user or token family (a login) cannot make a kept caller stale."""
    return any(table == "patients" or (table in ("users", "token_families") and kind != "insert")
               for table, kind in writes)


ACCOUNTS = change_versions.watch("accounts:version", _moves_callers)
KEEP_SECONDS = 30
KEPT_CALLERS = 4096  # per process; one per live login that called it, cleared whole when full


class _Kept(NamedTuple):
    version: str
    until: float  # time.time() after which the database is asked again
    user: User  # detached, never attached to a session itself: merged into each request's


_lock = threading.Lock()
# No password hash stays in a process's memory: the few requests that check a password load it on use.
_KEPT_COLUMNS = tuple(column.key for column in inspect(User).column_attrs if column.key != "password_hash")


def _kept() -> dict[tuple[str, int], _Kept]:
    return per_app("kept_callers", dict)


def version() -> str | None:
    """The accounts version now (None: nothing may be reused), read before the database is."""
    return ACCOUNTS.version().current()


def reuse(family_id: str, user_id: int, current: str | None) -> User | None:
    """The caller kept for this token family and user under `current`, in the request's session; else None."""
    kept = _kept().get((family_id, user_id)) if current is not None else None
    if kept is None or kept.version != current or kept.until <= time.time():
        return None
    return db.session.merge(kept.user, load=False)


def keep(family_id: str, user_id: int, current: str | None, user: User) -> None:
    """Remember a caller just read from the database under the version read before it."""
    if current is None:
        return
    loaded = inspect(user).dict  # the columns the bearer statement read, own_patient_id among them
    copy = User(**{key: loaded[key] for key in _KEPT_COLUMNS if key in loaded})
    make_transient_to_detached(copy)
    kept = _kept()
    with _lock:
        if len(kept) >= KEPT_CALLERS:
            kept.clear()
        kept[(family_id, user_id)] = _Kept(current, time.time() + KEEP_SECONDS, copy)
