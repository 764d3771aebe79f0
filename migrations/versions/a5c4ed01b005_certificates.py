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
    # Tables follow (certificate models are being written).
    pass


def downgrade():
    pass
