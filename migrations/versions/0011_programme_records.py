"""The programme's records and plans (issue #12): what plan targets are measured from.

- `product_supports`: a Farmers' Association level supporting a product (organisation, officer, dates);
- `ecommerce_listings`: a product on an e-commerce platform (catalogue `ecommerce_platforms`), listed/removed;
- `material_areas` and `material_area_products`: raw-material areas and the products tied to them (dates);
- `value_chains` with `value_chain_members` (producers) and `value_chain_products`: value-chain models, their
  status on a day following from started/working/stopped dates;
- `sales_points`: OCOP sales points of a district or commune, opened/closed;
- `product_revenues`: a product's declared revenue for a year (one a product a year);
- `trainings` and `training_attendance`: training and outreach sessions, people by kind;
- `plans` and `plan_targets`: written plans and their targets per indicator, year and organisation.

Only new tables: the downgrade drops them.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "material_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("commune_id", sa.Integer(), nullable=False),
        sa.Column("area_ha", sa.Float(), nullable=True),
        sa.Column("growing_code", sa.String(length=40), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["commune_id"], ["organisations.id"], name=op.f("fk_material_areas_commune_id_organisations")
        ),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_material_areas_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_areas")),
    )
    with op.batch_alter_table("material_areas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_material_areas_commune_id"), ["commune_id"], unique=False)

    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("basis_number", sa.String(length=60), nullable=False),
        sa.Column("basis_date", sa.Date(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.String(length=16), nullable=False),
        sa.Column("first_year", sa.Integer(), nullable=False),
        sa.Column("last_year", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("body IN ('association', 'office')", name=op.f("ck_plans_body")),
        sa.CheckConstraint("last_year >= first_year", name=op.f("ck_plans_years")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_plans_created_by_id_users")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_plans_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("organisation_id", "name", name=op.f("uq_plans_organisation_id_name")),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plans_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "sales_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("closed_on IS NULL OR closed_on >= opened_on", name=op.f("ck_sales_points_dates")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_sales_points_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_sales_points_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_points")),
    )
    with op.batch_alter_table("sales_points", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sales_points_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "trainings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('training', 'outreach')", name=op.f("ck_trainings_kind")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_trainings_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_trainings_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trainings")),
    )
    with op.batch_alter_table("trainings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trainings_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "plan_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=40), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("comparison", sa.String(length=16), nullable=False),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "comparison IN ('at_least', 'at_most', 'between', 'share_at_least')",
            name=op.f("ck_plan_targets_comparison"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_plan_targets_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_targets_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_targets")),
    )
    with op.batch_alter_table("plan_targets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_targets_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "training_attendance",
        sa.Column("training_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.CheckConstraint("people > 0", name=op.f("ck_training_attendance_people")),
        sa.ForeignKeyConstraint(
            ["training_id"],
            ["trainings.id"],
            name=op.f("fk_training_attendance_training_id_trainings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("training_id", "role", name=op.f("pk_training_attendance")),
    )
    op.create_table(
        "value_chains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("lead_producer_id", sa.Integer(), nullable=True),
        sa.Column("lead_name", sa.String(length=200), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("working_from", sa.Date(), nullable=True),
        sa.Column("stopped_on", sa.Date(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("stopped_on IS NULL OR stopped_on >= started_on", name=op.f("ck_value_chains_stopped")),
        sa.CheckConstraint("working_from IS NULL OR working_from >= started_on", name=op.f("ck_value_chains_working")),
        sa.ForeignKeyConstraint(
            ["lead_producer_id"], ["producers.id"], name=op.f("fk_value_chains_lead_producer_id_producers")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_value_chains_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_value_chains_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_value_chains")),
    )
    with op.batch_alter_table("value_chains", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_value_chains_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "ecommerce_listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("listed_on", sa.Date(), nullable=False),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("removed_on IS NULL OR removed_on >= listed_on", name=op.f("ck_ecommerce_listings_dates")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_ecommerce_listings_product_id_products"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_ecommerce_listings_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ecommerce_listings")),
    )
    with op.batch_alter_table("ecommerce_listings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ecommerce_listings_product_id"), ["product_id"], unique=False)

    op.create_table(
        "material_area_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("linked_on", sa.Date(), nullable=False),
        sa.Column("unlinked_on", sa.Date(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "unlinked_on IS NULL OR unlinked_on >= linked_on", name=op.f("ck_material_area_products_dates")
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["material_areas.id"],
            name=op.f("fk_material_area_products_area_id_material_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_material_area_products_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_material_area_products_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_area_products")),
    )
    with op.batch_alter_table("material_area_products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_material_area_products_area_id"), ["area_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_material_area_products_product_id"), ["product_id"], unique=False)

    op.create_table(
        "product_revenues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("declared_by_id", sa.Integer(), nullable=True),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_product_revenues_amount")),
        sa.ForeignKeyConstraint(
            ["declared_by_id"], ["users.id"], name=op.f("fk_product_revenues_declared_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_revenues_product_id_products"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_revenues")),
        sa.UniqueConstraint("product_id", "year", name=op.f("uq_product_revenues_product_id_year")),
    )
    op.create_table(
        "product_supports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name=op.f("ck_product_supports_dates")),
        sa.ForeignKeyConstraint(["officer_id"], ["users.id"], name=op.f("fk_product_supports_officer_id_users")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_product_supports_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_supports_product_id_products"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_product_supports_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_supports")),
    )
    with op.batch_alter_table("product_supports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_supports_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_product_supports_product_id"), ["product_id"], unique=False)

    op.create_table(
        "value_chain_members",
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("producer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chain_id"],
            ["value_chains.id"],
            name=op.f("fk_value_chain_members_chain_id_value_chains"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["producer_id"],
            ["producers.id"],
            name=op.f("fk_value_chain_members_producer_id_producers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chain_id", "producer_id", name=op.f("pk_value_chain_members")),
    )
    op.create_table(
        "value_chain_products",
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chain_id"],
            ["value_chains.id"],
            name=op.f("fk_value_chain_products_chain_id_value_chains"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_value_chain_products_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chain_id", "product_id", name=op.f("pk_value_chain_products")),
    )


def downgrade() -> None:
    op.drop_table("value_chain_products")
    op.drop_table("value_chain_members")
    with op.batch_alter_table("product_supports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_supports_product_id"))
        batch_op.drop_index(batch_op.f("ix_product_supports_organisation_id"))

    op.drop_table("product_supports")
    op.drop_table("product_revenues")
    with op.batch_alter_table("material_area_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_material_area_products_product_id"))
        batch_op.drop_index(batch_op.f("ix_material_area_products_area_id"))

    op.drop_table("material_area_products")
    with op.batch_alter_table("ecommerce_listings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ecommerce_listings_product_id"))

    op.drop_table("ecommerce_listings")
    with op.batch_alter_table("value_chains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_value_chains_organisation_id"))

    op.drop_table("value_chains")
    op.drop_table("training_attendance")
    with op.batch_alter_table("plan_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_targets_plan_id"))

    op.drop_table("plan_targets")
    with op.batch_alter_table("trainings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trainings_organisation_id"))

    op.drop_table("trainings")
    with op.batch_alter_table("sales_points", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_points_organisation_id"))

    op.drop_table("sales_points")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_organisation_id"))

    op.drop_table("plans")
    with op.batch_alter_table("material_areas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_material_areas_commune_id"))

    op.drop_table("material_areas")
