"""A third-party developer's first hour: generate a Python client from the served document with
openapi-python-client (offline), import it, and book an appointment with it against a live server.

The generator's own config is what such a developer would write after reading the document's
description: image types mapped to bytes. Everything else is the generator's default.
"""
import importlib
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from tests.api.clinic_api import caller
from tests.api.images import png_bytes
from tests.fixtures import clinic
from tests.fixtures.api_client import PREFIX

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "clinic_client"
CONFIG = f"""package_name_override: {PACKAGE}
content_type_overrides:
  image/jpeg: application/octet-stream
  image/png: application/octet-stream
  image/webp: application/octet-stream
  image/gif: application/octet-stream
"""


@pytest.fixture
def generated(live_server, tmp_path):
    """The generated package, imported from a temporary folder (and forgotten afterwards), after a look at
    its models: shared enums generate one class each, and nothing is split into numbered variants."""
    (tmp_path / "openapi.json").write_bytes(requests.get(f"{live_server}/openapi.json", timeout=30).content)
    (tmp_path / "config.yml").write_text(CONFIG)
    env = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"}  # its ruff step
    run = subprocess.run([str(GENERATOR), "generate", "--path", "openapi.json", "--config", "config.yml",
                          "--meta", "none", "--output-path", PACKAGE], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout + run.stderr, run.stdout + run.stderr  # nothing left out of the client
    models = sorted(path.stem for path in (tmp_path / PACKAGE / "models").glob("*.py"))
    assert [name for name in models if "gender" in name] == ["gender"]  # one type, not one per schema and field
    assert [name for name in models if re.search(r"_type_\d|_status$", name)] == [
        "appointment_status", "closing_status", "error_status", "job_status", "success_status", "waitlist_status"]
    sys.path.insert(0, str(tmp_path))
    try:
        yield lambda name: importlib.import_module(f"{PACKAGE}.{name}")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_a_generated_client_logs_in_finds_a_doctor_holds_and_books(app, ctx, factories, generated, live_server,
                                                                   uploads):
    doctor = caller(app, factories.user(role="doctor"))
    first = clinic.future_slots(doctor.doctor_id, 2, clinic.soon(30))[0]
    patient = factories.user()
    base = live_server.removesuffix(PREFIX)
    client_module, models = generated("client"), generated("models")

    login = generated("api.auth.login").sync(client=client_module.Client(base), body=models.Login(
        username=patient.username, password=patient.password))
    assert isinstance(login, models.LoginResultEnvelope), login
    me = client_module.AuthenticatedClient(base, token=login.data.access_token)

    doctors = generated("api.doctors.list_doctors").sync(client=me, q=doctor_name(app, doctor.doctor_id))
    assert [found.id for found in doctors.data] == [doctor.doctor_id]
    detail = generated("api.doctors.get_doctor").sync(doctor.doctor_id, client=me)
    assert [slot.id for slot in detail.data.available_slots][:1] == [first.id]

    hold = generated("api.holds.create_hold").sync(client=me, body=models.HoldRequest(slot_id=first.id))
    assert isinstance(hold, models.HoldEnvelope), hold
    booked = generated("api.appointments.book_appointment").sync(client=me, body=models.Booking(
        hold_id=hold.data.hold_id, reason="Check-up"))
    assert isinstance(booked, models.AppointmentEnvelope), booked
    assert (booked.data.status, booked.data.slot_id) == (models.AppointmentStatus.SCHEDULED, first.id)

    listed = generated("api.appointments.list_appointments").sync(
        client=me, status=models.AppointmentStatus.SCHEDULED, from_=first.starts_at.date(),
        to=first.starts_at + timedelta(days=1))
    assert [appointment.id for appointment in listed.data] == [booked.data.id]
    calendar = generated("api.appointments.get_appointment_calendar").sync(booked.data.id, client=me)
    assert calendar.startswith("BEGIN:VCALENDAR")

    types = generated("types")
    picture = types.File(payload=png_bytes(), file_name="me.png", mime_type="image/png")
    uploaded = generated("api.me.upload_my_picture").sync(client=me, body=models.PictureUpload(file=picture))
    assert isinstance(uploaded, models.UserEnvelope), uploaded
    assert generated("api.me.get_my_picture").sync(client=me).payload.read().startswith(b"\x89PNG")


def doctor_name(app, doctor_id: int) -> str:
    from portal.extensions import db
    from portal.models import Doctor

    return db.session.get(Doctor, doctor_id).full_name
