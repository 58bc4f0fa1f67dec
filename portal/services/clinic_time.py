"""Clinic time: the one place that turns "a day", "a week" and a window bound into UTC instants.

Everything is stored in UTC; people think in the clinic's own zone (config CLINIC_TZ). A date given
as a window bound means a whole clinic day, so `from=2027-03-28&to=2027-03-28` covers that Sunday
from local midnight to the next local midnight, however many hours DST gives it.
"""
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from portal.services.errors import Invalid


class MissingField(Invalid):
    """A required field is absent (the API answers 400 `missing_field`, not 422).

    It is an Invalid, so a face that knows only Invalid still reports the field.
    """

    code = "missing_field"

    def __init__(self, name: str):
        super().__init__({name: ["This field is required."]}, message=f"{name} is required.")


OUT_OF_RANGE = "That date is out of range."


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["CLINIC_TZ"])


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today's date in the clinic, which is not the UTC date around midnight."""
    return now().astimezone(zone()).date()


def local_instant(day: date, at: time) -> datetime | None:
    """The UTC instant of a clinic wall-clock time, or None when that time does not exist.

    In the spring gap (e.g. 02:30 on the last Sunday of March in Berlin) the clock jumps, so a
    slot there would be a lie; in the autumn repeat the first (summer-time) occurrence is taken.
    """
    tz = zone()
    wall = datetime.combine(day, at)
    instant = wall.replace(tzinfo=tz).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != wall:
        return None
    return instant


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A clinic day as [start, end) in UTC; 23 or 25 hours long on DST days."""
    return _midnight(day), _midnight(day + timedelta(days=1))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone()).astimezone(UTC)


@dataclass(frozen=True)
class Week:
    """A Monday-to-Sunday clinic week, for the week grid of a doctor's page."""

    monday: date

    @property
    def days(self) -> list[date]:
        return [self.monday + timedelta(days=n) for n in range(7)]

    @property
    def start(self) -> datetime:
        return _midnight(self.monday)

    @property
    def end(self) -> datetime:
        return _midnight(self.monday + timedelta(days=7))

    @property
    def previous(self) -> "Week":
        return Week(self.monday - timedelta(days=7))

    @property
    def next(self) -> "Week":
        return Week(self.monday + timedelta(days=7))


def week_of(day: date) -> Week:
    return Week(day - timedelta(days=day.weekday()))


def parse_bound(value: str | date | datetime | None, *, end: bool, field: str = "from") -> datetime | None:
    """One window bound as a UTC instant; None stays None.

    A date as a start means the start of that clinic day; as an end it means the end of that day
    (the next local midnight, exclusive), so a date range includes both ends. A timestamp must carry
    an offset: a naive one would be guessed, and a guessed time books the wrong hour.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = _parse_text(value.strip(), field)
    try:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise Invalid.field(field, "Give the time with its offset, e.g. 2027-03-28T09:00:00+02:00.")
            return value.astimezone(UTC)
        if isinstance(value, date):
            return day_bounds(value)[1 if end else 0]
    except OverflowError:  # the first or last day of the calendar has no neighbour to reach
        raise Invalid.field(field, OUT_OF_RANGE) from None
    raise Invalid.field(field, "Give a date (YYYY-MM-DD) or a timestamp with offset.")


def _parse_text(text: str, field: str) -> date | datetime:
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        raise Invalid.field(field, "Give a date (YYYY-MM-DD) or a timestamp with offset.") from None


def window(start: str | date | datetime | None, end: str | date | datetime | None, *,
           default_days: int = 14, max_days: int | None = None,
           start_field: str = "from", end_field: str = "to") -> tuple[datetime, datetime]:
    """A bounded [start, end) window in UTC, from optional bounds.

    A missing start means now; a missing end means `default_days` clinic days after the start
    (wall-clock days, so the window does not drift by an hour across DST). `max_days` keeps a
    list that is not paged from growing without limit.
    """
    lower = parse_bound(start, end=False, field=start_field) or now()
    upper = parse_bound(end, end=True, field=end_field)
    if upper is None:
        try:
            upper = (lower.astimezone(zone()) + timedelta(days=default_days)).astimezone(UTC)
        except OverflowError:
            raise Invalid.field(start_field, OUT_OF_RANGE) from None
    if lower >= upper:
        raise Invalid.field(end_field, "The end must come after the start.")
    if max_days is not None and upper - lower > timedelta(days=max_days, hours=1):
        raise Invalid.field(end_field, f"Ask for at most {max_days} days at a time.")
    return lower, upper


def to_local(instant: datetime) -> datetime:
    return instant.astimezone(zone())


def format_local(instant: datetime) -> str:
    """For people: 'Mon 29 Mar 2027, 09:00 CEST (Europe/Berlin)' - clinic time with the zone named."""
    local = to_local(instant)
    return f"{local:%a %-d %b %Y, %H:%M} {local.tzname()} ({zone().key})"


def format_time(instant: datetime) -> str:
    """Just the clinic wall-clock time, e.g. '09:00', for a week grid that names the zone once."""
    return f"{to_local(instant):%H:%M}"
