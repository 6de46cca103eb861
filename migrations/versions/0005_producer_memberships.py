"""Producer accounts act for one producer (issue #8): a membership may name the producer it acts for.

A role the permission file marks `acts_for: producer` (the producer's own account) needs it; the
service that grants memberships checks that, so the column stays nullable for every other role.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("producer_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_memberships_producer_id_producers"), "producers", ["producer_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_index(batch_op.f("ix_memberships_producer_id"), ["producer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_producer_id"))
        batch_op.drop_constraint(batch_op.f("fk_memberships_producer_id_producers"), type_="foreignkey")
        batch_op.drop_column("producer_id")
