"""Councils, evaluation rounds, the products in each round and the members' score sheets (issue #9).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LEVELS = "('central', 'province', 'district', 'commune')"


def upgrade() -> None:
    op.create_table(
        "councils",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("decision_number", sa.String(length=64), nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"level IN {LEVELS}", name=op.f("ck_councils_level")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_councils_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_councils")),
    )
    op.create_index(op.f("ix_councils_organisation_id"), "councils", ["organisation_id"], unique=False)
    op.create_table(
        "council_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "position IN ('chair', 'vice_chair', 'member', 'secretary')", name=op.f("ck_council_members_position")
        ),
        sa.ForeignKeyConstraint(
            ["council_id"], ["councils.id"], name=op.f("fk_council_members_council_id_councils"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_council_members_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_members")),
        sa.UniqueConstraint("council_id", "user_id", name=op.f("uq_council_members_council_id_user_id")),
    )
    op.create_index(op.f("ix_council_members_user_id"), "council_members", ["user_id"], unique=False)
    op.create_table(
        "evaluation_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'open', 'closed')", name=op.f("ck_evaluation_rounds_status")),
        sa.ForeignKeyConstraint(["council_id"], ["councils.id"], name=op.f("fk_evaluation_rounds_council_id_councils")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_evaluation_rounds_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_rounds")),
    )
    op.create_index(op.f("ix_evaluation_rounds_council_id"), "evaluation_rounds", ["council_id"], unique=False)
    op.create_table(
        "round_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("review_state", sa.String(length=40), nullable=False),
        sa.Column("sheet_key", sa.String(length=80), nullable=False),
        sa.Column("dossier_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_reason", sa.String(length=200), nullable=True),
        sa.Column("average", sa.Float(), nullable=True),
        sa.Column("star", sa.Integer(), nullable=True),
        sa.Column("star_cap", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("to_state", sa.String(length=40), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("present", sa.JSON(), nullable=False),
        sa.Column("recused", sa.JSON(), nullable=False),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'closed', 'left')", name=op.f("ck_round_products_status")),
        sa.ForeignKeyConstraint(["added_by_id"], ["users.id"], name=op.f("fk_round_products_added_by_id_users")),
        sa.ForeignKeyConstraint(["closed_by_id"], ["users.id"], name=op.f("fk_round_products_closed_by_id_users")),
        sa.ForeignKeyConstraint(
            ["event_id"], ["product_events.id"], name=op.f("fk_round_products_event_id_product_events")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_round_products_product_id_products"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["evaluation_rounds.id"],
            name=op.f("fk_round_products_round_id_evaluation_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_products")),
        sa.UniqueConstraint("round_id", "product_id", name=op.f("uq_round_products_round_id_product_id")),
    )
    op.create_index("ix_round_products_product_status", "round_products", ["product_id", "status"], unique=False)
    op.create_table(
        "score_sheets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_product_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("part_totals", sa.JSON(), nullable=False),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("failed_mandatory", sa.JSON(), nullable=False),
        sa.Column("recusal_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'submitted', 'recused')", name=op.f("ck_score_sheets_status")),
        sa.CheckConstraint("total IS NULL OR (total >= 0 AND total <= 100)", name=op.f("ck_score_sheets_total")),
        sa.ForeignKeyConstraint(
            ["round_product_id"],
            ["round_products.id"],
            name=op.f("fk_score_sheets_round_product_id_round_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_score_sheets_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_sheets")),
        sa.UniqueConstraint("round_product_id", "user_id", name=op.f("uq_score_sheets_round_product_id_user_id")),
    )
    op.create_index(op.f("ix_score_sheets_user_id"), "score_sheets", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("score_sheets")
    op.drop_table("round_products")
    op.drop_table("evaluation_rounds")
    op.drop_table("council_members")
    op.drop_table("councils")
