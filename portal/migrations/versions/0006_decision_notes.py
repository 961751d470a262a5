"""decision notes kept apart from the message to the student

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 02:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # A staff-only note beside the reason, which the student reads in their timeline.
    with op.batch_alter_table('application_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('application_events', schema=None) as batch_op:
        batch_op.drop_column('note')
