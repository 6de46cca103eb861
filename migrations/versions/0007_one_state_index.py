"""One index for the stalled-product sweep and the counts per state (issue #8, the engine benchmark).

`ix_products_stalled` (workflow, version, state, state_entered_at) and
`ix_products_workflow_state_commune` (workflow, version, state, commune_id) both start with the
state, and every move updates both. One index (workflow, version, state, state_entered_at,
commune_id) serves the sweep's range read and lets the counts per state in a scope read the index
alone, as before: a move updates one index fewer.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_workflow_state_commune")
        batch_op.drop_index("ix_products_stalled")
        batch_op.create_index(
            "ix_products_stalled",
            ["workflow_key", "workflow_version", "state", "state_entered_at", "commune_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_stalled")
        batch_op.create_index(
            "ix_products_stalled", ["workflow_key", "workflow_version", "state", "state_entered_at"], unique=False
        )
        batch_op.create_index(
            "ix_products_workflow_state_commune",
            ["workflow_key", "workflow_version", "state", "commune_id"],
            unique=False,
        )
