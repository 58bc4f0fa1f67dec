"""Doctors' absences: a range in which the doctor's free slots are withdrawn (slots.absence_id) and
from which they return when the absence is deleted (archived).

Revision ID: 0006
Revises: 0005 (reminders)
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "absences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["doctor_id"], ["doctors.id"], name=op.f("fk_absences_doctor_id_doctors")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_absences_created_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_absences")),
    )
    with op.batch_alter_table("absences", schema=None) as batch_op:
        batch_op.create_index("ix_absences_doctor_ends", ["doctor_id", "ends_at"], unique=False)
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("absence_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_slots_absence_id"), ["absence_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_slots_absence_id_absences"), "absences", ["absence_id"], ["id"])


def downgrade():
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_slots_absence_id_absences"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_slots_absence_id"))
        batch_op.drop_column("absence_id")
    with op.batch_alter_table("absences", schema=None) as batch_op:
        batch_op.drop_index("ix_absences_doctor_ends")
    op.drop_table("absences")
