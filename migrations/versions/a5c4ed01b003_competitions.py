"""competitions: competitions, groups, rounds, entrants, draw codes, roll call, rubrics

Revision ID: a5c4ed01b003
Revises: a5c4ed01b002
Create Date: 2026-11-25 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a5c4ed01b003'
down_revision = 'a5c4ed01b002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('competitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.Column('rounding', sa.Enum('half_up', 'up', 'down', name='rounding', native_enum=False, length=20), nullable=False),
    sa.Column('aggregation', sa.Enum('mean', 'trimmed_mean', 'two_closest', 'median', name='aggregationmethod', native_enum=False, length=20), nullable=False),
    sa.Column('trim_threshold', sa.Integer(), nullable=False),
    sa.Column('normalization', sa.Enum('off', 'z_score', 'median_mad', name='normalization', native_enum=False, length=20), nullable=False),
    sa.Column('normalization_min_scores', sa.Integer(), nullable=False),
    sa.Column('award_rules', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('normalization_min_scores >= 2', name=op.f('ck_competitions_normalization_min_scores_min')),
    sa.CheckConstraint('places >= 0 AND places <= 4', name=op.f('ck_competitions_places_range')),
    sa.CheckConstraint('trim_threshold >= 3', name=op.f('ck_competitions_trim_threshold_min')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_competitions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_competitions_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competitions')),
    sa.UniqueConstraint('event_id', 'title', name=op.f('uq_competitions_event_id_title'))
    )
    with op.batch_alter_table('competitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_competitions_event_id'), ['event_id'], unique=False)

    op.create_table('competition_draws',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=8), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('entrants', sa.Integer(), nullable=False),
    sa.Column('times', sa.Integer(), nullable=False),
    sa.Column('drawn_at', sa.DateTime(), nullable=False),
    sa.Column('drawn_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('stage IN (1, 2)', name=op.f('ck_competition_draws_stage_known')),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], name=op.f('fk_competition_draws_competition_id_competitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['drawn_by_id'], ['users.id'], name=op.f('fk_competition_draws_drawn_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competition_draws')),
    sa.UniqueConstraint('competition_id', 'stage', name=op.f('uq_competition_draws_competition_id_stage'))
    )
    op.create_table('competition_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], name=op.f('fk_competition_groups_competition_id_competitions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competition_groups')),
    sa.UniqueConstraint('competition_id', 'name', name=op.f('uq_competition_groups_competition_id_name'))
    )
    with op.batch_alter_table('competition_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_competition_groups_competition_id'), ['competition_id'], unique=False)

    op.create_table('competition_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=True),
    sa.Column('ends_at', sa.DateTime(), nullable=True),
    sa.Column('carries_scores_forward', sa.Boolean(), nullable=False),
    sa.Column('weight', sa.BigInteger(), nullable=True),
    sa.Column('state', sa.Enum('setup', 'scoring', 'locked', name='roundstate', native_enum=False, length=20), nullable=False),
    sa.Column('scoring_started_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('ends_at IS NULL OR starts_at IS NULL OR ends_at >= starts_at', name=op.f('ck_competition_rounds_ends_after_starts')),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], name=op.f('fk_competition_rounds_competition_id_competitions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competition_rounds')),
    sa.UniqueConstraint('competition_id', 'name', name=op.f('uq_competition_rounds_competition_id_name'))
    )
    with op.batch_alter_table('competition_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_competition_rounds_competition_id'), ['competition_id'], unique=False)

    op.create_table('entrants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('is_team', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('unit', sa.String(length=200), nullable=False),
    sa.Column('members', sa.JSON(), nullable=False),
    sa.Column('coaches', sa.JSON(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('source', sa.Enum('registration', 'import', 'manual', name='entrantsource', native_enum=False, length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], name=op.f('fk_entrants_competition_id_competitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['competition_groups.id'], name=op.f('fk_entrants_group_id_competition_groups'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_entrants_registration_id_registrations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entrants')),
    sa.UniqueConstraint('competition_id', 'registration_id', name=op.f('uq_entrants_competition_id_registration_id'))
    )
    with op.batch_alter_table('entrants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entrants_competition_id'), ['competition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_entrants_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_entrants_registration_id'), ['registration_id'], unique=False)

    op.create_table('rubrics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('locked_at', sa.DateTime(), nullable=True),
    sa.Column('locked_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], name=op.f('fk_rubrics_competition_id_competitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['locked_by_id'], ['users.id'], name=op.f('fk_rubrics_locked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['competition_rounds.id'], name=op.f('fk_rubrics_round_id_competition_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rubrics')),
    sa.UniqueConstraint('round_id', name=op.f('uq_rubrics_round_id'))
    )
    with op.batch_alter_table('rubrics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rubrics_competition_id'), ['competition_id'], unique=False)

    op.create_table('draw_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('entrant_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('drawn_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('stage IN (1, 2)', name=op.f('ck_draw_codes_stage_known')),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], name=op.f('fk_draw_codes_competition_id_competitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entrant_id'], ['entrants.id'], name=op.f('fk_draw_codes_entrant_id_entrants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draw_codes')),
    sa.UniqueConstraint('competition_id', 'stage', 'code', name=op.f('uq_draw_codes_competition_id_stage_code')),
    sa.UniqueConstraint('entrant_id', 'stage', name=op.f('uq_draw_codes_entrant_id_stage'))
    )
    with op.batch_alter_table('draw_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_draw_codes_entrant_id'), ['entrant_id'], unique=False)

    op.create_table('roll_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entrant_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.Enum('scan', 'manual', name='rollcallsource', native_enum=False, length=20), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_roll_calls_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['entrant_id'], ['entrants.id'], name=op.f('fk_roll_calls_entrant_id_entrants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['competition_rounds.id'], name=op.f('fk_roll_calls_round_id_competition_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roll_calls')),
    sa.UniqueConstraint('entrant_id', 'round_id', name=op.f('uq_roll_calls_entrant_id_round_id'))
    )
    with op.batch_alter_table('roll_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roll_calls_round_id'), ['round_id'], unique=False)

    op.create_table('rubric_modules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rubric_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('weight', sa.BigInteger(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['rubric_id'], ['rubrics.id'], name=op.f('fk_rubric_modules_rubric_id_rubrics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rubric_modules')),
    sa.UniqueConstraint('rubric_id', 'code', name=op.f('uq_rubric_modules_rubric_id_code'))
    )
    with op.batch_alter_table('rubric_modules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rubric_modules_rubric_id'), ['rubric_id'], unique=False)

    op.create_table('rubric_criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rubric_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('maximum', sa.BigInteger(), nullable=False),
    sa.Column('step', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.Enum('measurement', 'judgement', name='criterionkind', native_enum=False, length=20), nullable=False),
    sa.Column('full_or_zero', sa.Boolean(), nullable=False),
    sa.Column('ladder', sa.Boolean(), nullable=False),
    sa.Column('levels', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('maximum > 0', name=op.f('ck_rubric_criteria_maximum_positive')),
    sa.CheckConstraint('step > 0', name=op.f('ck_rubric_criteria_step_positive')),
    sa.ForeignKeyConstraint(['module_id'], ['rubric_modules.id'], name=op.f('fk_rubric_criteria_module_id_rubric_modules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rubric_id'], ['rubrics.id'], name=op.f('fk_rubric_criteria_rubric_id_rubrics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rubric_criteria')),
    sa.UniqueConstraint('rubric_id', 'code', name=op.f('uq_rubric_criteria_rubric_id_code'))
    )
    with op.batch_alter_table('rubric_criteria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rubric_criteria_module_id'), ['module_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rubric_criteria_rubric_id'), ['rubric_id'], unique=False)


def downgrade():
    with op.batch_alter_table('rubric_criteria', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rubric_criteria_rubric_id'))
        batch_op.drop_index(batch_op.f('ix_rubric_criteria_module_id'))

    op.drop_table('rubric_criteria')
    with op.batch_alter_table('rubric_modules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rubric_modules_rubric_id'))

    op.drop_table('rubric_modules')
    with op.batch_alter_table('roll_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roll_calls_round_id'))

    op.drop_table('roll_calls')
    with op.batch_alter_table('draw_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draw_codes_entrant_id'))

    op.drop_table('draw_codes')
    with op.batch_alter_table('rubrics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rubrics_competition_id'))

    op.drop_table('rubrics')
    with op.batch_alter_table('entrants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entrants_registration_id'))
        batch_op.drop_index(batch_op.f('ix_entrants_group_id'))
        batch_op.drop_index(batch_op.f('ix_entrants_competition_id'))

    op.drop_table('entrants')
    with op.batch_alter_table('competition_rounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_competition_rounds_competition_id'))

    op.drop_table('competition_rounds')
    with op.batch_alter_table('competition_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_competition_groups_competition_id'))

    op.drop_table('competition_groups')
    op.drop_table('competition_draws')
    with op.batch_alter_table('competitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_competitions_event_id'))

    op.drop_table('competitions')
