"""API tests use the client, upload directory and live server of tests/fixtures/api_client.py, and the
callers most booking tests need: a doctor, an admin, a patient (alice) and four slots ahead."""
import pytest

from tests.api.clinic_api import caller, patients
from tests.fixtures import clinic
from tests.fixtures.api_client import api, live_server, uploads  # noqa: F401 (fixtures)


@pytest.fixture
def doctor(app, factories):
    return caller(app, factories.user(role="doctor"))


@pytest.fixture
def admin(app, factories):
    return caller(app, factories.user(role="admin"))


@pytest.fixture
def alice(app):
    return patients(app, 1)[0]


@pytest.fixture
def slots(ctx, doctor):
    return clinic.future_slots(doctor.doctor_id, 4, clinic.soon(30))
