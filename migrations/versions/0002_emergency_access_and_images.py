"""Emergency access grants, the audit log's emergency flag, image thumbnails.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 15:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('emergency_accesses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doctor_user_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('review_note', sa.String(length=2000), nullable=True),
    sa.ForeignKeyConstraint(['doctor_user_id'], ['users.id'], name=op.f('fk_emergency_accesses_doctor_user_id_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_emergency_accesses_patient_id_patients')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_emergency_accesses_reviewed_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_accesses'))
    )
    with op.batch_alter_table('emergency_accesses', schema=None) as batch_op:
        batch_op.create_index('ix_emergency_accesses_doctor_patient_expires', ['doctor_user_id', 'patient_id', 'expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_emergency_accesses_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_emergency_accesses_started', ['started_at'], unique=False)
        batch_op.create_index('ix_emergency_accesses_unreviewed', ['started_at'], unique=False, postgresql_where=sa.text('reviewed_at IS NULL'), sqlite_where=sa.text('reviewed_at IS NULL'))

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('emergency', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index('ix_audit_events_emergency_at', ['at'], unique=False, postgresql_where=sa.text('emergency IS true'), sqlite_where=sa.text('emergency IS 1'))

    with op.batch_alter_table('patient_images', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thumbnail_key', sa.String(length=100), nullable=True))
        batch_op.create_index('ix_patient_images_created', ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('patient_images', schema=None) as batch_op:
        batch_op.drop_index('ix_patient_images_created')
        batch_op.drop_column('thumbnail_key')

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_emergency_at')
        batch_op.drop_column('emergency')

    with op.batch_alter_table('emergency_accesses', schema=None) as batch_op:
        batch_op.drop_index('ix_emergency_accesses_unreviewed')
        batch_op.drop_index('ix_emergency_accesses_started')
        batch_op.drop_index(batch_op.f('ix_emergency_accesses_patient_id'))
        batch_op.drop_index('ix_emergency_accesses_doctor_patient_expires')

    op.drop_table('emergency_accesses')
