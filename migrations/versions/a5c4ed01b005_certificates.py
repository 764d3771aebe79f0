"""certificates: designs, certificates, number counters

Revision ID: a5c4ed01b005
Revises: a5c4ed01b004
Create Date: 2026-11-25 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a5c4ed01b005'
down_revision = 'a5c4ed01b004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('certificate_number_counters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('scope_key', sa.String(length=40), nullable=False),
    sa.Column('number_format', sa.String(length=60), nullable=False),
    sa.Column('last_seq', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_certificate_number_counters_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_number_counters')),
    sa.UniqueConstraint('organization_id', 'scope_key', 'number_format', name=op.f('uq_certificate_number_counters_organization_id_scope_key_number_format'))
    )
    op.create_table('certificate_designs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('award', 'participation', 'training', 'appointment', name='certificatekind', native_enum=False, length=20), nullable=False),
    sa.Column('base', sa.String(length=20), nullable=False),
    sa.Column('orientation', sa.String(length=12), nullable=False),
    sa.Column('preprinted', sa.Boolean(), nullable=False),
    sa.Column('offset_x', sa.Float(), nullable=False),
    sa.Column('offset_y', sa.Float(), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('date_style', sa.String(length=10), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=True),
    sa.Column('organizers_text', sa.Text(), nullable=False),
    sa.Column('number_format', sa.String(length=60), nullable=False),
    sa.Column('number_scope', sa.String(length=10), nullable=False),
    sa.Column('background', sa.LargeBinary(), nullable=True),
    sa.Column('background_sha', sa.String(length=64), nullable=True),
    sa.Column('background_width', sa.Integer(), nullable=True),
    sa.Column('background_height', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_certificate_designs_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_certificate_designs_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_designs')),
    sa.UniqueConstraint('event_id', 'kind', name=op.f('uq_certificate_designs_event_id_kind'))
    )
    op.create_table('certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('award', 'participation', 'training', 'appointment', name='certificatekind', native_enum=False, length=20), nullable=False),
    sa.Column('holder_key', sa.String(length=80), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('entrant_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('holder_name', sa.String(length=100), nullable=False),
    sa.Column('unit', sa.String(length=200), nullable=False),
    sa.Column('members', sa.String(length=300), nullable=False),
    sa.Column('award', sa.String(length=100), nullable=False),
    sa.Column('competition', sa.String(length=200), nullable=False),
    sa.Column('group_name', sa.String(length=60), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('number', sa.String(length=100), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('scope_key', sa.String(length=40), nullable=False),
    sa.Column('number_format', sa.String(length=60), nullable=False),
    sa.Column('verify_code', sa.String(length=16), nullable=False),
    sa.Column('status', sa.Enum('valid', 'revoked', name='certificatestatus', native_enum=False, length=20), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('reissued_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['entrant_id'], ['entrants.id'], name=op.f('fk_certificates_entrant_id_entrants'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_certificates_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_certificates_issued_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_certificates_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_certificates_registration_id_registrations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_certificates_revoked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['task_id'], ['background_tasks.id'], name=op.f('fk_certificates_task_id_background_tasks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_certificates_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('event_id', 'kind', 'holder_key', name=op.f('uq_certificates_event_id_kind_holder_key')),
    sa.UniqueConstraint('organization_id', 'number', name=op.f('uq_certificates_organization_id_number')),
    sa.UniqueConstraint('verify_code', name=op.f('uq_certificates_verify_code'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index('ix_certificates_event_kind', ['event_id', 'kind', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_registration_id'), ['registration_id'], unique=False)


def downgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_registration_id'))
        batch_op.drop_index('ix_certificates_event_kind')

    op.drop_table('certificates')
    op.drop_table('certificate_designs')
    op.drop_table('certificate_number_counters')
