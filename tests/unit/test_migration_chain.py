"""The whole Alembic chain, up and down and up again, on both databases the portal runs on.

`make run` migrates a SQLite file and production a PostgreSQL database; a migration that only works on
one of them (an ALTER that SQLite cannot do outside batch mode, a PostgreSQL-only type or constraint
without its guard) breaks the other. Each database is a fresh one of this test's own.
"""
from datetime import UTC, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url

from config import TestConfig
from portal import create_app
from portal.extensions import db
from portal.models import Assignment, DoctorPatient
from tests.fixtures import clinic
from tests.fixtures.backing_services import recreate_database


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def _database(kind: str, tmp_path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'chain.db'}"
    url = make_url(TestConfig.SQLALCHEMY_DATABASE_URI)
    url = url.set(database=f"{url.database}_chain").render_as_string(hide_password=False)
    recreate_database(url)
    return url


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_chain_upgrades_downgrades_and_upgrades_again(kind, tmp_path):
    application = create_app("test", SQLALCHEMY_DATABASE_URI=_database(kind, tmp_path), REDIS_URL="")
    with application.app_context():
        upgrade()
        assert _tables() == set(db.metadata.tables)
        downgrade(revision="base")
        assert _tables() == set()
        upgrade()
        assert _tables() == set(db.metadata.tables)
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_doctors_lists_are_filled_from_the_rows_already_there(kind, tmp_path):
    """Migration 0014 lists each doctor's patients as the appointments and assignments written before it say."""
    application = create_app("test", SQLALCHEMY_DATABASE_URI=_database(kind, tmp_path), REDIS_URL="")
    with application.app_context():
        upgrade(revision="0013")
        doctor, other = clinic.doctor().id, clinic.doctor().id
        booked, assigned, ended, both = (clinic.patient(full_name=name).id for name in ("Bo", "As", "En", "Bt"))
        clinic.appointment(booked, clinic.slot(doctor))
        clinic.appointment(both, clinic.slot(other))
        db.session.add_all([Assignment(patient_id=assigned, doctor_id=doctor),
                            Assignment(patient_id=ended, doctor_id=doctor, ended_at=datetime.now(UTC)),
                            Assignment(patient_id=both, doctor_id=other)])
        db.session.commit()
        upgrade()
        rows = db.session.execute(select(DoctorPatient.doctor_id, DoctorPatient.patient_id, DoctorPatient.assigned,
                                         DoctorPatient.booked, DoctorPatient.full_name))
        assert set(rows.tuples()) == {
            (doctor, booked, False, True, "Bo"), (doctor, assigned, True, False, "As"),
            (other, both, True, True, "Bt")}
        db.session.remove()
        db.engine.dispose()
