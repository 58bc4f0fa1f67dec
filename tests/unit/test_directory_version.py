"""The directory version moves after every commit that wrote a table the directory shows, and only then.

Services/directory_version.py catches writes at the session, so these tests write rows the ways the
services do (a flush, a Core UPDATE, SQL text) and read the version as another process would: from
Redis (or, in the laptop mode, from the process).
"""
import pytest
from sqlalchemy import select, text, update

from portal.extensions import db
from portal.models import AuditEvent, Department, Slot
from portal.services import audit, change_versions, directory_version
from portal.services.actor import Actor
from portal.services.scheduling.hold_store import MemoryHoldStore, RedisHoldStore
from tests.fixtures import clinic

pytestmark = pytest.mark.laptop


@pytest.fixture
def version(ctx):
    clinic.department("Before")
    return directory_version.version()


def test_a_flushed_row_moves_the_version_at_its_commit_not_before(version):
    first = version.current()
    db.session.add(Department(name="Cardiology"))
    db.session.flush()
    assert version.current() == first
    db.session.commit()
    assert version.current() != first


@pytest.mark.parametrize("statement", [
    lambda: update(Department).values(description="x"),
    lambda: text("UPDATE departments SET description = 'y'"),
])
def test_bulk_and_text_dml_move_it_too(version, statement):
    first = version.current()
    db.session.execute(statement())
    db.session.commit()
    assert version.current() != first


def test_a_rolled_back_write_and_a_write_only_to_unshown_tables_leave_it(version):
    first = version.current()
    db.session.execute(update(Slot).values(duration=30))
    db.session.rollback()
    db.session.add(AuditEvent(action="read", object_type="patient", object_id=1))
    db.session.commit()
    assert version.current() == first


def test_audit_rows_written_by_core_insert_leave_it_and_do_not_hide_a_shown_write(version):
    actor = Actor(user=None, ip="192.0.2.1", request_id="r-1")
    first = version.current()
    audit.record_many(actor, "read", "patient", [(1, None), (2, None)])
    db.session.commit()
    assert version.current() == first
    audit.record_many(actor, "read", "patient", [(3, None)])
    db.session.execute(update(Department).values(description="z"))
    db.session.commit()
    assert version.current() != first


@pytest.mark.production_only("SQLite has no data-modifying CTE")
def test_a_select_whose_cte_writes_a_shown_table_moves_it_when_it_declares_the_write(version):
    """A data-modifying CTE hides its write in a SELECT (on PostgreSQL a booking and its audit row are one): the
    statement declares the write where it is built (change_versions.declaring), and its commit moves the version;
    undeclared, the session could not tell."""
    renamed = update(Department).values(description="z").returning(Department.id).cte("renamed")
    first = version.current()
    db.session.execute(select(renamed.c.id))
    db.session.commit()
    assert version.current() == first
    db.session.execute(change_versions.declaring(select(renamed.c.id), ("departments", "update")))
    db.session.commit()
    assert version.current() != first


def test_a_savepoint_released_does_not_move_it_before_the_outer_commit(version):
    first = version.current()
    with db.session.begin_nested():
        db.session.add(Department(name="Dermatology"))
    assert version.current() == first
    db.session.commit()
    assert version.current() != first


def test_a_fresh_version_starts_at_random_never_at_one(app, version):
    if app.extensions["redis"] is None:  # the laptop: a fresh process makes a fresh in-process version
        fresh = [change_versions.MemoryVersion().current() for _ in range(2)]
        assert "1" not in fresh and fresh[0] != fresh[1]
        return
    app.extensions["redis"].delete(directory_version.KEY)
    version.bump()  # nothing to move: a missing version is not created by a writer
    assert app.extensions["redis"].get(directory_version.KEY) is None
    started = version.current()
    assert started is not None and started != "1" and version.current() == started


def test_placing_and_releasing_a_hold_move_it_in_either_store(app, version):
    bumps = []
    store = RedisHoldStore(app.extensions["redis"]) if app.extensions["redis"] else MemoryHoldStore(
        lambda: bumps.append(1))
    first = version.current()
    hold = store.acquire(1, 7, 60_000, None)
    placed = version.current() if not bumps else len(bumps)
    assert store.release(hold.hold_id, 7)
    released = version.current() if not bumps else len(bumps)
    assert (placed, released) == ((1, 2) if bumps else (str(int(first) + 1), str(int(first) + 2)))
