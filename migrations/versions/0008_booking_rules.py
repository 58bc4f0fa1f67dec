"""Booking rules per doctor (nullable overrides of the clinic's settings) and an index for counting no-shows.

`doctors.min_notice_minutes`, `horizon_days`, `change_cutoff_hours`: null means the clinic's setting
(BOOKING_MIN_NOTICE_MINUTES, BOOKING_HORIZON_DAYS, CHANGE_CUTOFF_HOURS). `ix_appointments_patient_no_show`
is partial (status = 'no_show'), so counting a patient's no-shows of the last 12 months reads only those.

Plain ALTER TABLE on both databases: SQLite (3.35+) adds and drops an unindexed column in place, so the
doctors table is not rebuilt (a batch rebuild would lose its expression index on lower(speciality)).

Revision ID: 0008
Revises: 0007 (waitlist; the lead re-chains the helpers' migrations when merging)
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = ("min_notice_minutes", "horizon_days", "change_cutoff_hours")
NO_SHOW = sa.text("status = 'no_show'")


def upgrade():
    for name in COLUMNS:
        op.add_column("doctors", sa.Column(name, sa.Integer(), nullable=True))
    op.create_index("ix_appointments_patient_no_show", "appointments", ["patient_id", "starts_at"], unique=False,
                    postgresql_where=NO_SHOW, sqlite_where=NO_SHOW)


def downgrade():
    op.drop_index("ix_appointments_patient_no_show", table_name="appointments")
    for name in reversed(COLUMNS):
        op.execute(f"ALTER TABLE doctors DROP COLUMN {name}")
