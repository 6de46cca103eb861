"""Initial schema: organisations, users, producers, products, history, documents, ratings.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 01:47:35.579128
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=400), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "level IN ('central', 'province', 'district', 'commune')", name=op.f("ck_organisations_level")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["organisations.id"], name=op.f("fk_organisations_parent_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("code", name=op.f("uq_organisations_code")),
    )
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisations_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(
            "ix_organisations_path", ["path"], unique=False, postgresql_ops={"path": "varchar_pattern_ops"}
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_memberships_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint(
            "user_id", "organisation_id", "role", name=op.f("uq_memberships_user_id_organisation_id_role")
        ),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_memberships_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_memberships_user_id"), ["user_id"], unique=False)

    op.create_table(
        "producers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("tax_code", sa.String(length=20), nullable=True),
        sa.Column("commune_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('cooperative', 'cooperative_group', 'enterprise', 'household')", name=op.f("ck_producers_kind")
        ),
        sa.ForeignKeyConstraint(
            ["commune_id"], ["organisations.id"], name=op.f("fk_producers_commune_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_producers")),
    )
    with op.batch_alter_table("producers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_producers_commune_id"), ["commune_id"], unique=False)

    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("product_group", sa.String(length=32), nullable=False),
        sa.Column("subgroup", sa.String(length=100), nullable=True),
        sa.Column("producer_id", sa.Integer(), nullable=False),
        sa.Column("commune_id", sa.Integer(), nullable=False),
        sa.Column("workflow_key", sa.String(length=40), nullable=False),
        sa.Column("workflow_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("state_entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("current_star", sa.Integer(), nullable=True),
        sa.Column("application_type", sa.String(length=16), nullable=False),
        sa.Column("history_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "application_type IN ('first_rating', 'upgrade', 're_evaluation')",
            name=op.f("ck_products_application_type"),
        ),
        sa.CheckConstraint(
            "current_star IS NULL OR (current_star BETWEEN 1 AND 5)", name=op.f("ck_products_current_star")
        ),
        sa.ForeignKeyConstraint(
            ["commune_id"], ["organisations.id"], name=op.f("fk_products_commune_id_organisations")
        ),
        sa.ForeignKeyConstraint(["producer_id"], ["producers.id"], name=op.f("fk_products_producer_id_producers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_commune_id"), ["commune_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_producer_id"), ["producer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_product_group"), ["product_group"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_state"), ["state"], unique=False)
        batch_op.create_index("ix_products_workflow_state", ["workflow_key", "state"], unique=False)

    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=40), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_documents_product_id_products"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["replaces_id"], ["documents.id"], name=op.f("fk_documents_replaces_id_documents")),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], name=op.f("fk_documents_uploaded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_documents_stored_name")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index("ix_documents_product_current", ["product_id", "current"], unique=False)

    op.create_table(
        "product_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("workflow_key", sa.String(length=40), nullable=False),
        sa.Column("workflow_version", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=40), nullable=True),
        sa.Column("to_state", sa.String(length=40), nullable=False),
        sa.Column("trigger", sa.String(length=60), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("dossier_fingerprint", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_product_events_actor_id_users")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_events_product_id_products"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_events")),
        sa.UniqueConstraint("product_id", "seq", name=op.f("uq_product_events_product_id_seq")),
    )
    with op.batch_alter_table("product_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_events_actor_id"), ["actor_id"], unique=False)

    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("star", sa.Integer(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score >= 0 AND score <= 100", name=op.f("ck_ratings_score")),
        sa.CheckConstraint("star BETWEEN 1 AND 5", name=op.f("ck_ratings_star")),
        sa.ForeignKeyConstraint(
            ["event_id"], ["product_events.id"], name=op.f("fk_ratings_event_id_product_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_ratings_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_ratings_product_id_products"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
    )
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ratings_product_id"), ["product_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ratings_product_id"))

    op.drop_table("ratings")
    with op.batch_alter_table("product_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_events_actor_id"))

    op.drop_table("product_events")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index("ix_documents_product_current")

    op.drop_table("documents")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_workflow_state")
        batch_op.drop_index(batch_op.f("ix_products_state"))
        batch_op.drop_index(batch_op.f("ix_products_product_group"))
        batch_op.drop_index(batch_op.f("ix_products_producer_id"))
        batch_op.drop_index(batch_op.f("ix_products_commune_id"))

    op.drop_table("products")
    with op.batch_alter_table("producers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_producers_commune_id"))

    op.drop_table("producers")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_user_id"))
        batch_op.drop_index(batch_op.f("ix_memberships_organisation_id"))

    op.drop_table("memberships")
    op.drop_table("users")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_index("ix_organisations_path")
        batch_op.drop_index(batch_op.f("ix_organisations_parent_id"))

    op.drop_table("organisations")
