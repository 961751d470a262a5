"""partner answers changed with a reason, recorded

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 02:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('nomination_answer_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nomination_id', sa.Integer(), nullable=False),
    sa.Column('from_answer', sa.String(length=10), nullable=False),
    sa.Column('to_answer', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('api_token_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("from_answer IN ('pending', 'verified', 'rejected')", name=op.f('ck_nomination_answer_changes_from_answer')),
    sa.CheckConstraint("to_answer IN ('verified', 'rejected')", name=op.f('ck_nomination_answer_changes_to_answer')),
    sa.ForeignKeyConstraint(['api_token_id'], ['api_tokens.id'], name=op.f('fk_nomination_answer_changes_api_token_id_api_tokens'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_nomination_answer_changes_changed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['nomination_id'], ['nominations.id'], name=op.f('fk_nomination_answer_changes_nomination_id_nominations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nomination_answer_changes'))
    )
    with op.batch_alter_table('nomination_answer_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nomination_answer_changes_nomination_id'), ['nomination_id'], unique=False)

    # Answers given before the history existed become its first entries, so that every
    # answered nomination has one.
    op.execute(
        "INSERT INTO nomination_answer_changes "
        "(nomination_id, from_answer, to_answer, reason, changed_by_id, created_at) "
        "SELECT id, 'pending', answer, answer_comment, answered_by_id, "
        "COALESCE(answered_at, modified_at) FROM nominations WHERE answer <> 'pending'"
    )


def downgrade():
    with op.batch_alter_table('nomination_answer_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nomination_answer_changes_nomination_id'))

    op.drop_table('nomination_answer_changes')
