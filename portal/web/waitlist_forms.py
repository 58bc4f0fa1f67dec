"""The waitlist form: what a patient waits for (a doctor or a speciality, prefilled), when, on which days.

As elsewhere it checks only what a browser form gets wrong by itself; the rules are the service's
(waitlist.entry_problems), whose problems land next to these fields by name ("from"/"to" are `start`/`end`).
"""
from datetime import timedelta

from wtforms import DateField, HiddenField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from portal.services import clinic_time
from portal.web.booking_forms import WEEKDAYS, CheckboxesField
from portal.web.forms import PortalForm

REQUIRED = InputRequired(message="Fill this in.")
SERVICE_FIELDS = {"from": "start", "to": "end", "doctor_id": None, "speciality": None}  # None: above the form


class WaitlistForm(PortalForm):
    doctor_id = HiddenField()
    speciality = HiddenField()
    start = DateField("From", validators=[REQUIRED])
    end = DateField("Until (inclusive)", validators=[REQUIRED])
    weekdays = CheckboxesField("Only on these days (none ticked: any day)", coerce=int, validators=[Optional()],
                               choices=[SelectChoice(str(number), name) for number, name in enumerate(WEEKDAYS)])
    earliest_time = TimeField("Not before (optional)", validators=[Optional()])
    latest_time = TimeField("Finished by (optional)", validators=[Optional()])

    @classmethod
    def prefilled(cls, doctor_id: int | None, speciality: str | None, start=None, end=None) -> "WaitlistForm":
        """The next four weeks unless the search the patient came from named other days."""
        today = clinic_time.today()
        return cls(formdata=None, data={"doctor_id": doctor_id or "", "speciality": speciality or "",
                                        "start": start or today, "end": end or today + timedelta(days=28)})

    def wanted(self) -> dict:
        """The service's arguments."""
        return {"doctor_id": int(self.doctor_id.data) if (self.doctor_id.data or "").isdigit() else None,
                "speciality": self.speciality.data or None, "start": self.start.data, "end": self.end.data,
                "weekdays": self.weekdays.data or None, "earliest_time": self.earliest_time.data,
                "latest_time": self.latest_time.data}
