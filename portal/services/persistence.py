"""The booking services' dealings with the database beyond plain ORM: pages and guarded commits.

A page is always bounded (at most 100 rows) so a list costs the same whatever the table holds.
A commit that trips a constraint is how the database says "someone else got there first"; it must
reach the caller as the same Conflict the service's own check would have raised, never as a 500.
"""
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    Exists,
    Integer,
    Result,
    Select,
    String,
    Subquery,
    bindparam,
    func,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload
from sqlalchemy.types import TypeEngine

from portal.extensions import db
from portal.services.compiled_once import CompiledOnce
from portal.services.errors import Conflict, NotFound
from portal.services.plain_rows import ItemJson, selects_json

T = TypeVar("T")
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: what the API's `meta` and the portal's pager both show. Its items are each an item's
    JSON text, written by the database, when `json_items` (the list's statement selects them: plain_rows.listed)."""

    items: list[T]
    total: int
    page: int
    per_page: int
    json_items: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


class PagedQuery:
    """A list query cut into pages: the page's statement (with the list's total as a column) and the count,
    built once. Built once for a query that is itself built once (bind parameters for its values, given to
    `page`), neither is compiled or keyed again on later requests.

    The total is a column of the page's own statement (an uncorrelated subquery, which the database counts
    once), so a page costs one round trip whatever the list's length. Only an empty page past the first
    has no row to carry it and asks for the count on its own.
    """

    def __init__(self, query: Select):
        self.counted = select(func.count()).select_from(query.options(lazyload("*")).order_by(None).subquery())
        self.statement = cut(query.add_columns(self.counted.scalar_subquery()))
        self.json_items = selects_json(query)  # the query's one column is each row's JSON text
        self._compiled: dict[int, CompiledOnce] = {}  # a JSON page's statements, by id (each keeps its own)

    def page(self, page: int = 1, per_page: int = 20, params: dict | None = None, *,
             statement: Select | None = None) -> Page:
        """One page, with its total; a page below 1 is the first, per_page is capped at 100. `statement` is
        another form of the page's statement (the same rows and total column) to run instead."""
        page, per_page = max(1, int(page)), min(max(1, int(per_page)), MAX_PER_PAGE)
        params = params or {}
        rows = self._execute(self.statement if statement is None else statement, {
            **params, "page_limit": per_page, "page_offset": (page - 1) * per_page}).all()
        if rows:
            total = rows[0][-1]
        else:
            total = 0 if page == 1 else db.session.scalar(self.counted, params)
        return Page(items=[row[0] for row in rows], total=total, page=page, per_page=per_page,
                    json_items=self.json_items)

    def _execute(self, statement: Select, values: dict) -> Result:
        """Rows of JSON text and a count need nothing from the ORM: such a statement, built with its PagedQuery,
        runs from its SQL compiled once (services/compiled_once.py); other rows are the session's to build."""
        if not self.json_items:
            return db.session.execute(statement, values).unique()
        compiled = self._compiled.get(id(statement))
        if compiled is None:
            compiled = self._compiled[id(statement)] = CompiledOnce(statement)
        return compiled.execute(values)


class PagedMatches(PagedQuery):
    """A PagedQuery for a list whose matches are few because of who reads it (a doctor's patients' records in
    their department): the matches' ids and sort keys are found once (a CTE, which PostgreSQL materialises as
    it is read twice), counted, cut to the page, and only the page's rows are read whole. Not for a list an
    admin reads: a CTE is written out in full before it is counted, which for a million rows cost four
    times the index walk of PagedQuery's count (docs/performance.md, "Sixth round").

    `matches` selects the ids (column `id`) and sort keys; `order` gives the sort from the CTE's columns;
    `rows(ids)` is the row statement for the ids of the page (a subquery), in the same order.
    """

    def __init__(self, matches: Select, order: Callable, rows: Callable[[Select], Select]):
        self.found = matches.cte("matches")
        self.counted = select(func.count()).select_from(self.found)
        self.statement = rows(cut(select(self.found.c.id).order_by(*order(self.found.c)))).add_columns(
            self.counted.scalar_subquery())
        self.json_items = selects_json(self.statement)
        self._compiled = {}


def on_postgresql() -> bool:
    """Whether the session's database is PostgreSQL, where statements may use what SQLite lacks (data-modifying
    CTEs, LATERAL, arrays, text built per row); the laptop's SQLite takes the plainer form."""
    return db.session.get_bind().dialect.name == "postgresql"


def written_by_database(item_json: ItemJson | None) -> ItemJson | None:
    """The answer's compiled item (ItemJson) where the database writes it, PostgreSQL; None on SQLite, whose
    lists keep their rows for the API's dump."""
    return item_json if item_json is not None and on_postgresql() else None


def constant(value: str, type_: type[TypeEngine] = String) -> ColumnElement[str]:
    """A fixed text (never user input) written into the SQL when it is compiled, not bound: a partial index's
    condition (WHERE status <> 'cancelled') serves a prepared, generic plan only when the statement holds the same
    constant, and a value rendered at execution instead (literal_execute) would keep the statement from running
    compiled once (services/compiled_once.py). The JSON the database writes is built of such constants too."""
    return literal_column("'" + value.replace("'", "''") + "'", type_)


def known_before(known: Exists, rows: Subquery, *columns) -> Select:
    """`columns` of `rows` after the answer of `known` (whether what the rows belong to exists for the reader),
    in one statement: the rows are outer-joined to that one answer, so no rows is one row of NULL columns after
    it. A window with nothing in it then tells "nothing there" ([]) from "no such thing" (404) without a second
    statement. Order the result by rows' columns."""
    answer = select(known.label("known")).subquery("known")
    return select(answer.c.known, *columns).select_from(answer).outerjoin(rows, true())


def known_rows(rows: list, missing: str) -> list:
    """The rows of a known_before statement: NotFound(missing) when its answer was no, else its rows (the answer
    still first in each), less the one row of NULLs an empty result is."""
    if not rows[0].known:
        raise NotFound(missing)
    return [row for row in rows if row[1] is not None]


def cut(query: Select) -> Select:
    """The query cut to one page: LIMIT and OFFSET as bind parameters, given by PagedQuery.page."""
    return query.limit(bindparam("page_limit", type_=Integer)).offset(bindparam("page_offset", type_=Integer))


def paginate(query: Select, page: int = 1, per_page: int = 20) -> Page:
    """One page of a query built for this request, with its total (PagedQuery)."""
    return PagedQuery(query).page(page, per_page)


def violated_constraint(error: IntegrityError) -> str:
    """The name of the constraint behind an IntegrityError.

    PostgreSQL names it (psycopg's diagnostics); SQLite only describes it in the message, so the
    message text is returned and callers match it against the column names as well.
    """
    diag = getattr(error.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return name or str(error.orig)


@contextmanager
def conflicts_raised(conflicts: dict[str, Callable[[], Conflict]]) -> Iterator[None]:
    """Turn a known constraint violation inside the block into its Conflict, after rolling back.

    `conflicts` maps a constraint name (or, for SQLite, a fragment of its message such as
    "appointments.slot_id") to a function making the Conflict to raise (a fresh one each time, as
    exceptions carry their traceback). Unknown violations are re-raised: they are bugs. A flush
    needs this as much as a commit: PostgreSQL checks an exclusion constraint at the INSERT, which
    waits for a concurrent transaction and fails once that one commits.
    """
    try:
        yield
    except IntegrityError as error:
        db.session.rollback()
        constraint = violated_constraint(error)
        for key, conflict in conflicts.items():
            if key in constraint:
                raise conflict() from None
        raise


def commit_or_conflict(conflicts: dict[str, Callable[[], Conflict]], *, keep_loaded: bool = False) -> None:
    """Commit; a known constraint violation becomes its Conflict (see conflicts_raised). With keep_loaded the
    rows just read and written stay as they are (commit_keeping_loaded), for an answer made of them."""
    with conflicts_raised(conflicts):
        if keep_loaded:
            commit_keeping_loaded()
        else:
            db.session.commit()


def flush_or_conflict(conflicts: dict[str, Callable[[], Conflict]]) -> None:
    """Flush (to learn a new row's id inside the transaction); violations as in conflicts_raised."""
    with conflicts_raised(conflicts):
        db.session.flush()


def commit_keeping_loaded() -> None:
    """Commit (e.g. the audit rows of a read) without expiring the rows just read.

    Expiring them would make every later attribute access reload its row one by one: an N+1.
    """
    session = db.session()
    previous, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = previous


def archive_once(model: type, row_id: int, at: datetime) -> bool:
    """Stamp archived_at on one row only while it is unset; False when another request stamped it first.

    Reading the row and then setting the attribute lets simultaneous deletes all win (each with its
    audit row and a later stamp); the conditional UPDATE lets exactly one.
    """
    result = db.session.execute(update(model).where(model.id == row_id, model.archived_at.is_(None))
                                .values(archived_at=at))
    return result.rowcount == 1
