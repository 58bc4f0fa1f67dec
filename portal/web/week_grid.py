"""The week grid of a doctor's slots, one Monday-to-Sunday clinic week, as every page that shows one lays it out.

The doctor page (a patient picks a time), the reschedule page (a new time) and the availability
calendar (a doctor manages slots) show the same week from slot_lists.doctor_slots - one query and
one hold-store round trip however many slots - and differ only in what a slot offers, which each
template says in its call block of the `week_grid` macro (booking/_week_grid.html). The week is in
the URL (?week=YYYY-MM-DD), so a deep link, a refresh and the back button all land on the same week.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import url_for

from portal import auth_context
from portal.services import clinic_time
from portal.services.clinic_time import Week
from portal.services.scheduling import slot_lists
from portal.services.scheduling.slot_lists import SlotView

GRID_ID = "week-grid"


@dataclass(frozen=True)
class GridDay:
    day: date
    views: list[SlotView]
    is_today: bool


@dataclass(frozen=True)
class WeekGrid:
    """A week of one doctor's slots by clinic day, and how to reach the weeks around it."""

    week: Week
    days: list[GridDay]
    zone_names: str  # "CET", or "CET/CEST" in a week that changes the clock
    endpoint: str
    url_args: dict = field(default_factory=dict)
    earliest: date | None = None  # no link to weeks before this Monday (patients cannot book the past)

    def url(self, week: Week) -> str:
        return url_for(self.endpoint, week=week.monday.isoformat(), **self.url_args)

    @property
    def shows_previous(self) -> bool:
        return self.earliest is None or self.week.monday > self.earliest

    @property
    def label(self) -> str:
        first, last = self.week.monday, self.week.monday + timedelta(days=6)
        if first.month == last.month:
            return f"{first.day}–{last:%-d %B %Y}"
        if first.year == last.year:
            return f"{first:%-d %B} – {last:%-d %B %Y}"
        return f"{first:%-d %B %Y} – {last:%-d %B %Y}"


REACH = timedelta(days=5 * 366)  # weeks further than this from today are not worth showing


def requested_week(value: str | None) -> Week:
    """The week holding the date given in ?week=, or this week: a mistyped or far-off date (the calendar's
    edge, year 9999, would overflow) shows this week, not an error."""
    today = clinic_time.today()
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        day = today
    if abs(day - today) > REACH:
        day = today
    return clinic_time.week_of(day)


def this_week() -> Week:
    return clinic_time.week_of(clinic_time.today())


def build(doctor_id: int, week: Week, endpoint: str, url_args: dict, *, from_this_week: bool = False) -> WeekGrid:
    """The grid of a doctor's week (NotFound for a doctor who is not in the directory).

    `endpoint` and `url_args` make the week arrows' links; `from_this_week` hides the way back into
    weeks that are over, for the pages where a patient picks a time.
    """
    views = slot_lists.doctor_slots(doctor_id, week.start, week.end, viewer=auth_context.session_user())
    by_day: dict[date, list[SlotView]] = {day: [] for day in week.days}
    for view in views:
        by_day[clinic_time.to_local(view.slot.starts_at).date()].append(view)
    today = clinic_time.today()
    days = [GridDay(day, by_day[day], day == today) for day in week.days]
    last_second = week.end - timedelta(seconds=1)
    names = dict.fromkeys(clinic_time.to_local(instant).tzname() for instant in (week.start, last_second))
    earliest = this_week().monday if from_this_week else None
    return WeekGrid(week, days, "/".join(names), endpoint, url_args, earliest)
