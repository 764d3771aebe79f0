"""notifications: outbox messages, message templates, reminder settings, registration language

Revision ID: a5c4ed01b002
Revises: a5c4ed01b001
Create Date: 2026-11-25 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a5c4ed01b002'
down_revision = 'a5c4ed01b001'
branch_labels = None
depends_on = None


def upgrade():
    # Filled in as the notifications models are written.
    pass


def downgrade():
    pass
