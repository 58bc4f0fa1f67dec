"""The absence form: first and last day away, optional clock times, a short reason."""
from datetime import date, datetime

from wtforms import DateField, HiddenField, StringField, TimeField
from wtforms.validators import Optional

from portal.services import clinic_time
from portal.web.forms import REQUIRED, PortalForm

# the service names its fields as the API does; the form shows each problem next to its own input
FIELD_OF = {"starts_at": "from_date", "ends_at": "to_date", "reason": "reason"}


class AbsenceForm(PortalForm):
    from_date = DateField("First day away", validators=[REQUIRED])
    from_time = TimeField("From (time, optional)", validators=[Optional()])
    to_date = DateField("Last day away", validators=[REQUIRED])
    to_time = TimeField("Back at (time, optional)", validators=[Optional()])
    reason = StringField("Reason (optional, for staff)", validators=[Optional()])
    doctor_id = HiddenField()

    def bounds(self) -> tuple[date | datetime | None, date | datetime | None]:
        """A day alone is the whole clinic day (both days included); with a time, that moment in clinic time."""
        return _moment(self.from_date.data, self.from_time.data), _moment(self.to_date.data, self.to_time.data)


def _moment(day, at):
    if day is None or at is None:
        return day
    return datetime.combine(day, at, tzinfo=clinic_time.zone())


def problems_by_field(problems: dict[str, list[str]]) -> dict[str, list[str]]:
    return {FIELD_OF.get(name, name): messages for name, messages in problems.items()}
