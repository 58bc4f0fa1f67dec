"""A covering index for counting a department's live records by patient.

`GET /departments/{id}/records` and the doctor's department page count the department's records of the
patients the doctor may see. With only `(patient_id, recorded_at)` that count read every record of
each visible patient from the table (20 rows read for 2 kept in the records bench); the partial index
`(department_id, patient_id) WHERE archived_at IS NULL` answers it with one index-only lookup per
patient, and admins' counts of a whole department scan the index instead of the table.

Revision ID: 0009
Revises: 0008 (booking rules; the lead re-chains the helpers' migrations when merging)
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

LIVE = sa.text("archived_at IS NULL")


def upgrade():
    op.create_index("ix_medical_records_live_department_patient", "medical_records", ["department_id", "patient_id"],
                    unique=False, postgresql_where=LIVE, sqlite_where=LIVE)


def downgrade():
    op.drop_index("ix_medical_records_live_department_patient", table_name="medical_records")
