"""The outbox: what must happen after a change is a row written in that change's transaction.

`enqueue` adds the row to the current session, so it commits with the change or not at all; a crash,
a restart or Redis being down loses nothing. A runner (runner.py: RQ in production, a thread on a
laptop, `run_due` in tests) later claims a due row with a conditional UPDATE, so one runner runs it
however many race, and runs its handler. A handler that raises is retried with back-off and given up
loudly after JOBS_MAX_ATTEMPTS. A runner killed mid-job leaves its lease to expire, and the job runs
again: delivery is at least once, and a keyed row (a reminder's lead) is never created twice.
"""
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import (
    CTE,
    JSON,
    Insert,
    Subquery,
    and_,
    bindparam,
    column,
    event,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.visitors import InternalTraversal

from portal.extensions import db
from portal.models import Job, JobStatus
from portal.models.base import utcnow
from portal.services import policy
from portal.services.actor import Actor
from portal.services.errors import Conflict, NotFound

Handler = Callable[[dict], None]
_handlers: dict[str, Handler] = {}
_periodic: dict[str, Callable[[], None]] = {}
PENDING = "jobs_pending"  # session.info key: jobs added in this transaction, inserted as it commits
ENQUEUED = "jobs_enqueued"  # session.info key: ids of due jobs the runner is told about after the commit
BATCH = 50


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that does jobs of `kind`: it gets the payload and raises to fail the attempt."""
    def register(function: Handler) -> Handler:
        if kind in _handlers and _handlers[kind] is not function:
            raise RuntimeError(f"two handlers for job kind {kind!r}")
        _handlers[kind] = function
        return function
    return register


def periodic(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register work every runner tick does (e.g. sweeping expired entries); it must be cheap when idle."""
    def register(function: Callable[[], None]) -> Callable[[], None]:
        _periodic[name] = function
        return function
    return register


def enqueue(kind: str, payload: dict, *, due_at: datetime | None = None, key: str | None = None) -> None:
    """Add a job to the current transaction. The jobs of a transaction are inserted together, in one
    statement, as it commits (write_pending); a job whose key already exists is left out."""
    if kind not in _handlers:  # a caller's bug: it must fail in its tests, not in a worker at night
        raise ValueError(f"no handler for job kind {kind!r}")
    now = utcnow()
    db.session.info.setdefault(PENDING, []).append(dict(
        kind=kind, payload=payload, key=key, status=JobStatus.PENDING.value, due_at=due_at or now, attempts=0,
        created_at=now))


@event.listens_for(Session, "before_commit")
def write_pending(session: Session) -> None:
    """One multi-row INSERT for every job of the committing transaction (a booking's mail and its
    reminders are one statement); `ON CONFLICT (key) DO NOTHING` keeps each key once, on both databases.

    Only the jobs already due are for the runner to hear of after the commit (a booking's mail, not its
    reminders): a job due later could not be claimed yet, and the runner's tick dispatches it when it is due.
    """
    rows = _take_pending(session)
    if rows:
        note_written(session, session.execute(_insert_statement(session.get_bind().dialect.name), rows))


def _take_pending(session: Session) -> list[dict]:
    """The transaction's jobs not yet written, each key once (the first of a key wins); none are left pending."""
    rows = session.info.pop(PENDING, None) or []
    once = {row["key"]: row for row in reversed(rows) if row["key"] is not None}
    return [row for row in rows if row["key"] is None or once[row["key"]] is row]


def note_written(session: Session, written: Iterable[tuple[int, datetime]]) -> None:
    """Of the jobs just written, (id, due_at) each, those due now are for the runner to hear of after the commit."""
    now = utcnow()
    session.info.setdefault(ENQUEUED, []).extend(job_id for job_id, due_at in written if due_at <= now)


_COLUMNS = ("kind", "payload", "key", "status", "due_at", "attempts", "created_at")


def written_with(written: CTE) -> tuple[CTE, Subquery]:
    """On PostgreSQL, a statement that ends a transaction's work can write its jobs too, so they cost no round
    trip of their own (a booking's mail and reminders: docs/performance.md, "Nineteenth round"). Returns a
    data-modifying CTE that writes the jobs of the bind parameter `jobs` (pending_values) when `written` has a
    row, as write_pending writes them, and a subquery of one row, their `ids` and `due_ats` (NULL when none), for
    written_pairs. Jobs pending after the statement are written at the commit as usual."""
    table = Job.__table__
    jobs = func.json_to_recordset(bindparam("jobs", type_=JSON)).table_valued(
        *(column(name, table.c[name].type) for name in _COLUMNS)).render_derived(name="job", with_types=True)
    statement = _each_key_once().from_select(_COLUMNS, select(*jobs.c).where(exists(select(written.c.id))))
    queued = statement.returning(table.c.id, table.c.due_at).cte("queued")
    # One aggregation for both arrays, so their elements come in the same order.
    return queued, select(func.array_agg(queued.c.id).label("ids"),
                          func.array_agg(queued.c.due_at).label("due_ats")).subquery("written_jobs")


def written_pairs(ids: list[int] | None, due_ats: list[datetime] | None) -> Iterable[tuple[int, datetime]]:
    """written_with's arrays as note_written takes them."""
    return zip(ids or (), due_ats or (), strict=True)


def pending_values(session: Session) -> dict:
    """written_with's parameters: the transaction's pending jobs, taken (the statement writes them or, when its
    transaction rolls back, nobody does)."""
    rows = [{**row, "due_at": row["due_at"].isoformat(), "created_at": row["created_at"].isoformat()}
            for row in _take_pending(session)]
    return {"jobs": rows}


class _Insert(postgresql.Insert):
    """PostgreSQL's INSERT, made cacheable: SQLAlchemy 2.0 leaves postgresql.Insert and its ON CONFLICT clause
    out of its compiled cache (sqlalchemy#10445), so every commit with jobs compiled the outbox's INSERT again
    (a twentieth of a booking's CPU). Both carry only state that the base Insert's cache key already covers,
    or that _DoNothing's traversal names."""

    inherit_cache = True


class _DoNothing(postgresql.dml.OnConflictDoNothing):
    _traverse_internals = [("constraint_target", InternalTraversal.dp_string),
                           ("inferred_target_elements", InternalTraversal.dp_clauseelement_list),
                           ("inferred_target_whereclause", InternalTraversal.dp_clauseelement)]


@cache
def _insert_statement(dialect_name: str) -> Insert:
    """write_pending's INSERT, built once per dialect and given the rows as parameters: SQLAlchemy sends them
    as one multi-row statement ("insertmanyvalues"). On PostgreSQL it is compiled once (_Insert); SQLite's, for
    the laptop, is compiled per commit."""
    table = Job.__table__
    if dialect_name == "postgresql":
        statement = _each_key_once()
    else:
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=[table.c.key])
    return statement.returning(table.c.id, table.c.due_at)


def _each_key_once() -> _Insert:
    """PostgreSQL's INSERT INTO jobs ... ON CONFLICT (key) DO NOTHING, cacheable: both writers' (write_pending's
    and written_with's)."""
    statement = _Insert(Job.__table__)
    statement._post_values_clause = _DoNothing(index_elements=[Job.__table__.c.key])  # what on_conflict_do_nothing sets
    return statement


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(PENDING, None)


def _claimable(now: datetime):
    """Due and waiting, or running under a lease that has run out (its runner died)."""
    return or_(and_(Job.status == JobStatus.PENDING.value, Job.due_at <= now),
               and_(Job.status == JobStatus.RUNNING.value, Job.leased_until < now))


def due_ids(now: datetime | None = None, limit: int = BATCH) -> list[int]:
    now = now or utcnow()
    return list(db.session.scalars(select(Job.id).where(_claimable(now)).order_by(Job.due_at).limit(limit)))


def _claim(job_id: int, now: datetime):
    """Take the job for one run: a conditional UPDATE, so of several runners exactly one gets it.

    Its kind, payload and attempts come back with the UPDATE and the transaction ends at once: no
    transaction stays open while a handler talks to a mail server (on SQLite it would hold the lock).
    """
    lease = timedelta(seconds=current_app.config["JOBS_LEASE_SECONDS"])
    taken = db.session.execute(
        update(Job).where(Job.id == job_id, _claimable(now))
        .values(status=JobStatus.RUNNING.value, leased_until=now + lease, attempts=Job.attempts + 1)
        .returning(Job.kind, Job.payload, Job.attempts)).first()
    db.session.commit()
    return taken


def backoff(attempts: int) -> timedelta:
    """JOBS_RETRY_SECONDS (30 s), then twice as long after each failure, at most an hour apart."""
    first = current_app.config["JOBS_RETRY_SECONDS"]
    return timedelta(seconds=min(first * 2 ** (attempts - 1), 3600))


def run(job_id: int, now: datetime | None = None) -> bool:
    """Run one job if it is due (at `now`) and nobody else runs it; True when its handler succeeded."""
    claimed = _claim(job_id, now or utcnow())
    if claimed is None:
        return False
    kind, payload, attempts = claimed
    try:
        _handlers[kind](payload)
    except Exception as error:  # any failure of the work: recorded on the row, retried, never lost
        db.session.rollback()
        _failed(job_id, attempts, error)
        return False
    db.session.execute(update(Job).where(Job.id == job_id).values(
        status=JobStatus.DONE.value, finished_at=utcnow(), leased_until=None, last_error=None))
    db.session.commit()  # with whatever the handler changed: both or neither
    return True


def _failed(job_id: int, attempts: int, error: Exception) -> None:
    gives_up = attempts >= current_app.config["JOBS_MAX_ATTEMPTS"]
    reason = f"{type(error).__name__}: {error}"[:500]
    values = dict(last_error=reason, leased_until=None)
    if gives_up:
        values.update(status=JobStatus.FAILED.value, finished_at=utcnow())
        current_app.logger.error("job %s gave up after %s attempts: %s", job_id, attempts, reason)
    else:
        values.update(status=JobStatus.PENDING.value, due_at=utcnow() + backoff(attempts))
        current_app.logger.warning("job %s attempt %s failed, retrying: %s", job_id, attempts, reason)
    db.session.execute(update(Job).where(Job.id == job_id).values(**values))
    db.session.commit()


def run_due(now: datetime | None = None) -> int:
    """Run every job that is due, here and now (tests, and the laptop's thread); how many succeeded."""
    done = 0
    while ids := due_ids(now):  # a failed job is put off, a taken one is leased: neither comes back here
        db.session.commit()  # end the read before the claims write (SQLite cannot upgrade a stale read)
        done += sum(run(job_id, now) for job_id in ids)
    return done


def tick() -> None:
    """A runner's periodic pass: the registered periodic work, then purging old finished rows."""
    for name, work in _periodic.items():
        try:
            work()
            db.session.commit()
        except Exception:  # one sweep failing must not stop the others or the runner
            db.session.rollback()
            current_app.logger.exception("periodic work %s failed", name)
    purge_finished()


def purge_finished() -> None:
    """Done jobs older than JOBS_KEEP_DAYS go (their mails are long delivered); failed ones stay for an admin."""
    before = utcnow() - timedelta(days=current_app.config["JOBS_KEEP_DAYS"])
    db.session.execute(Job.__table__.delete().where(Job.status == JobStatus.DONE.value, Job.finished_at < before))
    db.session.commit()


def state(actor: Actor) -> dict:
    """What an admin needs to see whether the queue moves (see snapshot); admins only."""
    policy.require_admin(actor.user)
    return snapshot()


def snapshot(failed_limit: int = 20) -> dict:
    """Counts by status, the oldest due job, the last run and the latest failures (the operator's CLI too)."""
    counts = dict(db.session.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    oldest_due = db.session.scalar(select(func.min(Job.due_at)).where(
        Job.status == JobStatus.PENDING.value, Job.due_at <= utcnow()))
    last_run = db.session.scalar(select(func.max(Job.finished_at)))
    failed = list(db.session.scalars(select(Job).where(Job.status == JobStatus.FAILED.value)
                                     .order_by(Job.finished_at.desc(), Job.id.desc()).limit(failed_limit)))
    return {"counts": {status.value: counts.get(status.value, 0) for status in JobStatus},
            "oldest_due_at": oldest_due, "last_run_at": last_run, "runner": current_app.config["JOBS_RUNNER"],
            "failed": failed}


def retry(actor: Actor, job_id: int) -> Job:
    """An admin sends a failed job again (after the mail server is fixed): due now, attempts from zero.

    NotFound for an unknown id; Conflict not_failed for a job that is not failed (it runs or ran).
    """
    policy.require_admin(actor.user)
    job = db.session.get(Job, job_id)
    if job is None:
        raise NotFound("No such job.")
    again = db.session.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.FAILED.value).values(
        status=JobStatus.PENDING.value, attempts=0, due_at=utcnow(), finished_at=None))
    if again.rowcount != 1:
        db.session.rollback()
        raise Conflict("Only a failed job can be sent again; this one is not failed.", code="not_failed")
    db.session.info.setdefault(ENQUEUED, []).append(job_id)
    db.session.commit()
    db.session.refresh(job)
    return job
