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
    # Filled in as the competition models are written.
    pass


def downgrade():
    pass
