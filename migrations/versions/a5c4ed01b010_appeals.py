"""appeals: appeals (申诉), their score corrections, per-competition appeal settings

Revision ID: a5c4ed01b010
Revises: a5c4ed01b009
Create Date: 2026-11-24 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a5c4ed01b010'
down_revision = 'a5c4ed01b009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('appeal_settings',
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('appeals_per_entrant', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('appeals_per_entrant >= 1 AND appeals_per_entrant <= 5', name=op.f('ck_appeal_settings_appeals_per_entrant_range')),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], name=op.f('fk_appeal_settings_competition_id_competitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_appeal_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('competition_id', name=op.f('pk_appeal_settings'))
    )
    op.create_table('appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('entrant_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('open', 'upheld', 'rejected', name='appealstate', native_enum=False, length=20), nullable=False),
    sa.Column('channel', sa.Enum('participant', 'organizer', name='appealchannel', native_enum=False, length=20), nullable=False),
    sa.Column('appellant_name', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('filed_at', sa.DateTime(), nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=True),
    sa.Column('deadline', sa.DateTime(), nullable=True),
    sa.Column('attachment_name', sa.String(length=200), nullable=True),
    sa.Column('attachment_file', sa.String(length=80), nullable=True),
    sa.Column('attachment_type', sa.String(length=40), nullable=True),
    sa.Column('attachment_size', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision', sa.Text(), nullable=False),
    sa.CheckConstraint("(state = 'open') = (decided_at IS NULL)", name=op.f('ck_appeals_decided_when_closed')),
    sa.CheckConstraint('slot >= 1', name=op.f('ck_appeals_slot_positive')),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], name=op.f('fk_appeals_competition_id_competitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_appeals_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['entrant_id'], ['entrants.id'], name=op.f('fk_appeals_entrant_id_entrants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['filed_by_id'], ['users.id'], name=op.f('fk_appeals_filed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_appeals_registration_id_registrations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeals')),
    sa.UniqueConstraint('competition_id', 'number', name=op.f('uq_appeals_competition_id_number')),
    sa.UniqueConstraint('entrant_id', 'slot', name=op.f('uq_appeals_entrant_id_slot'))
    )
    op.create_index(op.f('ix_appeals_competition_id'), 'appeals', ['competition_id'], unique=False)
    op.create_index(op.f('ix_appeals_entrant_id'), 'appeals', ['entrant_id'], unique=False)
    op.create_index(op.f('ix_appeals_registration_id'), 'appeals', ['registration_id'], unique=False)
    op.create_table('appeal_corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('score_id', sa.Integer(), nullable=False),
    sa.Column('score_change_id', sa.Integer(), nullable=True),
    sa.Column('old_value', sa.BigInteger(), nullable=True),
    sa.Column('new_value', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_appeal_corrections_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['score_change_id'], ['score_changes.id'], name=op.f('fk_appeal_corrections_score_change_id_score_changes'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['score_id'], ['scores.id'], name=op.f('fk_appeal_corrections_score_id_scores'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_corrections')),
    sa.UniqueConstraint('appeal_id', 'score_id', name=op.f('uq_appeal_corrections_appeal_id_score_id'))
    )
    op.create_index(op.f('ix_appeal_corrections_appeal_id'), 'appeal_corrections', ['appeal_id'], unique=False)
    op.create_index(op.f('ix_appeal_corrections_score_id'), 'appeal_corrections', ['score_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_appeal_corrections_score_id'), table_name='appeal_corrections')
    op.drop_index(op.f('ix_appeal_corrections_appeal_id'), table_name='appeal_corrections')
    op.drop_table('appeal_corrections')
    op.drop_index(op.f('ix_appeals_registration_id'), table_name='appeals')
    op.drop_index(op.f('ix_appeals_entrant_id'), table_name='appeals')
    op.drop_index(op.f('ix_appeals_competition_id'), table_name='appeals')
    op.drop_table('appeals')
    op.drop_table('appeal_settings')
