"""Times are shown in clinic time with the zone named, on both sides of a DST change."""
from datetime import UTC, datetime

import pytest

from portal.web.filters import clinic_time


@pytest.fixture
def berlin(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "CLINIC_TZ", "Europe/Berlin")
    return ctx


def test_winter_and_summer_times_name_their_zone(berlin):
    assert clinic_time(datetime(2027, 1, 15, 8, 30, tzinfo=UTC)) == "Fri 15 Jan 2027, 09:30 CET"
    assert clinic_time(datetime(2027, 7, 15, 8, 30, tzinfo=UTC)) == "Thu 15 Jul 2027, 10:30 CEST"


def test_the_night_of_the_spring_change(berlin):
    before = datetime(2027, 3, 28, 0, 59, tzinfo=UTC)
    after = datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    assert clinic_time(before, "%H:%M %Z") == "01:59 CET"
    assert clinic_time(after, "%H:%M %Z") == "03:00 CEST"


def test_a_naive_time_is_refused_and_none_is_empty(ctx):
    with pytest.raises(ValueError):
        clinic_time(datetime(2027, 1, 15, 8, 30))
    assert clinic_time(None) == ""


def test_templates_can_use_the_filter(berlin):
    template = berlin.jinja_env.from_string("{{ when | clinic_time }}")
    assert template.render(when=datetime(2027, 1, 15, 8, 30, tzinfo=UTC)) == "Fri 15 Jan 2027, 09:30 CET"
