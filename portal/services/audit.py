"""Audit rows for every read and write of patient data; the caller's transaction commits them."""
from sqlalchemy import Integer, String, bindparam, column, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY

from portal.extensions import db
from portal.models import AuditEvent, utcnow
from portal.services import policy
from portal.services.actor import Actor

ACTIONS = ("read", "create", "update", "delete")
# One Core statement for any number of rows, built once: a list's rows go to the database without an ORM
# object, unit-of-work flush or RETURNING of ids apiece (that flush was a fifth of a list's CPU), and the
# emergency flag is decided by the database per row (policy.under_emergency), not by a query before it. On the
# table, not the entity: an ORM bulk insert would split the rows by which values are None. `at` takes its
# column default, as an ORM object's would. A Core insert leaves the caller's pending changes pending: they
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
INSERT_LISTED = insert(_TABLE).from_select(
    ["actor_id", "action", "ip", "request_id", "object_type", "object_id", "patient_id", "emergency"],
    select(bindparam("actor_id", type_=Integer), bindparam("action", type_=String), bindparam("ip", type_=String),
           bindparam("request_id", type_=String), _LISTED.c.object_type, _LISTED.c.object_id, _LISTED.c.patient_id,
           policy.under_emergency(bindparam("reader"), _LISTED.c.patient_id, bindparam("now")))
    .order_by(_LISTED.c.position))


def record(actor: Actor, action: str, object_type: str, object_id: int | None, patient_id: int | None) -> None:
    record_many(actor, action, object_type, [(object_id, patient_id)])


def record_many(actor: Actor, action: str, object_type: str, rows: list[tuple[int | None, int | None]]) -> None:
    """One row per (object_id, patient_id) seen in a list, in that order, in one statement."""
    record_each(actor, action, [(object_type, object_id, patient_id) for object_id, patient_id in rows])


def record_each(actor: Actor, action: str, rows: list[tuple[str, int | None, int | None]]) -> None:
    """One row per (object_type, object_id, patient_id), in that order, in one statement; rows about a
    patient the actor reads under emergency access are flagged (policy decides which)."""
    if action not in ACTIONS:  # a caller's bug, not a user's input: fail loudly even under python -O
        raise ValueError(f"unknown audit action {action!r}")
    if not rows:  # an INSERT without parameters would write one row of defaults
        return
    reader, now = policy.emergency_reader(actor.user), utcnow()
    if db.session.get_bind().dialect.name == "postgresql":
        object_types, object_ids, patient_ids = (list(values) for values in zip(*rows, strict=True))
        db.session.execute(INSERT_LISTED, {
            "actor_id": actor.user_id, "action": action, "ip": actor.ip, "request_id": actor.request_id,
            "reader": reader, "now": now, "object_types": object_types, "object_ids": object_ids,
            "patient_ids": patient_ids})
        return
    db.session.execute(INSERT, [
        {"actor_id": actor.user_id, "action": action, "object_type": object_type, "object_id": object_id,
         "patient_id": patient_id, "ip": actor.ip, "request_id": actor.request_id,
         "reader": reader, "about": patient_id, "now": now}
        for object_type, object_id, patient_id in rows
    ])
