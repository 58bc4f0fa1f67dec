"""Statements built once, run from their SQL as compiled once for each kind of database.

SQLAlchemy looks a statement up in its compiled cache on every execution, and the key it looks it up by is
computed anew each time by walking the whole statement: for a list whose rows PostgreSQL writes as JSON
(plain_rows.item_column: a timeline page is 7 KB of SQL) that walk, and the ORM's setup of a result it then
has nothing to build from, were 0.3-0.5 ms of a request's 2.3-2.8 ms of CPU in-process (docs/performance.md,
"Fourteenth round"). A statement that is built once is compiled once here instead, and each execution binds
its values and sends the SQL through the connection's `exec_driver_sql`, which still passes the engine's
cursor events (the statement counters, read_transactions) and psycopg's prepared statements.

Only for a SELECT whose rows need nothing from the ORM or from result types (ids, text, counts) and whose bind
parameters are all plain: a statement that selects entities or converted values (a UTCDateTime), or has an
expanding IN list or a column default computed in Python, is run by the session as any other, decided once
when it is compiled.
"""
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, Dialect, Executable, Result, Select
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.types import TypeEngine

from portal.extensions import db


@dataclass(frozen=True)
class _Compiled:
    compiled: Compiled
    processors: dict[str, Any]  # by a bind parameter's name in the SQL: how its value is converted for the driver


class CompiledOnce:
    """`statement` run from its SQL as compiled for the session's engine, or by the session where it cannot be."""

    def __init__(self, statement: Executable):
        self.statement = statement
        self._by_dialect: dict[Dialect, _Compiled | None] = {}  # None: the session runs it (_compile says why)

    def execute(self, values: dict[str, Any]) -> Result | CursorResult:
        connection = db.session.connection()
        dialect = connection.dialect
        if dialect not in self._by_dialect:
            self._by_dialect[dialect] = _compile(self.statement, dialect)
        form = self._by_dialect[dialect]
        if form is None:
            return db.session.execute(self.statement, values)
        bound = form.compiled.construct_params(values)  # refuses a missing value, as the session would
        for name, process in form.processors.items():
            bound[name] = process(bound[name])
        return connection.exec_driver_sql(form.compiled.string, bound)


def run(statement: Executable | CompiledOnce, values: dict[str, Any]) -> Result | CursorResult:
    """A statement's result: from its SQL compiled once where it was built as CompiledOnce, else by the session."""
    if isinstance(statement, CompiledOnce):
        return statement.execute(values)
    return db.session.execute(statement, values)


def _plain(kind: Any, dialect: Dialect) -> bool:
    """Whether a selected column's values come from the driver as the app uses them: no ORM entity or bundle to
    build, no conversion of the value (a UTCDateTime's, say)."""
    return isinstance(kind, TypeEngine) and kind.dialect_impl(dialect).result_processor(dialect, None) is None


def _compile(statement: Executable, dialect: Dialect) -> _Compiled | None:
    if not isinstance(statement, Select) or not all(
            _plain(column["type"], dialect) for column in statement.column_descriptions):
        return None
    compiled = statement.compile(dialect=dialect)
    if (dialect.positional or compiled.post_compile_params or compiled.literal_execute_params
            or compiled.insert_prefetch or compiled.update_prefetch):
        return None
    processors = {}
    for name, bind in compiled.binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors[compiled.escaped_bind_names.get(name, name)] = process
    return _Compiled(compiled, processors)
