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


def upgrade():
    pass


def downgrade():
    pass
