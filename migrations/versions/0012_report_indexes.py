"""Plan progress reports (issue #12): an index for the products' first moves.

A report dates each product's idea acceptance (its first move from the idea stage to the plan stage) and
its first submission for assessment (its first move into a review stage) from the history, the largest
table. `ix_product_events_report` (to_state, from_state, product_id, at) answers both from the index
alone: a range per state instead of a scan of every event (bench/reports.py: 1,000,000 events); the
report itself now reads them from the products' milestone columns (0013), the drill-down from here.

`ix_certificates_product_issued` (product_id, issued_on) becomes a covering index with the star and the
days that decide validity (expires, revoked, superseded): the report's passes over every certificate of a
province (first 3★/4★, valid on a day, re-rated) read the index alone instead of fetching each row
(bench/reports.py: about a tenth of a province's report).

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


COVERING = ["product_id", "issued_on", "star", "expires_on", "revoked_on", "superseded_on"]


def upgrade() -> None:
    op.create_index("ix_product_events_report", "product_events", ["to_state", "from_state", "product_id", "at"])
    with op.batch_alter_table("certificates") as batch:
        batch.drop_index("ix_certificates_product_issued")
        batch.create_index("ix_certificates_product_issued", COVERING, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.drop_index("ix_certificates_product_issued")
        batch.create_index("ix_certificates_product_issued", ["product_id", "issued_on"], unique=False)
    op.drop_index("ix_product_events_report", table_name="product_events")
