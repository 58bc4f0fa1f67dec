"""Reminders: an appointment remembers when its patient said they will come.

`appointments.confirmed_at` is set by the one-click "I'll come" link of a reminder mail (or the API's
POST /appointments/{id}/confirm) and shown to the doctor; null until then. The reminder jobs
themselves are rows of the job queue's own table, not of this migration.

Revision ID: 0005
Revises: 0004 (the job outbox)
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("appointments", sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # A plain DROP COLUMN (SQLite has it since 3.35), not batch mode: rebuilding the table on SQLite would
    # reflect uq_appointments_active_slot back without its WHERE and make every slot bookable only once.
    op.drop_column("appointments", "confirmed_at")
