"""Query bounds of time windows (`from`/`to`, `start`/`end`): a clinic date or an ISO timestamp with offset.

The meaning lives in services.clinic_time.parse_bound (a date is a whole clinic day, so a range of
dates includes both ends); this field only carries it into a schema, so a bad value is a 422 with
the field named. Values come out as aware UTC datetimes, `end` exclusive.
"""
from marshmallow import ValidationError, fields

from portal.services import clinic_time
from portal.services.errors import Invalid


class WindowBound(fields.Field):
    """`edge="start"` or `edge="end"` decides which midnight a bare date stands for."""

    def __init__(self, edge: str, **kwargs):
        if edge not in ("start", "end"):
            raise ValueError(edge)
        metadata = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}],
                    "example": "2026-03-29",
                    "description": "A date (a whole day in the clinic's time zone, included) or an ISO "
                                   "timestamp with offset" + (" (exclusive)." if edge == "end" else ".")}
        metadata.update(kwargs.pop("metadata", {}))
        super().__init__(metadata=metadata, **kwargs)
        self.edge = edge

    def _deserialize(self, value, attr, data, **kwargs):
        # clinic_time reads "" as no bound and strips blanks, for the portal's filter forms; an API
        # client that sends them has a bug the document's date/date-time formats do not allow
        if not isinstance(value, str) or not value or value != value.strip():
            raise ValidationError("Give a date (YYYY-MM-DD) or a timestamp with offset.")
        try:
            return clinic_time.parse_bound(value, end=self.edge == "end", field=self.data_key or attr or "")
        except Invalid as error:
            raise ValidationError([problem for problems in error.fields.values() for problem in problems]) from None

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.isoformat()
