"""chief judge desk: disagreement flags, re-score requests, score change kinds

Revision ID: a5c4ed01b008
Revises: a5c4ed01b007
Create Date: 2026-11-24 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a5c4ed01b008'
down_revision = 'a5c4ed01b007'
branch_labels = None
depends_on = None

# score_changes is append-only: the database refuses an UPDATE of a recorded field (judging/models.py has the same
# statements for create_all). On SQLite a batch operation recreates the table, which drops its triggers: the trigger
# is created after the batch operation, and a later migration that recreates score_changes must create it again.
FIELDS = ("id", "score_id", "old_value", "new_value", "old_state", "new_state", "changed_at", "reason", "kind")
SQLITE_TRIGGER = (
    "CREATE TRIGGER score_changes_append_only BEFORE UPDATE ON score_changes WHEN "
    + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FIELDS)
    + " BEGIN SELECT RAISE(ABORT, 'score_changes is append-only'); END"
)
PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION score_changes_append_only() RETURNS trigger AS $$ BEGIN IF "
    + " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in FIELDS)
    + " THEN RAISE EXCEPTION 'score_changes is append-only'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
)
PG_TRIGGER = (
    "CREATE TRIGGER score_changes_append_only BEFORE UPDATE ON score_changes FOR EACH ROW "
    "EXECUTE FUNCTION score_changes_append_only()"
)


def upgrade():
    op.create_table('desk_settings',
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('ladder_levels', sa.BigInteger(), nullable=False),
    sa.Column('spread_share', sa.BigInteger(), nullable=False),
    sa.Column('outlier_share', sa.BigInteger(), nullable=False),
    sa.Column('outlier_min_entrants', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], name=op.f('fk_desk_settings_competition_id_competitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_desk_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('competition_id', name=op.f('pk_desk_settings'))
    )
    op.create_table('rescore_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('entrant_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('open', 'done', 'closed', name='rescorestate', native_enum=False, length=20), nullable=False),
    sa.Column('asked_by_id', sa.Integer(), nullable=True),
    sa.Column('asked_at', sa.DateTime(), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('close_note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['asked_by_id'], ['users.id'], name=op.f('fk_rescore_requests_asked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_rescore_requests_closed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['criterion_id'], ['rubric_criteria.id'], name=op.f('fk_rescore_requests_criterion_id_rubric_criteria'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entrant_id'], ['entrants.id'], name=op.f('fk_rescore_requests_entrant_id_entrants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['competition_rounds.id'], name=op.f('fk_rescore_requests_round_id_competition_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rescore_requests'))
    )
    with op.batch_alter_table('rescore_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rescore_requests_round_id'), ['round_id'], unique=False)

    op.create_table('disagreement_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('entrant_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('spread', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.Enum('rescore', 'resolved', name='flagstate', native_enum=False, length=20), nullable=False),
    sa.Column('resolution', sa.Enum('rescored', 'kept', name='flagresolution', native_enum=False, length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('rescore_request_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("state <> 'resolved' OR resolution IS NOT NULL", name=op.f('ck_disagreement_flags_resolved_has_resolution')),
    sa.ForeignKeyConstraint(['criterion_id'], ['rubric_criteria.id'], name=op.f('fk_disagreement_flags_criterion_id_rubric_criteria'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entrant_id'], ['entrants.id'], name=op.f('fk_disagreement_flags_entrant_id_entrants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rescore_request_id'], ['rescore_requests.id'], name=op.f('fk_disagreement_flags_rescore_request_id_rescore_requests'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['competition_rounds.id'], name=op.f('fk_disagreement_flags_round_id_competition_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_disagreement_flags_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disagreement_flags')),
    sa.UniqueConstraint('round_id', 'entrant_id', 'criterion_id', name=op.f('uq_disagreement_flags_round_id_entrant_id_criterion_id'))
    )
    op.create_table('rescore_request_judges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('judge_id', sa.Integer(), nullable=False),
    sa.Column('score_id', sa.Integer(), nullable=False),
    sa.Column('resubmitted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['judge_id'], ['users.id'], name=op.f('fk_rescore_request_judges_judge_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['rescore_requests.id'], name=op.f('fk_rescore_request_judges_request_id_rescore_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['score_id'], ['scores.id'], name=op.f('fk_rescore_request_judges_score_id_scores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rescore_request_judges')),
    sa.UniqueConstraint('request_id', 'judge_id', name=op.f('uq_rescore_request_judges_request_id_judge_id'))
    )
    with op.batch_alter_table('rescore_request_judges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rescore_request_judges_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rescore_request_judges_score_id'), ['score_id'], unique=False)

    with op.batch_alter_table('score_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('correction', 'unlock', 'rescore', 'on_behalf', 'review', 'appeal', 'revision', name='scorechangekind', native_enum=False, length=20), server_default='correction', nullable=False))
        batch_op.add_column(sa.Column('on_behalf_of_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_score_changes_on_behalf_of_id_users'), 'users', ['on_behalf_of_id'], ['id'], ondelete='SET NULL')

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS score_changes_append_only ON score_changes')
        op.execute('DROP FUNCTION IF EXISTS score_changes_append_only()')
    else:
        op.execute('DROP TRIGGER IF EXISTS score_changes_append_only')
    with op.batch_alter_table('score_changes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_score_changes_on_behalf_of_id_users'), type_='foreignkey')
        batch_op.drop_column('on_behalf_of_id')
        batch_op.drop_column('kind')

    with op.batch_alter_table('rescore_request_judges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rescore_request_judges_score_id'))
        batch_op.drop_index(batch_op.f('ix_rescore_request_judges_request_id'))

    op.drop_table('rescore_request_judges')
    op.drop_table('disagreement_flags')
    with op.batch_alter_table('rescore_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rescore_requests_round_id'))

    op.drop_table('rescore_requests')
    op.drop_table('desk_settings')
