"""Query bounds of time windows (`from`/`to`, `start`/`end`): a clinic date or an ISO timestamp with offset.

A date means the whole day in CLINIC_TZ, so a range of dates includes both ends: as a start it is
that day's midnight, as an end the next day's. Both come out as aware UTC datetimes, half-open.
"""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from marshmallow import ValidationError, fields

DATE_LENGTH = len("2026-01-31")


class WindowBound(fields.Field):
    """`edge="start"` or `edge="end"` decides which midnight a bare date stands for."""

    def __init__(self, edge: str, **kwargs):
        if edge not in ("start", "end"):
            raise ValueError(edge)
        metadata = {"type": "string", "example": "2026-03-29",
                    "description": "A date (a whole day in the clinic's time zone, included) or an ISO "
                                   "timestamp with offset" + (" (exclusive)." if edge == "end" else ".")}
        metadata.update(kwargs.pop("metadata", {}))
        super().__init__(metadata=metadata, **kwargs)
        self.edge = edge

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        if not isinstance(value, str):
            raise ValidationError("Give a date (YYYY-MM-DD) or a timestamp with offset.")
        if len(value) == DATE_LENGTH:
            try:
                day = date.fromisoformat(value)
            except ValueError:
                raise ValidationError("Not a valid date (YYYY-MM-DD).") from None
            if self.edge == "end":
                day += timedelta(days=1)
            zone = ZoneInfo(current_app.config["CLINIC_TZ"])
            return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError("Not a valid date or timestamp.") from None
        if moment.tzinfo is None:
            raise ValidationError("Give the timestamp with an offset, e.g. 2026-03-29T09:00:00+02:00.")
        return moment.astimezone(timezone.utc)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.isoformat()
