"""judging: judge profiles, panels, assignments, scores, score history, score request nonces

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
    # Tables follow (judging models are being written).
    pass


def downgrade():
    pass
