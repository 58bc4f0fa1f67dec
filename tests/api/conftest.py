"""API tests use the client, upload directory and live server of tests/fixtures/api_client.py, the
callers most booking tests need: a doctor, an admin, a patient (alice) and four slots ahead, and a second
app for what one server process keeps from another."""
import pytest

from portal import create_app
from tests.api.clinic_api import caller, patients
from tests.fixtures import clinic
from tests.fixtures.api_client import ApiClient, api, live_server, uploads  # noqa: F401 (fixtures)


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


@pytest.fixture(scope="module")
def other_app(app):
    """A second app on the same database and Redis, standing in for another server process: what it keeps
    between requests lives in its own memory, so only what they share (Redis, the database) tells it of a
    change made through `app`."""
    return create_app("test")


@pytest.fixture
def other(other_app):
    return ApiClient(other_app.test_client())
