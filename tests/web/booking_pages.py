"""Helpers for tests of the doctor page's booking: a week of slots, holding one, reading the hold id."""
import re
from datetime import time, timedelta

from portal.services import clinic_time
from tests.fixtures import clinic


def setup_week(app, hours=(9, 10), name="Dr Adam Baker"):
    """A doctor with slots on next week's Tuesday at the given clinic hours; (doctor id, week, slot ids)."""
    with app.app_context():
        week = clinic_time.week_of(clinic_time.today()).next
        doctor = clinic.doctor(full_name=name)
        ids = [clinic.slot(doctor.id, clinic_time.local_instant(week.monday + timedelta(days=1), time(h))).id
               for h in hours]
        return doctor.id, week, ids


def hold(client, doctor_id, week, slot_id, htmx=True):
    return client.post(f"/doctors/{doctor_id}/holds", {"slot_id": slot_id, "week": week.monday.isoformat()},
                       htmx_target="booking-panel" if htmx else None)


def hold_id_in(html):
    return re.search(r"/holds/([\w-]+)/confirm", html).group(1)
