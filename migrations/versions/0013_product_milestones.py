"""Product milestones (issue #12): `products.idea_accepted_at` and `products.first_submitted_at`, the first
move from the idea stage to the plan stage and the first move into a review stage, which plan reports count
by (services/milestones.py says why they are kept on the product). Filled from the history here with the
catalogue's stages of this installation; `advance` keeps them from now on.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("idea_accepted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("first_submitted_at", sa.DateTime(timezone=True), nullable=True))
    # The stages are data (workflows/catalogue.yaml): read this installation's, as the code that writes
    # the columns does. A data step of its time: later catalogue changes do not rewrite old rows.
    from ocop_workflow.engine import get_registry
    from ocop_workflow.services.milestones import fill_from_history

    fill_from_history(op.get_bind(), get_registry().catalogue)


def downgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.drop_column("first_submitted_at")
        batch.drop_column("idea_accepted_at")
