"""Patient search and record lists: a folded search column with a trigram index, assignments by patient,
records by time.

`patients.search_text` holds the name without case or accents, the ISO date of birth and the phone
digits (portal.models.patients.search_text_of); existing rows are filled here. On PostgreSQL a GIN
trigram index serves the substring search; SQLite (single-user development) scans.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

from portal.models.patients import search_text_of

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.String(length=500), server_default="", nullable=False))
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignments_patient_id"), ["patient_id"], unique=False)
    with op.batch_alter_table("medical_records", schema=None) as batch_op:
        batch_op.create_index("ix_medical_records_recorded", ["recorded_at"], unique=False)
    bind = op.get_bind()
    patients = sa.table("patients", sa.column("id", sa.Integer), sa.column("full_name", sa.String),
                        sa.column("dob", sa.Date), sa.column("phone", sa.String),
                        sa.column("search_text", sa.String))
    rows = bind.execute(sa.select(patients.c.id, patients.c.full_name, patients.c.dob, patients.c.phone)).all()
    for row in rows:
        bind.execute(patients.update().where(patients.c.id == row.id)
                     .values(search_text=search_text_of(row.full_name, row.dob, row.phone)))
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_patients_search_trgm ON patients USING gin (search_text gin_trgm_ops)")


def downgrade():
    op.execute("DROP INDEX IF EXISTS ix_patients_search_trgm")
    with op.batch_alter_table("medical_records", schema=None) as batch_op:
        batch_op.drop_index("ix_medical_records_recorded")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignments_patient_id"))
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("search_text")
