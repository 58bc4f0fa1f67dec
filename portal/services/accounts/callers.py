"""The callers behind access tokens, kept while nothing about accounts has changed, and shared by every process.

Every API request with a Bearer token must know its caller as the database says now: the user (role,
active, approved), whether the token's family was revoked, and the user's own patient profile
(tokens._BEARER reads them in one statement). That statement was a quarter of a patient's dashboard. So what
was read is kept, per token family and user, and used again only

- while the **accounts version** is the one it was read under: any commit that changed or deleted rows of
  `users` or `token_families`, or wrote `patients`, moves it (change_versions catches every write at the
  session), so a logout, a revoked family, a deactivation, a role change or an archived patient profile
  is seen by every process's very next request, exactly as before. A login (a new token family) or a
  registration's new user does not: nobody's kept caller can be stale by it;
- for at most KEEP_SECONDS after it was read, which bounds what a bump lost to a Redis fault could leave behind;
- never without a version: with Redis down every request reads the database again.

The version is read before the database, so a change that commits between the two leaves the new state
kept under the old version, which the bump then makes stale: nothing older than the version is ever kept.

A caller is kept in the process that read it and in Redis beside the version, so that every other process
reuses it too: a patient's requests land on any worker of any server, and with only their own copies each
worker read every caller again (a quarter of the bench's first requests did). The version and the shared
copy come in one round trip (MGET), so a hit costs one Redis call and no SQL; the user is attached to the
request's session without SQL (Session.merge with load=False), so services see the same ORM object as before.
The shared copy is signed with a key derived from SECRET_KEY and names its token family, user and version:
whoever can write to Redis can make a caller be read again, never make one up or lend one to another token.
"""
import hashlib
import hmac
import json
import threading
import time
from datetime import date, datetime
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Date, DateTime, inspect
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

    def valid(self, version: str) -> bool:
        return self.version == version and self.until > time.time()


_lock = threading.Lock()
# No password hash stays in a process's memory or in Redis: the few requests that check a password load it on use.
_KEPT_COLUMNS = tuple(column.key for column in inspect(User).column_attrs if column.key != "password_hash")


def _when_type(column) -> type | None:
    kind = column.expression.type
    kind = getattr(kind, "impl", kind)  # UTCDateTime decorates a DateTime
    return datetime if isinstance(kind, DateTime) else date if isinstance(kind, Date) else None


# The kept columns holding dates and times, written to the shared copy as ISO text: {column: date or datetime}.
_WHEN_COLUMNS = {key: when for key in _KEPT_COLUMNS if (when := _when_type(inspect(User).column_attrs[key]))}


def _kept() -> dict[tuple[str, int], _Kept]:
    return per_app("kept_callers", dict)


def lookup(family_id: str, user_id: int) -> tuple[str | None, User | None]:
    """The accounts version now, read before the database is (None: nothing may be reused or kept), and the
    caller kept under it for this token family and user, in the request's session (None: read it, then keep())."""
    version, shared = ACCOUNTS.version().current_with(_shared_key(family_id, user_id))
    if version is None:
        return None, None
    kept = _kept().get((family_id, user_id))
    if kept is None or not kept.valid(version):
        kept = _opened(shared, family_id, user_id)
        if kept is None or not kept.valid(version):
            return version, None
        _remember(family_id, user_id, kept)
    return version, db.session.merge(kept.user, load=False)


def keep(family_id: str, user_id: int, current: str | None, user: User) -> None:
    """Remember a caller just read from the database under the version read before it, here and in Redis."""
    if current is None:
        return
    loaded = inspect(user).dict  # the columns the bearer statement read, own_patient_id among them
    columns = {key: loaded[key] for key in _KEPT_COLUMNS if key in loaded}
    kept = _Kept(current, time.time() + KEEP_SECONDS, _detached(columns))
    _remember(family_id, user_id, kept)
    ACCOUNTS.version().keep_beside(_shared_key(family_id, user_id), _sealed(family_id, user_id, kept, columns),
                                   KEEP_SECONDS)


def _remember(family_id: str, user_id: int, kept: _Kept) -> None:
    callers = _kept()
    with _lock:
        if len(callers) >= KEPT_CALLERS:
            callers.clear()
        callers[(family_id, user_id)] = kept


def _detached(columns: dict) -> User:
    user = User(**columns)
    make_transient_to_detached(user)
    return user


def _shared_key(family_id: str, user_id: int) -> str:
    return f"caller:{family_id}:{user_id}"


def _signing_key() -> bytes:
    def derive() -> bytes:
        secret = current_app.config["SECRET_KEY"]
        return hashlib.sha256(b"kept callers\0" + (secret if isinstance(secret, bytes) else secret.encode())).digest()
    return per_app("kept_callers_key", derive)


def _sealed(family_id: str, user_id: int, kept: _Kept, columns: dict) -> bytes:
    """The shared copy: its signature, then what it says (which token and user, under which version, until when)."""
    text = json.dumps({"family": family_id, "user": user_id, "version": kept.version, "until": kept.until,
                       "columns": {key: value.isoformat() if isinstance(value, date) else value
                                   for key, value in columns.items()}}, separators=(",", ":")).encode()
    return hmac.digest(_signing_key(), text, "sha256") + text


def _opened(sealed: bytes | None, family_id: str, user_id: int) -> _Kept | None:
    """The shared copy of this token family's caller, if it is one this app signed for them; else None."""
    if sealed is None:
        return None
    signature, text = sealed[:32], sealed[32:]
    if not hmac.compare_digest(signature, hmac.digest(_signing_key(), text, "sha256")):
        return None
    try:
        found = json.loads(text)
        if found["family"] != family_id or found["user"] != user_id:
            return None
        columns = {key: _WHEN_COLUMNS[key].fromisoformat(value) if key in _WHEN_COLUMNS and value is not None
                   else value for key, value in found["columns"].items()}
        return _Kept(str(found["version"]), float(found["until"]), _detached(columns))
    except (ValueError, KeyError, TypeError, AttributeError):  # written by another release of the app
        return None
