"""Reading the audit trail: a patient's "who looked at my record", the admins' filtered and sorted log,
and its CSV export, streamed from a server-side cursor so memory stays flat whatever the selection.

Reads of the trail itself are not audited (the trail would grow by being read); who may read it is
policy's: admins everything, a patient their own patient's events.
"""
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import AuditEvent, Role, User
from portal.services import policy
from portal.services.actor import Actor
from portal.services.audit import ACTIONS
from portal.services.errors import Invalid, NotFound
from portal.services.persistence import Page, PagedQuery, paginate, written_by_database
from portal.services.plain_rows import ItemJson, item_column

SORTABLE = {name: getattr(AuditEvent, name) for name in (
    "id", "at", "actor_id", "action", "object_type", "object_id", "patient_id", "ip", "request_id", "emergency")}
CSV_COLUMNS = ("id", "at", "actor_id", "actor_full_name", "actor_role", "action", "object_type", "object_id",
               "patient_id", "ip", "request_id", "emergency")
CSV_BATCH = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditFilter:
    patient_id: int | None = None
    actor_id: int | None = None
    action: str | None = None
    emergency: bool | None = None
    start: datetime | None = None
    end: datetime | None = None
    sort: str = "-at"


def _ordering(sort: str) -> tuple:
    """`field` ascending or `-field` descending, ties broken by id the same way; 422 for other fields.
    An empty value counts as the largest (PostgreSQL's own order, so its indexes serve it)."""
    name = (sort or "-at").removeprefix("-")
    if name not in SORTABLE:
        raise Invalid.field("sort", f"Sort by one of: {', '.join(SORTABLE)} (prefix - for descending).")
    if sort.startswith("-"):
        return SORTABLE[name].desc().nulls_first(), AuditEvent.id.desc()
    return SORTABLE[name].asc().nulls_last(), AuditEvent.id.asc()


# Each filter of an AuditFilter as a condition on a bind parameter named as the filter.
_FILTERS = {
    "patient_id": AuditEvent.patient_id == bindparam("patient_id"),
    "actor_id": AuditEvent.actor_id == bindparam("actor_id"),
    "action": AuditEvent.action == bindparam("action"),
    "emergency": AuditEvent.emergency == bindparam("emergency"),
    "start": AuditEvent.at >= bindparam("start"),
    "end": AuditEvent.at < bindparam("end"),
}


def _given(selection: AuditFilter) -> dict:
    """The filters the selection sets, with their values; 422 for an unknown action."""
    if selection.action is not None and selection.action not in ACTIONS:
        raise Invalid.field("action", f"Choose one of: {', '.join(ACTIONS)}.")
    return {name: value for name in _FILTERS if (value := getattr(selection, name)) is not None}


def _filtered(query: Select, given: Iterable[str], sort: str) -> Select:
    return query.where(*(_FILTERS[name] for name in given)).order_by(*_ordering(sort))


def _narrowed(query: Select, selection: AuditFilter) -> Select:
    given = _given(selection)
    return _filtered(query, given, selection.sort).params(given)


def admin_events(actor: Actor, selection: AuditFilter) -> Select:
    """The admins' audit log: events with their actor loaded, filtered and sorted (admins only, 403 otherwise)."""
    policy.require_role(actor.user, Role.ADMIN)
    return _narrowed(select(AuditEvent).options(joinedload(AuditEvent.actor)), selection)


# An event's attributes as the log shows them (its actor's as `actor.full_name`; `actor` NULL for none).
_EVENT_COLUMNS = {**SORTABLE, "actor": User.id, "actor.id": User.id, "actor.full_name": User.full_name,
                  "actor.role": User.role}


def admin_event_page(actor: Actor, selection: AuditFilter, *, page: int, per_page: int,
                     item_json: ItemJson | None = None) -> Page:
    """One page of admin_events; with `item_json`, on PostgreSQL, each event as the JSON text it writes
    (Page.json_items), its actor joined in the same statement."""
    item_json = written_by_database(item_json)
    if item_json is None:
        return paginate(admin_events(actor, selection), page, per_page)
    policy.require_role(actor.user, Role.ADMIN)
    given = _given(selection)
    return _written_events(item_json, tuple(given), selection.sort).page(page, per_page, given)


@lru_cache(maxsize=256)
def _written_events(item_json: ItemJson, given: tuple[str, ...], sort: str) -> PagedQuery:
    """The log's page statement with each event's JSON, built once per set of filters and sort (the values are
    bound at execution): a statement this size built per request cost more than the dump it saves."""
    query = (select(item_column(item_json, _EVENT_COLUMNS)).select_from(AuditEvent)
             .outerjoin(User, User.id == AuditEvent.actor_id))
    return PagedQuery(_filtered(query, given, sort))


def patient_access_log(actor: Actor, patient_id: int) -> Select:
    """Who read or changed this patient's data, newest first: for the patient themself and admins.

    Doctors are 403 (their role never reads trails); a patient asking about someone else gets 404.
    """
    user = policy.require_role(actor.user, Role.PATIENT, Role.ADMIN)
    patient = policy.get_visible_patient(user, patient_id)
    if not policy.may_read_patient_trail(user, patient):
        raise NotFound("No such patient.")
    return _narrowed(select(AuditEvent).options(joinedload(AuditEvent.actor)),
                     AuditFilter(patient_id=patient.id, sort="-at"))


def _cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (names and request ids come from users)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_export(actor: Actor, selection: AuditFilter) -> Iterator[str]:
    """The admins' selection as CSV text chunks (a header row, then CSV_BATCH rows a chunk).

    Checks run now, so a refusal is an ordinary error; the rows come later from a server-side cursor,
    as plain tuples (no ORM objects kept), so memory does not grow with the selection.
    """
    policy.require_role(actor.user, Role.ADMIN)
    columns = select(AuditEvent.id, AuditEvent.at, AuditEvent.actor_id, User.full_name, User.role,
                     AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id, AuditEvent.patient_id,
                     AuditEvent.ip, AuditEvent.request_id, AuditEvent.emergency
                     ).outerjoin(User, User.id == AuditEvent.actor_id)
    query = _narrowed(columns, selection).execution_options(yield_per=CSV_BATCH)
    return _chunks(query)


def _chunks(query: Select) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    result = db.session.execute(query)
    try:
        for batch in result.partitions():
            buffer.seek(0)
            buffer.truncate()
            writer.writerows([_cell(value) for value in row] for row in batch)
            yield buffer.getvalue()
    finally:
        result.close()
        db.session.rollback()  # end the read transaction that held the cursor
