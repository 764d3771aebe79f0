"""judging process: round locks, review, decryption, provisional and final snapshots

Revision ID: a5c4ed01b009
Revises: a5c4ed01b008
Create Date: 2026-11-24 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a5c4ed01b009'
down_revision = 'a5c4ed01b008'
branch_labels = None
depends_on = None

# The same statements as judging.process_models (copied: a migration does not import the app's models).
PG_FUNCTION_SQL = ("CREATE OR REPLACE FUNCTION judging_result_snapshots_immutable() RETURNS trigger AS $$ BEGIN "
                   "RAISE EXCEPTION 'result snapshots never change: store a new revision'; END $$ LANGUAGE plpgsql")
PG_TRIGGER_SQL = ("CREATE TRIGGER judging_result_snapshots_no_update BEFORE UPDATE ON judging_result_snapshots "
                  "FOR EACH ROW EXECUTE FUNCTION judging_result_snapshots_immutable()")
SQLITE_TRIGGER_SQL = ("CREATE TRIGGER judging_result_snapshots_no_update BEFORE UPDATE ON judging_result_snapshots "
                      "BEGIN SELECT RAISE(ABORT, 'result snapshots never change: store a new revision'); END")


def upgrade():
    op.create_table('judging_decryptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'done', 'withdrawn', name='decryptionstate', native_enum=False, length=20), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('confirmed_by_id IS NULL OR confirmed_by_id <> started_by_id', name=op.f('ck_judging_decryptions_two_people')),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], name=op.f('fk_judging_decryptions_competition_id_competitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_judging_decryptions_confirmed_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_judging_decryptions_started_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'], name=op.f('fk_judging_decryptions_withdrawn_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_decryptions'))
    )
    op.create_index(op.f('ix_judging_decryptions_competition_id'), 'judging_decryptions', ['competition_id'], unique=False)
    op.create_table('judging_processes',
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('strict', sa.Boolean(), nullable=False),
    sa.Column('stage', sa.Enum('scoring', 'review', 'reviewed', 'decrypted', 'provisional', 'final', name='processstage', native_enum=False, length=20), nullable=False),
    sa.Column('appeal_hours', sa.Integer(), nullable=False),
    sa.Column('review_seed', sa.String(length=64), nullable=False),
    sa.Column('review_sample', sa.JSON(), nullable=False),
    sa.Column('review_started_at', sa.DateTime(), nullable=True),
    sa.Column('review_started_by_id', sa.Integer(), nullable=True),
    sa.Column('full_review', sa.Boolean(), nullable=False),
    sa.Column('full_review_at', sa.DateTime(), nullable=True),
    sa.Column('sample_items', sa.Integer(), nullable=True),
    sa.Column('sample_errors', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('decrypted_at', sa.DateTime(), nullable=True),
    sa.Column('provisional_at', sa.DateTime(), nullable=True),
    sa.Column('provisional_by_id', sa.Integer(), nullable=True),
    sa.Column('appeal_deadline', sa.DateTime(), nullable=True),
    sa.Column('final_at', sa.DateTime(), nullable=True),
    sa.Column('final_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('appeal_hours >= 1 AND appeal_hours <= 720', name=op.f('ck_judging_processes_appeal_hours_range')),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], name=op.f('fk_judging_processes_competition_id_competitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['final_by_id'], ['users.id'], name=op.f('fk_judging_processes_final_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['provisional_by_id'], ['users.id'], name=op.f('fk_judging_processes_provisional_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['review_started_by_id'], ['users.id'], name=op.f('fk_judging_processes_review_started_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('competition_id', name=op.f('pk_judging_processes'))
    )
    op.create_table('judging_result_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('revision >= 1', name=op.f('ck_judging_result_snapshots_revision_positive')),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], name=op.f('fk_judging_result_snapshots_competition_id_competitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_judging_result_snapshots_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_result_snapshots')),
    sa.UniqueConstraint('competition_id', 'revision', name=op.f('uq_judging_result_snapshots_competition_id_revision'))
    )
    op.create_index(op.f('ix_judging_result_snapshots_competition_id'), 'judging_result_snapshots', ['competition_id'], unique=False)
    op.create_table('judging_round_locks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("action IN ('lock', 'unlock')", name=op.f('ck_judging_round_locks_lock_action_known')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_judging_round_locks_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], name=op.f('fk_judging_round_locks_competition_id_competitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['competition_rounds.id'], name=op.f('fk_judging_round_locks_round_id_competition_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_round_locks'))
    )
    op.create_index(op.f('ix_judging_round_locks_competition_id'), 'judging_round_locks', ['competition_id'], unique=False)
    op.create_index(op.f('ix_judging_round_locks_round_id'), 'judging_round_locks', ['round_id'], unique=False)
    op.create_table('judging_review_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('score_id', sa.Integer(), nullable=False),
    sa.Column('entrant_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.Enum('top', 'sample', 'full', name='reviewphase', native_enum=False, length=20), nullable=False),
    sa.Column('state', sa.Enum('pending', 'confirmed', 'corrected', name='reviewstate', native_enum=False, length=20), nullable=False),
    sa.Column('recorded_value', sa.BigInteger(), nullable=False),
    sa.Column('checked_value', sa.BigInteger(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('score_change_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], name=op.f('fk_judging_review_items_competition_id_competitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_judging_review_items_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['entrant_id'], ['entrants.id'], name=op.f('fk_judging_review_items_entrant_id_entrants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['score_change_id'], ['score_changes.id'], name=op.f('fk_judging_review_items_score_change_id_score_changes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['score_id'], ['scores.id'], name=op.f('fk_judging_review_items_score_id_scores'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_review_items')),
    sa.UniqueConstraint('competition_id', 'score_id', name=op.f('uq_judging_review_items_competition_id_score_id'))
    )
    op.create_index(op.f('ix_judging_review_items_competition_id'), 'judging_review_items', ['competition_id'], unique=False)
    op.create_index(op.f('ix_judging_review_items_entrant_id'), 'judging_review_items', ['entrant_id'], unique=False)

    # result snapshots never change: the database refuses an UPDATE (judging.process_models)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION_SQL)
        op.execute(PG_TRIGGER_SQL)
    else:
        op.execute(SQLITE_TRIGGER_SQL)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS judging_result_snapshots_no_update ON judging_result_snapshots")
        op.execute("DROP FUNCTION IF EXISTS judging_result_snapshots_immutable()")
    else:
        op.execute("DROP TRIGGER IF EXISTS judging_result_snapshots_no_update")
    op.drop_index(op.f('ix_judging_review_items_entrant_id'), table_name='judging_review_items')
    op.drop_index(op.f('ix_judging_review_items_competition_id'), table_name='judging_review_items')
    op.drop_table('judging_review_items')
    op.drop_index(op.f('ix_judging_round_locks_round_id'), table_name='judging_round_locks')
    op.drop_index(op.f('ix_judging_round_locks_competition_id'), table_name='judging_round_locks')
    op.drop_table('judging_round_locks')
    op.drop_index(op.f('ix_judging_result_snapshots_competition_id'), table_name='judging_result_snapshots')
    op.drop_table('judging_result_snapshots')
    op.drop_table('judging_processes')
    op.drop_index(op.f('ix_judging_decryptions_competition_id'), table_name='judging_decryptions')
    op.drop_table('judging_decryptions')
