"""Recognition decisions and certificates (issue #10); the start of a product's current application.

Existing data: every product whose newest final rating gave 3★ or more was "certified" before this
revision; it gets a historic certificate (no decision in the system, issued on the rating's local date,
valid OCOP_CERTIFICATE_MONTHS, 36 by default), numbered in its province's default format, so nothing
that was certified stops being so by upgrading. `application_started_at` starts as the creation time.

Revision ID: 0009
Revises: 0008
"""

import calendar
import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificate_counters",
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_certificate_counters")),
    )
    op.create_table(
        "recognition_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("signer_id", sa.Integer(), nullable=True),
        sa.Column("signer_title", sa.String(length=200), nullable=True),
        sa.Column("drafted_by_id", sa.Integer(), nullable=True),
        sa.Column("drafted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "level IN ('central', 'province', 'district', 'commune')", name=op.f("ck_recognition_decisions_level")
        ),
        sa.CheckConstraint("status IN ('draft', 'signed')", name=op.f("ck_recognition_decisions_status")),
        sa.ForeignKeyConstraint(
            ["drafted_by_id"], ["users.id"], name=op.f("fk_recognition_decisions_drafted_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_recognition_decisions_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["evaluation_rounds.id"], name=op.f("fk_recognition_decisions_round_id_evaluation_rounds")
        ),
        sa.ForeignKeyConstraint(["signer_id"], ["users.id"], name=op.f("fk_recognition_decisions_signer_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognition_decisions")),
    )
    with op.batch_alter_table("recognition_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recognition_decisions_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("producer_id", sa.Integer(), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("producer_name", sa.String(length=200), nullable=False),
        sa.Column("star", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("superseded_on", sa.Date(), nullable=True),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.Column("revoke_decision", sa.String(length=40), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "level IN ('central', 'province', 'district', 'commune')", name=op.f("ck_certificates_level")
        ),
        sa.CheckConstraint("expires_on > issued_on", name=op.f("ck_certificates_dates")),
        sa.CheckConstraint("star BETWEEN 3 AND 5", name=op.f("ck_certificates_star")),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["recognition_decisions.id"],
            name=op.f("fk_certificates_decision_id_recognition_decisions"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_certificates_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(["producer_id"], ["producers.id"], name=op.f("fk_certificates_producer_id_producers")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_certificates_product_id_products"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["revoked_by_id"], ["users.id"], name=op.f("fk_certificates_revoked_by_id_users")),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"], ["certificates.id"], name=op.f("fk_certificates_superseded_by_id_certificates")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("code", name=op.f("uq_certificates_code")),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificates_decision_id"), ["decision_id"], unique=False)
        batch_op.create_index("ix_certificates_expires_on", ["expires_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index("ix_certificates_product_issued", ["product_id", "issued_on"], unique=False)

    op.create_table(
        "decision_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("star", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("rating_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("star BETWEEN 3 AND 5", name=op.f("ck_decision_products_star")),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["recognition_decisions.id"],
            name=op.f("fk_decision_products_decision_id_recognition_decisions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_decision_products_product_id_products"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["rating_id"], ["ratings.id"], name=op.f("fk_decision_products_rating_id_ratings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_products")),
        sa.UniqueConstraint("decision_id", "product_id", name=op.f("uq_decision_products_decision_id_product_id")),
    )
    with op.batch_alter_table("decision_products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decision_products_product_id"), ["product_id"], unique=False)

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("certificate_format", sa.String(length=80), nullable=True))

    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("application_started_at", sa.DateTime(timezone=True), nullable=True))

    _backfill()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a plain column in place (3.35+); batch mode would copy the table and DROP the
        # original, which the foreign keys of producers/products/events refuse once rows point at it.
        op.execute("ALTER TABLE products DROP COLUMN application_started_at")
        op.execute("ALTER TABLE organisations DROP COLUMN certificate_format")
    else:
        op.drop_column("products", "application_started_at")
        op.drop_column("organisations", "certificate_format")

    with op.batch_alter_table("decision_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decision_products_product_id"))

    op.drop_table("decision_products")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index("ix_certificates_product_issued")
        batch_op.drop_index(batch_op.f("ix_certificates_organisation_id"))
        batch_op.drop_index("ix_certificates_expires_on")
        batch_op.drop_index(batch_op.f("ix_certificates_decision_id"))

    op.drop_table("certificates")
    with op.batch_alter_table("recognition_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recognition_decisions_organisation_id"))

    op.drop_table("recognition_decisions")
    op.drop_table("certificate_counters")


def _add_months(d: date, months: int) -> date:
    month0 = d.month - 1 + months
    year, month = d.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _backfill() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE products SET application_started_at = created_at"))
    months = int(os.environ.get("OCOP_CERTIFICATE_MONTHS") or 36)
    tz = ZoneInfo(os.environ.get("OCOP_TIMEZONE") or "Asia/Ho_Chi_Minh")
    orgs = {r.id: r for r in conn.execute(sa.text("SELECT id, code, level, path FROM organisations"))}
    by_code = {r.code: r for r in orgs.values()}
    rows = conn.execute(
        sa.text(
            "SELECT r.product_id, r.star, r.level, r.organisation_id, r.at, p.name, p.producer_id, p.commune_id, "
            "pr.name AS producer_name FROM ratings r JOIN products p ON p.id = r.product_id "
            "JOIN producers pr ON pr.id = p.producer_id WHERE r.final = :yes ORDER BY r.product_id, r.id"
        ),
        {"yes": True},
    ).all()
    newest = {}
    for r in rows:
        newest[r.product_id] = r  # the last final rating of each product
    counters: dict[str, int] = {}
    now = datetime.now(UTC)
    for r in newest.values():
        if r.star < 3:
            continue
        commune = orgs.get(r.commune_id)
        codes = [c for c in (commune.path if commune else "").split("/") if c]
        province = next((by_code[c] for c in codes if c in by_code and by_code[c].level == "province"), None)
        at = r.at if isinstance(r.at, datetime) else datetime.fromisoformat(str(r.at))
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
        issued = at.astimezone(tz).date()
        scope = f"{province.code if province else 'VN'}:{issued.year}"
        counters[scope] = counters.get(scope, 0) + 1
        code = f"OCOP-{province.code if province else 'VN'}-{issued.year}-{counters[scope]:05d}"
        org_id = r.organisation_id or (province.id if province else r.commune_id)
        conn.execute(
            sa.text(
                "INSERT INTO certificates (code, product_id, producer_id, product_name, producer_name, star, level, "
                "organisation_id, issued_on, expires_on, created_at) VALUES (:code, :pid, :producer, :name, "
                ":producer_name, :star, :level, :org, :issued, :expires, :now)"
            ),
            {
                "code": code,
                "pid": r.product_id,
                "producer": r.producer_id,
                "name": r.name,
                "producer_name": r.producer_name,
                "star": r.star,
                "level": r.level,
                "org": org_id,
                "issued": issued,
                "expires": _add_months(issued, months),
                "now": now,
            },
        )
    for scope, last in counters.items():
        conn.execute(sa.text("INSERT INTO certificate_counters (scope, last) VALUES (:s, :n)"), {"s": scope, "n": last})
