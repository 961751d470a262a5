"""api tokens expire

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 02:40:00

"""
from datetime import UTC, datetime, timedelta

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# Tokens made before expiry existed end this long after the upgrade: the default lifetime of a
# new token. Counting from created_at instead would end an old token on the day of the upgrade,
# with no warning, in exactly the long-running integrations that matter most.
GRACE = timedelta(days=90)


def upgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))

    op.execute(
        sa.text('UPDATE api_tokens SET expires_at = :ends WHERE expires_at IS NULL').bindparams(
            sa.bindparam('ends', datetime.now(UTC) + GRACE, type_=sa.DateTime(timezone=True))
        )
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
