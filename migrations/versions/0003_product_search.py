"""Product search column and list indexes.

`products.name_folded` holds the name in lower case without diacritics (đ → d), filled here for
existing rows with the same Python function the application uses (ocop_workflow.folding), so a
search for "vai thieu" is `name_folded LIKE '%vai%' AND name_folded LIKE '%thieu%'`.

The column is added NOT NULL with an empty default, which both databases do in place (ALTER TABLE
ADD COLUMN). Nothing here recreates `products` in SQLite's batch mode: dropping the old table with
foreign keys on would cascade into the product history.

Indexes for the product list: its equality filters (state; state and group; group; none), then the
order it shows (state_entered_at, id), then what is checked per row (commune_id for the scope,
name_folded for a search). A page reads one index range backwards and stops after a page; the
capped count reads the index alone. One on (workflow_key, workflow_version, state, commune_id)
makes the counts per state of a scope an index-only pass. They replace 0001's indexes on state,
on product_group and on (workflow_key, state), whose leading columns they share.

The name index is a trigram GIN index on PostgreSQL (extension pg_trgm, trusted since PostgreSQL
13, left installed on downgrade since other objects may use it) and a plain index on SQLite.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BATCH = 2000
INDEXES = [
    ("ix_products_workflow_state_commune", ["workflow_key", "workflow_version", "state", "commune_id"]),
    ("ix_products_state_entered", ["state", "state_entered_at", "id", "commune_id", "name_folded"]),
    (
        "ix_products_state_group_entered",
        ["state", "product_group", "state_entered_at", "id", "commune_id", "name_folded"],
    ),
    ("ix_products_group_entered", ["product_group", "state_entered_at", "id", "commune_id", "name_folded"]),
    ("ix_products_entered", ["state_entered_at", "id", "commune_id", "name_folded"]),
]
REPLACED = [  # (name, columns) of 0001's indexes that the ones above make redundant
    ("ix_products_workflow_state", ["workflow_key", "state"]),
    ("ix_products_state", ["state"]),
    ("ix_products_product_group", ["product_group"]),
]


def _fold(text: str | None) -> str:
    from ocop_workflow.folding import fold_name

    return fold_name(text)


def _backfill(bind: sa.Connection) -> None:
    """Fold every existing name, in batches by id (no table held in memory, no long statements)."""
    products = sa.table(
        "products", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("name_folded", sa.String)
    )
    update = sa.update(products).where(products.c.id == sa.bindparam("pid")).values(name_folded=sa.bindparam("folded"))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(products.c.id, products.c.name).where(products.c.id > last).order_by(products.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(update, [{"pid": pid, "folded": _fold(name)} for pid, name in rows])
        last = rows[-1][0]


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    op.add_column("products", sa.Column("name_folded", sa.String(length=200), server_default="", nullable=False))
    _backfill(bind)
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table("products", schema=None, recreate="never") as batch_op:
        for name, _columns in REPLACED:
            batch_op.drop_index(name)
        for name, columns in INDEXES:
            batch_op.create_index(name, columns, unique=False)
        batch_op.create_index(
            "ix_products_name_folded",
            ["name_folded"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"name_folded": "gin_trgm_ops"},
        )


def downgrade() -> None:
    with op.batch_alter_table("products", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ix_products_name_folded")
        for name, _columns in reversed(INDEXES):
            batch_op.drop_index(name)
        for name, columns in reversed(REPLACED):
            batch_op.create_index(name, columns, unique=False)
    with op.batch_alter_table("products", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("name_folded")
