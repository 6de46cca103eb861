"""Plan progress reports (issue #12): an index for the products' first moves.

A report dates each product's idea acceptance (its first move from the idea stage to the plan stage) and
its first submission for assessment (its first move into a review stage) from the history, the largest
table. `ix_product_events_report` (to_state, from_state, product_id, at) answers both from the index
alone: a range per state instead of a scan of every event (bench/reports.py: 1,000,000 events).

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_product_events_report", "product_events", ["to_state", "from_state", "product_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_product_events_report", table_name="product_events")
