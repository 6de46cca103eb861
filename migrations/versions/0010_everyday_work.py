"""Everyday work (issue #11): notices on every move, notifications in both languages, a province's choice of
definition for new products.

- `reminders.kind` may be `move`: the notice of a step a product took, one row per recipient, keyed like the
  other reminders (subject: the history event's id), so the digest and the outbox treat it alike and it is
  never queued twice.
- `notifications.texts`: the title and body in both languages, so a reader who switches language reads the
  bell in the new one (rows written before keep their single-language `title`/`body`).
- `organisations.default_workflow`: the definition a province starts new products under; empty means the
  one in force that day (its `effective_from`/`effective_to`).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("default_workflow", sa.String(length=60), nullable=True))
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("texts", sa.JSON(), nullable=True))
    with op.batch_alter_table("reminders") as batch:
        batch.drop_constraint(batch.f("ck_reminders_kind"), type_="check")
        batch.create_check_constraint(batch.f("ck_reminders_kind"), "kind IN ('stall', 'certificate', 'move')")


def downgrade() -> None:
    op.execute("DELETE FROM reminders WHERE kind = 'move'")
    with op.batch_alter_table("reminders") as batch:
        batch.drop_constraint(batch.f("ck_reminders_kind"), type_="check")
        batch.create_check_constraint(batch.f("ck_reminders_kind"), "kind IN ('stall', 'certificate')")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("texts")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("default_workflow")
