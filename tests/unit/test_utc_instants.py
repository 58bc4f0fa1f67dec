"""Instants come back as aware datetimes in UTC, whatever zone the database session runs in.

On PostgreSQL the app's sessions run in UTC (extensions.utc_sessions), so psycopg's values need no
conversion (models.base.UTCDateTime); a session in another zone (a pooler that drops the startup option)
must still give the same instants in UTC."""
from datetime import UTC, datetime

from sqlalchemy import literal_column, select, text

from portal.extensions import db
from portal.models.base import UTCDateTime

INSTANT = "2026-03-29 01:30:00+00"  # the night Berlin's clocks go forward


def _read() -> datetime:
    return db.session.scalar(select(literal_column(f"'{INSTANT}'::timestamptz", UTCDateTime())))


def test_the_app_sessions_run_in_utc_and_give_utc_instants(ctx):
    assert db.session.scalar(text("SHOW TimeZone")) == "UTC"
    value = _read()
    assert value == datetime(2026, 3, 29, 1, 30, tzinfo=UTC) and value.tzinfo is UTC


def test_a_session_in_another_zone_still_gives_the_instant_in_utc(ctx):
    db.session.execute(text("SET LOCAL TimeZone = 'Europe/Berlin'"))
    value = _read()
    db.session.rollback()
    assert value == datetime(2026, 3, 29, 1, 30, tzinfo=UTC) and value.tzinfo is UTC
    assert value.isoformat() == "2026-03-29T01:30:00+00:00"
