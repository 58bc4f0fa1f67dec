"""The declarative base with a naming convention, so Alembic sees stable constraint names."""
from datetime import UTC, datetime

from sqlalchemy import BindParameter, DateTime, MetaData, TypeDecorator, bindparam
from sqlalchemy.orm import DeclarativeBase, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """`timestamptz` on PostgreSQL; on SQLite, naive UTC in and aware UTC out.

    Values are always aware datetimes in Python, whatever the database.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect, coltype):
        """On PostgreSQL one plain function a value instead of TypeDecorator's two layers: the sessions run in
        UTC (extensions.utc_sessions), so a value is normally returned as psycopg made it."""
        if dialect.name != "postgresql":
            return super().result_processor(dialect, coltype)
        return _in_utc


def _in_utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo is UTC else value.astimezone(UTC)


def instant_parameter(name: str) -> BindParameter:
    """A bind parameter for an aware instant, converted as UTCDateTime columns are (naive UTC on SQLite), for
    statements built once and given their times at execution."""
    return bindparam(name, type_=UTCDateTime())


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )
