"""The waitlist: entries (waiting for a doctor or a speciality in a window) and the slots offered to them.

The partial indexes on waiting entries, by doctor and by speciality in created_at order, make matching
a freed slot to the longest-waiting entry one index walk whatever the number of entries.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WAITING = sa.text("status = 'waiting'")


def upgrade():
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=True),
        sa.Column("speciality", sa.String(length=120), nullable=True),
        sa.Column("window_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("weekdays", sa.Integer(), nullable=True),
        sa.Column("earliest_time", sa.Time(), nullable=True),
        sa.Column("latest_time", sa.Time(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("(doctor_id IS NULL) <> (speciality IS NULL)",
                           name=op.f("ck_waitlist_entries_doctor_or_speciality")),
        sa.CheckConstraint("window_from < window_to", name=op.f("ck_waitlist_entries_window_order")),
        sa.ForeignKeyConstraint(["doctor_id"], ["doctors.id"], name=op.f("fk_waitlist_entries_doctor_id_doctors")),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"],
                                name=op.f("fk_waitlist_entries_patient_id_patients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
    )
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.create_index("ix_waitlist_entries_patient_created", ["patient_id", "created_at"], unique=False)
        batch_op.create_index("ix_waitlist_entries_doctor_waiting", ["doctor_id", "created_at", "id"], unique=False,
                              postgresql_where=WAITING, sqlite_where=WAITING)
        batch_op.create_index("ix_waitlist_entries_speciality_waiting", ["speciality", "created_at", "id"],
                              unique=False, postgresql_where=WAITING, sqlite_where=WAITING)
    op.create_table(
        "waitlist_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("hold_id", sa.String(length=64), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["entry_id"], ["waitlist_entries.id"],
                                name=op.f("fk_waitlist_offers_entry_id_waitlist_entries")),
        sa.ForeignKeyConstraint(["slot_id"], ["slots.id"], name=op.f("fk_waitlist_offers_slot_id_slots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_offers")),
        sa.UniqueConstraint("slot_id", "entry_id", name="uq_waitlist_offers_slot_entry"),
    )
    with op.batch_alter_table("waitlist_offers", schema=None) as batch_op:
        batch_op.create_index("ix_waitlist_offers_entry_id", ["entry_id"], unique=False)


def downgrade():
    with op.batch_alter_table("waitlist_offers", schema=None) as batch_op:
        batch_op.drop_index("ix_waitlist_offers_entry_id")
    op.drop_table("waitlist_offers")
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_waitlist_entries_speciality_waiting")
        batch_op.drop_index("ix_waitlist_entries_doctor_waiting")
        batch_op.drop_index("ix_waitlist_entries_patient_created")
    op.drop_table("waitlist_entries")
