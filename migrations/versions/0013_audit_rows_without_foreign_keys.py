"""The audit log's rows name their actor and patient without foreign keys.

Every audited read writes a row per object it shows (a page of 20 records: 20 rows), and each row's two
foreign keys cost PostgreSQL a check of its own: a `SELECT ... FOR KEY SHARE` of the account and of the
patient, 40 a page, which also lock those rows and write WAL for the locks. That was half of what a page's
audit rows cost the database (20 rows and their commit, 2,000 times on the records bench: 0.48-0.59 ms of
backend CPU with the keys, 0.25-0.26 without) and a quarter of a timeline's (served side by side: 1.6 → 1.24
ms a request). The rows are written by the app from the signed-in account and from the rows the same
statement read, and accounts and patients are never deleted (they are archived), so the keys guarded
nothing the app can do; an append-only log is also better off not tied to the lifecycle of what it names:
the actor's key would have erased the actor from the log (ON DELETE SET NULL) had an account ever been
deleted. The model says the same (models/audit.py).

Revision ID: 0013
Revises: 0012
"""
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint("fk_audit_events_actor_id_users", type_="foreignkey")
        batch_op.drop_constraint("fk_audit_events_patient_id_patients", type_="foreignkey")


def downgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_audit_events_actor_id_users", "users", ["actor_id"], ["id"],
                                    ondelete="SET NULL")
        batch_op.create_foreign_key("fk_audit_events_patient_id_patients", "patients", ["patient_id"], ["id"])
