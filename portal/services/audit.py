"""Audit rows for every read and write of patient data; the caller's transaction commits them."""
from collections.abc import Callable

from sqlalchemy import CTE, ColumnElement, Integer, Select, String, bindparam, column, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY

from portal.extensions import db
from portal.models import AuditEvent, utcnow
from portal.services import policy, read_transactions
from portal.services.actor import Actor
from portal.services.persistence import Page, PagedMatches, PagedQuery, commit_keeping_loaded, cut, on_postgresql

ACTIONS = ("read", "create", "update", "delete")
# One Core statement for any number of rows, built once: a list's rows go to the database without an ORM
# object, unit-of-work flush or RETURNING of ids apiece (that flush was a fifth of a list's CPU), and the
# emergency flag is decided by the database per row (policy.under_emergency), not by a query before it. On the
# table, not the entity: an ORM bulk insert would split the rows by which values are None. `at` is the
# insert's `now`, the instant its emergency flags are decided at (the row form takes the column's default, the
# same utcnow()); bound, not computed by SQLAlchemy at execution, it lets a page's audited statement run from
# its compiled SQL (services/compiled_once.py). A Core insert leaves the caller's pending changes pending: they
# reach the database at the caller's commit, where its constraint conflicts are caught.
#
# On PostgreSQL the rows are three arrays unnested by the INSERT's own SELECT, in their order: one execution
# whatever the page size (20 rows as an executemany were 20 pipelined executions, and SQLAlchemy's
# processing of each: a tenth of a record page's CPU). Elsewhere (SQLite) one executemany of the row form.
_TABLE = AuditEvent.__table__
INSERT = insert(_TABLE).values(emergency=policy.UNDER_EMERGENCY)
_LISTED = func.unnest(bindparam("object_types", type_=ARRAY(String)), bindparam("object_ids", type_=ARRAY(Integer)),
                      bindparam("patient_ids", type_=ARRAY(Integer))).table_valued(
    column("object_type", String), column("object_id", Integer), column("patient_id", Integer),
    with_ordinality="position").render_derived()
_COLUMNS = ["actor_id", "action", "ip", "request_id", "object_type", "object_id", "patient_id", "emergency", "at"]
# The first four of _COLUMNS, the same for every row of an insert (_values gives them), and the last.
_WHO = (bindparam("actor_id", type_=Integer), bindparam("action", type_=String), bindparam("ip", type_=String),
        bindparam("request_id", type_=String))
_AT = bindparam("now", type_=_TABLE.c.at.type)
INSERT_LISTED = insert(_TABLE).from_select(_COLUMNS, select(
    *_WHO, _LISTED.c.object_type, _LISTED.c.object_id, _LISTED.c.patient_id,
    policy.under_emergency(bindparam("reader"), _LISTED.c.patient_id, _AT), _AT).order_by(_LISTED.c.position))


def _values(actor: Actor, action: str) -> dict:
    """The bind parameters of an audit insert that are the same for every row: who, how, from where, when."""
    if action not in ACTIONS:  # a caller's bug, not a user's input: fail loudly even under python -O
        raise ValueError(f"unknown audit action {action!r}")
    return {"actor_id": actor.user_id, "action": action, "ip": actor.ip, "request_id": actor.request_id,
            "reader": policy.emergency_reader(actor.user), "now": utcnow()}


class ReadPages(PagedQuery):
    """A PagedQuery whose pages can be audited as read by their own statement (read_page), on PostgreSQL.

    The page's ids are a CTE, cut to the page, which a data-modifying CTE inserts as audit rows and the outer
    query reads whole, with the list's total: one round trip and one statement's work in the app, where a page
    and then record_many were two (the insert was a tenth of a patient's dashboard). A CTE is read in the
    order it was written, so the rows keep the page's order, as record_many's do. The rows written are
    audit_events only, which no change version watches (services/change_versions.py), so the session need
    not see the write. Build it once: the statement is larger than the page's alone.

    `rows(ids)`, where given, is the row statement for the page's ids (a subquery), in the query's order: the
    page's rows are then read by id alone, where the query itself would apply its filters (the reader's
    visibility among them) a second time to rows the CTE has already chosen in the same snapshot.
    """

    def __init__(self, query: Select, ident: ColumnElement, patient: ColumnElement,
                 rows: Callable[[Select], Select] | None = None):
        super().__init__(query)
        self.patient = patient.key  # the rows' attribute naming their patient
        page = cut(query.with_only_columns(ident.label("id"), patient.label("patient_id"))).cte("page")
        ids = select(page.c.id)
        read = query.where(ident.in_(ids)) if rows is None else rows(ids)
        self.audited_statement = read.add_columns(self.counted.scalar_subquery()).add_cte(rows_of(page))


class ReadMatches(PagedMatches):
    """ReadPages for a PagedMatches: the page cut from the matches (whose column `patient` names each match's
    patient) is the CTE the audit rows are written from."""

    def __init__(self, matches: Select, order: Callable, rows: Callable[[Select], Select], patient: str):
        super().__init__(matches, order, rows)
        self.patient = patient  # the matches' column and the rows' attribute naming their patient
        found = self.found
        page = cut(select(found.c.id, found.c[patient].label("patient_id")).order_by(*order(found.c))).cte("page")
        self.audited_statement = rows(select(page.c.id)).add_columns(self.counted.scalar_subquery()).add_cte(
            rows_of(page))


def rows_of(rows: CTE) -> CTE:
    """An audit row for each row of `rows` (columns id and patient_id), in its order, as a data-modifying CTE: a
    page read, or a row just written by a CTE of the same statement. Its parameters are cte_values'."""
    return insert(_TABLE).from_select(_COLUMNS, select(
        *_WHO, bindparam("object_type", type_=String), rows.c.id, rows.c.patient_id,
        policy.under_emergency(bindparam("reader"), rows.c.patient_id, _AT), _AT)).cte("audited")


def cte_values(actor: Actor, action: str, object_type: str) -> dict:
    """The bind parameters of rows_of's audit rows: who, how, from where, when, about what kind of object."""
    return {**_values(actor, action), "object_type": object_type}


def read_page(actor: Actor, pages: PagedQuery, object_type: str, page: int, per_page: int,
              params: dict | None = None) -> Page:
    """One page of `pages` (rows with an id, and their patient's id as `patient_id` or as ReadPages/ReadMatches
    name it), each row audited as read by `actor`, and committed (the read's only write) without expiring the
    rows read: by the page's own statement for ReadPages and ReadMatches on PostgreSQL; elsewhere (SQLite has no
    data-modifying CTE) the page is read, then record_many writes the rows."""
    params = params or {}
    audits_itself = isinstance(pages, ReadPages | ReadMatches)
    if audits_itself and on_postgresql():
        with read_transactions.autocommitted():  # the page and its audit rows are one statement
            return pages.page(page, per_page, {**params, **cte_values(actor, "read", object_type)},
                              statement=pages.audited_statement)
    result = pages.page(page, per_page, params)
    patient = pages.patient if audits_itself else "patient_id"
    record_many(actor, "read", object_type, [(row.id, getattr(row, patient)) for row in result.items])
    commit_keeping_loaded()
    return result


def record(actor: Actor, action: str, object_type: str, object_id: int | None, patient_id: int | None) -> None:
    record_many(actor, action, object_type, [(object_id, patient_id)])


def record_many(actor: Actor, action: str, object_type: str, rows: list[tuple[int | None, int | None]]) -> None:
    """One row per (object_id, patient_id) seen in a list, in that order, in one statement."""
    record_each(actor, action, [(object_type, object_id, patient_id) for object_id, patient_id in rows])


def record_each(actor: Actor, action: str, rows: list[tuple[str, int | None, int | None]]) -> None:
    """One row per (object_type, object_id, patient_id), in that order, in one statement; rows about a
    patient the actor reads under emergency access are flagged (policy decides which)."""
    values = _values(actor, action)
    if not rows:  # an INSERT without parameters would write one row of defaults
        return
    if on_postgresql():
        object_types, object_ids, patient_ids = (list(each) for each in zip(*rows, strict=True))
        db.session.execute(INSERT_LISTED, {**values, "object_types": object_types, "object_ids": object_ids,
                                           "patient_ids": patient_ids})
        return
    db.session.execute(INSERT, [{**values, "object_type": object_type, "object_id": object_id,
                                 "patient_id": patient_id, "about": patient_id}
                                for object_type, object_id, patient_id in rows])
