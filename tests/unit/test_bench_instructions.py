"""The instruction counter's bookkeeping (bench/booking/instructions.py): reads it counts are each computed (no
URL repeats, so the answer cache cannot answer one, drawn as the served bench draws its own), and each count is
read from the dump of its own label."""
import random
from datetime import time, timedelta

import psycopg

from bench.booking import workload
from bench.booking.instructions import SEED, _totals, _urls
from bench.booking.roundtrips import Probe
from portal.extensions import db
from portal.services import clinic_time
from tests.fixtures import clinic


def test_each_counted_read_asks_for_something_the_answer_cache_has_not_seen(ctx):
    doctors = [clinic.doctor(speciality=speciality).id for speciality in ("Cardiology", "Neurology", "Cardiology")]
    first = clinic_time.local_instant(clinic_time.today() + timedelta(days=8), time(9))
    for doctor_id in doctors:
        for day in range(0, 28, 2):
            clinic.slot(doctor_id, first + timedelta(days=day))
    week = Probe("doctor-week", "GET", "/api/v1/doctors/7/slots?from=2026-12-07&to=2026-12-13")
    window = Probe("speciality-window", "GET", "/api/v1/specialities/Cardiology/slots?start=x&end=y")
    with psycopg.connect(db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)) as conn:
        for probe, count in ((week, 6), (window, 12)):
            urls = _urls(conn, probe, count)
            assert len(set(urls)) == count and all(url.split("?")[0].endswith("/slots") for url in urls)
            _, mondays, days = workload.calendar(conn)
            drawn = workload.read_lines(mondays, days, *workload.directory(conn), random.Random(SEED))[probe.path]
            assert set(urls) <= set(drawn)
        assert {int(url.split("/")[4]) for url in _urls(conn, week, 6)} <= set(doctors)


def test_each_count_comes_from_the_dump_of_its_label(tmp_path):
    for name, label, total in (("callgrind.41", "path", 123456), ("callgrind.41.2", "healthz", 789),
                               ("callgrind.41.3", None, 5)):
        trigger = f"dump {label}" if label else "Program termination"
        (tmp_path / name).write_text(f"version: 1\ndesc: Trigger: {trigger}\nsummary: 0\ntotals: {total}\n")
    assert _totals(tmp_path) == {"path": 123456, "healthz": 789}
