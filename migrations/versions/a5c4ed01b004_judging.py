"""judging: judge profiles, invitations, panels, assignments, scores, score history, score request nonces

Revision ID: a5c4ed01b004
Revises: a5c4ed01b003
Create Date: 2026-11-25 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a5c4ed01b004'
down_revision = 'a5c4ed01b003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('score_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('judge_id', sa.Integer(), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['judge_id'], ['users.id'], name=op.f('fk_score_requests_judge_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_requests')),
    sa.UniqueConstraint('nonce', name=op.f('uq_score_requests_nonce'))
    )
    with op.batch_alter_table('score_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_requests_judge_id'), ['judge_id'], unique=False)

    op.create_table('judge_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_judge_invitations_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_judge_invitations_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_judge_invitations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judge_invitations')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_judge_invitations_secret_hash'))
    )
    with op.batch_alter_table('judge_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judge_invitations_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_judge_invitations_user_id'), ['user_id'], unique=False)

    op.create_table('judge_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('judge', 'chief', name='judgerole', native_enum=False, length=20), nullable=False),
    sa.Column('units', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], name=op.f('fk_judge_profiles_competition_id_competitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_judge_profiles_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_judge_profiles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judge_profiles')),
    sa.UniqueConstraint('competition_id', 'user_id', name=op.f('uq_judge_profiles_competition_id_user_id'))
    )
    with op.batch_alter_table('judge_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judge_profiles_competition_id'), ['competition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_judge_profiles_user_id'), ['user_id'], unique=False)

    op.create_table('judge_panels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('judges_per_entrant', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('judges_per_entrant IS NULL OR judges_per_entrant >= 1', name=op.f('ck_judge_panels_judges_per_entrant_min')),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], name=op.f('fk_judge_panels_competition_id_competitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['competition_groups.id'], name=op.f('fk_judge_panels_group_id_competition_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['competition_rounds.id'], name=op.f('fk_judge_panels_round_id_competition_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judge_panels')),
    sa.UniqueConstraint('round_id', 'name', name=op.f('uq_judge_panels_round_id_name'))
    )
    with op.batch_alter_table('judge_panels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judge_panels_competition_id'), ['competition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_judge_panels_round_id'), ['round_id'], unique=False)

    op.create_table('round_judging_settings',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('requires_roll_call', sa.Boolean(), nullable=False),
    sa.Column('code_stage', sa.Integer(), nullable=False),
    sa.CheckConstraint('code_stage IN (1, 2)', name=op.f('ck_round_judging_settings_code_stage_known')),
    sa.ForeignKeyConstraint(['round_id'], ['competition_rounds.id'], name=op.f('fk_round_judging_settings_round_id_competition_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', name=op.f('pk_round_judging_settings'))
    )
    op.create_table('judge_coached_entrants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('entrant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entrant_id'], ['entrants.id'], name=op.f('fk_judge_coached_entrants_entrant_id_entrants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['profile_id'], ['judge_profiles.id'], name=op.f('fk_judge_coached_entrants_profile_id_judge_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judge_coached_entrants')),
    sa.UniqueConstraint('profile_id', 'entrant_id', name=op.f('uq_judge_coached_entrants_profile_id_entrant_id'))
    )
    with op.batch_alter_table('judge_coached_entrants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judge_coached_entrants_entrant_id'), ['entrant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_judge_coached_entrants_profile_id'), ['profile_id'], unique=False)

    op.create_table('panel_judges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('panel_id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['panel_id'], ['judge_panels.id'], name=op.f('fk_panel_judges_panel_id_judge_panels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['profile_id'], ['judge_profiles.id'], name=op.f('fk_panel_judges_profile_id_judge_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel_judges')),
    sa.UniqueConstraint('panel_id', 'profile_id', name=op.f('uq_panel_judges_panel_id_profile_id'))
    )
    with op.batch_alter_table('panel_judges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panel_judges_panel_id'), ['panel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_panel_judges_profile_id'), ['profile_id'], unique=False)

    op.create_table('judge_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('panel_id', sa.Integer(), nullable=False),
    sa.Column('panel_judge_id', sa.Integer(), nullable=False),
    sa.Column('judge_id', sa.Integer(), nullable=False),
    sa.Column('entrant_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entrant_id'], ['entrants.id'], name=op.f('fk_judge_assignments_entrant_id_entrants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['judge_id'], ['users.id'], name=op.f('fk_judge_assignments_judge_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['panel_id'], ['judge_panels.id'], name=op.f('fk_judge_assignments_panel_id_judge_panels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['panel_judge_id'], ['panel_judges.id'], name=op.f('fk_judge_assignments_panel_judge_id_panel_judges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['competition_rounds.id'], name=op.f('fk_judge_assignments_round_id_competition_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judge_assignments')),
    sa.UniqueConstraint('round_id', 'judge_id', 'entrant_id', name=op.f('uq_judge_assignments_round_id_judge_id_entrant_id'))
    )
    with op.batch_alter_table('judge_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judge_assignments_entrant_id'), ['entrant_id'], unique=False)
        batch_op.create_index('ix_judge_assignments_judge_round', ['judge_id', 'round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_judge_assignments_panel_id'), ['panel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_judge_assignments_panel_judge_id'), ['panel_judge_id'], unique=False)

    op.create_table('panel_judge_criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('panel_judge_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['criterion_id'], ['rubric_criteria.id'], name=op.f('fk_panel_judge_criteria_criterion_id_rubric_criteria'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['panel_judge_id'], ['panel_judges.id'], name=op.f('fk_panel_judge_criteria_panel_judge_id_panel_judges'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel_judge_criteria')),
    sa.UniqueConstraint('panel_judge_id', 'criterion_id', name=op.f('uq_panel_judge_criteria_panel_judge_id_criterion_id'))
    )
    with op.batch_alter_table('panel_judge_criteria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panel_judge_criteria_panel_judge_id'), ['panel_judge_id'], unique=False)

    op.create_table('scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('judge_id', sa.Integer(), nullable=False),
    sa.Column('entrant_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'submitted', name='scorestate', native_enum=False, length=20), nullable=False),
    sa.Column('source', sa.Enum('tablet', 'paper', name='scoresource', native_enum=False, length=20), nullable=False),
    sa.Column('rubric_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("state = 'draft' OR value IS NOT NULL", name=op.f('ck_scores_submitted_has_value')),
    sa.ForeignKeyConstraint(['criterion_id'], ['rubric_criteria.id'], name=op.f('fk_scores_criterion_id_rubric_criteria'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['entrant_id'], ['entrants.id'], name=op.f('fk_scores_entrant_id_entrants'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['judge_id'], ['users.id'], name=op.f('fk_scores_judge_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['round_id'], ['competition_rounds.id'], name=op.f('fk_scores_round_id_competition_rounds'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_scores_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scores')),
    sa.UniqueConstraint('judge_id', 'entrant_id', 'criterion_id', 'round_id', name=op.f('uq_scores_judge_id_entrant_id_criterion_id_round_id'))
    )
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scores_criterion_id'), ['criterion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scores_entrant_id'), ['entrant_id'], unique=False)
        batch_op.create_index('ix_scores_round_judge', ['round_id', 'judge_id'], unique=False)

    op.create_table('score_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('score_id', sa.Integer(), nullable=False),
    sa.Column('old_value', sa.BigInteger(), nullable=True),
    sa.Column('new_value', sa.BigInteger(), nullable=True),
    sa.Column('old_state', sa.Enum('draft', 'submitted', name='scorestate', native_enum=False, length=20), nullable=False),
    sa.Column('new_state', sa.Enum('draft', 'submitted', name='scorestate', native_enum=False, length=20), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_score_changes_changed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['score_id'], ['scores.id'], name=op.f('fk_score_changes_score_id_scores'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_changes'))
    )
    with op.batch_alter_table('score_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_changes_score_id'), ['score_id'], unique=False)



def downgrade():
    with op.batch_alter_table('score_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_changes_score_id'))

    op.drop_table('score_changes')
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_index('ix_scores_round_judge')
        batch_op.drop_index(batch_op.f('ix_scores_entrant_id'))
        batch_op.drop_index(batch_op.f('ix_scores_criterion_id'))

    op.drop_table('scores')
    with op.batch_alter_table('panel_judge_criteria', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_panel_judge_criteria_panel_judge_id'))

    op.drop_table('panel_judge_criteria')
    with op.batch_alter_table('judge_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judge_assignments_panel_judge_id'))
        batch_op.drop_index(batch_op.f('ix_judge_assignments_panel_id'))
        batch_op.drop_index('ix_judge_assignments_judge_round')
        batch_op.drop_index(batch_op.f('ix_judge_assignments_entrant_id'))

    op.drop_table('judge_assignments')
    with op.batch_alter_table('panel_judges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_panel_judges_profile_id'))
        batch_op.drop_index(batch_op.f('ix_panel_judges_panel_id'))

    op.drop_table('panel_judges')
    with op.batch_alter_table('judge_coached_entrants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judge_coached_entrants_profile_id'))
        batch_op.drop_index(batch_op.f('ix_judge_coached_entrants_entrant_id'))

    op.drop_table('judge_coached_entrants')
    op.drop_table('round_judging_settings')
    with op.batch_alter_table('judge_panels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judge_panels_round_id'))
        batch_op.drop_index(batch_op.f('ix_judge_panels_competition_id'))

    op.drop_table('judge_panels')
    with op.batch_alter_table('judge_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judge_profiles_user_id'))
        batch_op.drop_index(batch_op.f('ix_judge_profiles_competition_id'))

    op.drop_table('judge_profiles')
    with op.batch_alter_table('judge_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judge_invitations_user_id'))
        batch_op.drop_index(batch_op.f('ix_judge_invitations_event_id'))

    op.drop_table('judge_invitations')
    with op.batch_alter_table('score_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_requests_judge_id'))

    op.drop_table('score_requests')
