"""Database models (SQLAlchemy 2.x, typed). The schema changes only through Alembic migrations."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator

from .folding import fold_name
from .levels import LEVELS

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both SQLite (which stores naive text) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


PRODUCER_KINDS = ("cooperative", "cooperative_group", "enterprise", "household")
APPLICATION_TYPES = ("first_rating", "upgrade", "re_evaluation")


class Organisation(Base):
    """A unit of the administrative tree. `path` (codes from the root, slash-separated) makes
    "everything under this unit" one indexed prefix query; merged or abolished units keep
    their rows and history, closed by `valid_to`."""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(f"level IN {LEVELS}", name="level"),
        # varchar_pattern_ops lets PostgreSQL use the index for `path LIKE 'prefix%'` in any collation
        Index("ix_organisations_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    path: Mapped[str] = mapped_column(String(400))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    # a province's format of certificate numbers (services.certificates.CODE_FIELDS); None: the default
    certificate_format: Mapped[str | None] = mapped_column(String(80))
    # a province's choice of the definition new products start under (issue #11); None: the one in force that day
    default_workflow: Mapped[str | None] = mapped_column(String(60))

    parent: Mapped[Organisation | None] = relationship(remote_side=[id])

    def is_active(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (self.valid_to is None or on <= self.valid_to)

    def contains(self, other: Organisation) -> bool:
        return other.path.startswith(self.path)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")


class Membership(Base):
    """A role a user holds in one organisation."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    # the producer a producer's own account acts for (roles marked `acts_for: producer`), else NULL
    producer_id: Mapped[int | None] = mapped_column(ForeignKey("producers.id", ondelete="CASCADE"), index=True)

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship()


class Producer(Base):
    """The chủ thể: a co-operative, co-operative group, enterprise or household business."""

    __tablename__ = "producers"
    __table_args__ = (CheckConstraint(f"kind IN {PRODUCER_KINDS}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(24))
    tax_code: Mapped[str | None] = mapped_column(String(20))
    commune_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)

    commune: Mapped[Organisation] = relationship()


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint(f"application_type IN {APPLICATION_TYPES}", name="application_type"),
        CheckConstraint("current_star IS NULL OR (current_star BETWEEN 1 AND 5)", name="current_star"),
        # the product list (services.listing): its filters, then the order it shows (newest move first),
        # then what it checks per row (scope, name search), so a page reads one index range backwards
        # and stops after a page, and its capped count reads the index alone
        Index("ix_products_state_entered", "state", "state_entered_at", "id", "commune_id", "name_folded"),
        Index(
            "ix_products_state_group_entered",
            "state",
            "product_group",
            "state_entered_at",
            "id",
            "commune_id",
            "name_folded",
        ),
        Index("ix_products_group_entered", "product_group", "state_entered_at", "id", "commune_id", "name_folded"),
        Index("ix_products_entered", "state_entered_at", "id", "commune_id", "name_folded"),
        # name search is `name_folded LIKE '%word%'`: a trigram index on PostgreSQL, a plain one on SQLite
        Index(
            "ix_products_name_folded",
            "name_folded",
            postgresql_using="gin",
            postgresql_ops={"name_folded": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # lower case without diacritics (ocop_workflow.folding), set whenever `name` is
    name_folded: Mapped[str] = mapped_column(String(200), server_default="")
    product_group: Mapped[str] = mapped_column(String(32))
    subgroup: Mapped[str | None] = mapped_column(String(100))
    producer_id: Mapped[int] = mapped_column(ForeignKey("producers.id"), index=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    workflow_key: Mapped[str] = mapped_column(String(40))
    workflow_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(40))
    state_entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    current_star: Mapped[int | None] = mapped_column(Integer)
    application_type: Mapped[str] = mapped_column(String(16), default="first_rating")
    # when the current application (first rating, upgrade, re-evaluation) started: the documents its
    # definition asks to upload again must be newer than this (a new dossier generation)
    application_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    history_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # Milestones the plan reports count by, set once by the move that reaches them (services/milestones.py).
    idea_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": version}

    producer: Mapped[Producer] = relationship()
    commune: Mapped[Organisation] = relationship()

    @validates("name")
    def _fold_name(self, _key: str, value: str) -> str:
        self.name_folded = fold_name(value)
        return value


class ProductEvent(Base):
    """Append-only history: one row per accepted move, with the dossier it was decided on."""

    __tablename__ = "product_events"
    __table_args__ = (
        UniqueConstraint("product_id", "seq"),
        # plan reports: each product's first move into a stage, from the index alone (migration 0012)
        Index("ix_product_events_report", "to_state", "from_state", "product_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    workflow_key: Mapped[str] = mapped_column(String(40))
    workflow_version: Mapped[int] = mapped_column(Integer)
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(60))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    comment: Mapped[str | None] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    dossier_fingerprint: Mapped[str] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship()


@event.listens_for(ProductEvent, "before_update")
@event.listens_for(ProductEvent, "before_delete")
def _history_is_append_only(mapper, connection, target) -> None:
    raise RuntimeError("product history is append-only")


class Document(Base):
    """Metadata of one uploaded dossier file; the bytes live under `stored_name` in the upload folder."""

    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_product_current", "product_id", "current"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    doc_type: Mapped[str] = mapped_column(String(40))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(100))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    current: Mapped[bool] = mapped_column(Boolean, default=True)

    uploaded_by: Mapped[User | None] = relationship()


class Rating(Base):
    """A council's score and the star it gives; `final` ratings set the product's star."""

    __tablename__ = "ratings"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 100", name="score"),
        CheckConstraint("star BETWEEN 1 AND 5", name="star"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("product_events.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(16))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    score: Mapped[float] = mapped_column(Float)
    star: Mapped[int] = mapped_column(Integer)
    final: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- councils, evaluation rounds and score sheets (issue #9) -------------------------------------
# Decision 148/QĐ-TTg, Art. 8 and the councils' rules (Quy chế hoạt động của Hội đồng): a council set
# up by a decision scores each product of a round (đợt) member by member on its group's sheet; the
# result is the average of the members' totals. A council's positions:
COUNCIL_POSITIONS = ("chair", "vice_chair", "member", "secretary")
ROUND_STATUSES = ("draft", "open", "closed")
# pending: members score it; closed: its result is recorded; left: the product left the round
# (returned for revision, withdrawn, or its dossier changed after it was added)
ROUND_PRODUCT_STATUSES = ("pending", "closed", "left")
SHEET_STATUSES = ("draft", "submitted", "recused")


class Council(Base):
    """An evaluation council (hội đồng đánh giá, phân hạng) of one organisation, as its establishment
    decision sets it up; `level` is the organisation's level (commune: the 1489 commune assessment)."""

    __tablename__ = "councils"
    __table_args__ = (CheckConstraint(f"level IN {LEVELS}", name="level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    decision_number: Mapped[str] = mapped_column(String(64))
    decision_date: Mapped[date] = mapped_column(Date)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    members: Mapped[list[CouncilMember]] = relationship(
        back_populates="council", cascade="all, delete-orphan", order_by="CouncilMember.id"
    )

    def is_valid(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_until is None or on <= self.valid_until)


class CouncilMember(Base):
    __tablename__ = "council_members"
    __table_args__ = (
        UniqueConstraint("council_id", "user_id"),
        CheckConstraint(f"position IN {COUNCIL_POSITIONS}", name="position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    position: Mapped[str] = mapped_column(String(16))

    council: Mapped[Council] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class EvaluationRound(Base):
    """A round (đợt đánh giá): one council meeting on a date over the products the secretariat adds."""

    __tablename__ = "evaluation_rounds"
    __table_args__ = (CheckConstraint(f"status IN {ROUND_STATUSES}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    meeting_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    council: Mapped[Council] = relationship()
    entries: Mapped[list[RoundProduct]] = relationship(back_populates="round", order_by="RoundProduct.id")


class RoundProduct(Base):
    """One product in a round: the dossier its members score (fingerprint fixed when it was added),
    the sheet of its group, and once closed the average, star, outcome and who was present."""

    __tablename__ = "round_products"
    __table_args__ = (
        UniqueConstraint("round_id", "product_id"),
        CheckConstraint(f"status IN {ROUND_PRODUCT_STATUSES}", name="status"),
        Index("ix_round_products_product_status", "product_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_rounds.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    review_state: Mapped[str] = mapped_column(String(40))
    sheet_key: Mapped[str] = mapped_column(String(80))
    dossier_fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_reason: Mapped[str | None] = mapped_column(String(200))
    average: Mapped[float | None] = mapped_column(Float)
    star: Mapped[int | None] = mapped_column(Integer)
    star_cap: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str | None] = mapped_column(String(40))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("product_events.id"))
    present: Mapped[list] = mapped_column(JSON, default=list)  # user ids whose submitted sheets count
    recused: Mapped[list] = mapped_column(JSON, default=list)  # user ids who declared a conflict
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    round: Mapped[EvaluationRound] = relationship(back_populates="entries")
    product: Mapped[Product] = relationship()
    sheets: Mapped[list[ScoreSheet]] = relationship(back_populates="entry", order_by="ScoreSheet.id")


class ScoreSheet(Base):
    """One member's scoring sheet (phiếu đánh giá) for one product of a round: a draft saved as they
    go, then submitted; or a recusal with its reason. `version` makes a save from a stale page fail."""

    __tablename__ = "score_sheets"
    __table_args__ = (
        UniqueConstraint("round_product_id", "user_id"),
        CheckConstraint(f"status IN {SHEET_STATUSES}", name="status"),
        CheckConstraint("total IS NULL OR (total >= 0 AND total <= 100)", name="total"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_product_id: Mapped[int] = mapped_column(ForeignKey("round_products.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    part_totals: Mapped[dict] = mapped_column(JSON, default=dict)
    total: Mapped[float | None] = mapped_column(Float)
    failed_mandatory: Mapped[list] = mapped_column(JSON, default=list)
    recusal_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    entry: Mapped[RoundProduct] = relationship(back_populates="sheets")
    user: Mapped[User] = relationship()


# --- recognition decisions and certificates (issue #10) ------------------------------------------
# Decision 148/QĐ-TTg, Phụ lục II: after the council's result, the People's Committee of the recognising
# level (UBND huyện 3★, UBND tỉnh 4★, the ministry 5★; under 1489 the province 3★ and 4★) decides the
# recognition (quyết định công nhận) and issues each product a certificate valid 36 months.
DECISION_STATUSES = ("draft", "signed")


class RecognitionDecision(Base):
    """A recognition decision of one organisation (its level's People's Committee): drafted by the
    secretariat over the products awaiting that level's recognition, then signed by the chair, which
    moves every listed product on and issues its certificate."""

    __tablename__ = "recognition_decisions"
    __table_args__ = (
        CheckConstraint(f"status IN {DECISION_STATUSES}", name="status"),
        CheckConstraint(f"level IN {LEVELS}", name="level"),
        # a number is unique in its organisation and year (Decree 30/2020, Art. 15: numbering restarts on
        # 1 January), compared without case: services.decisions checks it
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("evaluation_rounds.id"))
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    number: Mapped[str | None] = mapped_column(String(40))
    signed_on: Mapped[date | None] = mapped_column(Date)
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signer_title: Mapped[str | None] = mapped_column(String(200))
    drafted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    organisation: Mapped[Organisation] = relationship()
    round: Mapped[EvaluationRound | None] = relationship()
    signer: Mapped[User | None] = relationship(foreign_keys=[signer_id])
    drafted_by: Mapped[User | None] = relationship(foreign_keys=[drafted_by_id])
    entries: Mapped[list[DecisionProduct]] = relationship(
        back_populates="decision", order_by="DecisionProduct.id", cascade="all, delete-orphan"
    )


class DecisionProduct(Base):
    """One product a decision recognises, with the star and score of the council result it recognises."""

    __tablename__ = "decision_products"
    __table_args__ = (
        UniqueConstraint("decision_id", "product_id"),
        CheckConstraint("star BETWEEN 3 AND 5", name="star"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("recognition_decisions.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    star: Mapped[int] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)
    rating_id: Mapped[int | None] = mapped_column(ForeignKey("ratings.id"))

    decision: Mapped[RecognitionDecision] = relationship(back_populates="entries")
    product: Mapped[Product] = relationship()


class Certificate(Base):
    """An OCOP certificate (giấy chứng nhận). Its status is never stored: valid, expiring and expired
    follow from today and `expires_on`; superseded and revoked from the dates those facts took effect
    (services.certificates.status_of). The product's and producer's names are kept as printed.
    `code` is unique and never reused (a revoked certificate keeps it)."""

    __tablename__ = "certificates"
    __table_args__ = (
        CheckConstraint("star BETWEEN 3 AND 5", name="star"),
        CheckConstraint(f"level IN {LEVELS}", name="level"),
        CheckConstraint("expires_on > issued_on", name="dates"),
        # A product's certificates in order of issue, with what decides whether one is valid on a day: the
        # lookups of the held certificate and the plan reports' passes read the index alone (issue #12).
        Index(
            "ix_certificates_product_issued",
            "product_id",
            "issued_on",
            "star",
            "expires_on",
            "revoked_on",
            "superseded_on",
        ),
        Index("ix_certificates_expires_on", "expires_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    producer_id: Mapped[int] = mapped_column(ForeignKey("producers.id"))
    product_name: Mapped[str] = mapped_column(String(200))
    producer_name: Mapped[str] = mapped_column(String(200))
    star: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(16))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("recognition_decisions.id"), index=True)
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    superseded_on: Mapped[date | None] = mapped_column(Date)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    revoked_on: Mapped[date | None] = mapped_column(Date)
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    revoke_decision: Mapped[str | None] = mapped_column(String(40))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship()
    producer: Mapped[Producer] = relationship()
    organisation: Mapped[Organisation] = relationship()
    decision: Mapped[RecognitionDecision | None] = relationship()
    revoked_by: Mapped[User | None] = relationship()
    superseded_by: Mapped[Certificate | None] = relationship(remote_side=[id])


class CertificateCounter(Base):
    """The last sequence number given in one numbering scope (a province and year): numbers only ever
    go up, so a code is never given twice, even after a revocation."""

    __tablename__ = "certificate_counters"

    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


# --- reminders and notifications (issue #5) ----------------------------------------------------
# The sweep finds stalled products with one range scan per (workflow, version, state):
# WHERE workflow_key=? AND workflow_version=? AND state=? AND state_entered_at < cutoff.
# The same index serves the counts per state in a scope (dashboard, inbox: it holds commune_id, so they
# read it alone): one index fewer for every move to update than one index per use.
Index(
    "ix_products_stalled",
    Product.workflow_key,
    Product.workflow_version,
    Product.state,
    Product.state_entered_at,
    Product.commune_id,
)
# Certificates about to expire: final ratings in a window of decision dates.
Index("ix_ratings_final_at", Rating.final, Rating.at)

REMINDER_KINDS = ("stall", "certificate", "move")
EMAIL_MODES = ("single", "digest", "off")
REMINDER_MAIL_MODES = (*EMAIL_MODES, "dropped")
OUTBOX_KINDS = ("reminder", "digest")
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "cancelled")


class NotificationPreference(Base):
    """How a user wants reminder e-mails: one mail each (default), a daily digest, or none.
    In-app notifications are always written."""

    __tablename__ = "notification_preferences"
    __table_args__ = (CheckConstraint(f"email_mode IN {EMAIL_MODES}", name="email_mode"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    email_mode: Mapped[str] = mapped_column(String(8), default="single")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailOutbox(Base):
    """One e-mail to one recipient, rendered in the recipient's language when it was queued.

    status: pending -> sending (claimed: claim_token, claimed_at) -> sent | pending (retry at
    next_attempt_at) | failed (permanent refusal or too many attempts; an admin may retry) |
    cancelled (the reminder no longer applies). `dedupe_key` makes queueing idempotent.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (
        CheckConstraint(f"status IN {OUTBOX_STATUSES}", name="status"),
        CheckConstraint(f"kind IN {OUTBOX_KINDS}", name="kind"),
        Index("ix_mail_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    claim_token: Mapped[str | None] = mapped_column(String(36))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reminder(Base):
    """The ledger of reminders: one row per recipient of one due reminder.

    The unique key (kind, product, subject, anchor, level, period, user) is what makes a
    second scheduler or a restart queue nothing twice. For a stall: subject is the state,
    anchor the moment the product entered it, level 0 the owning organisation and 1 the
    escalation to its parent, period the repeat number. For a certificate: subject is the
    certificate's code, anchor its issue day, period the days before expiry (90, 30, 0).
    """

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint(
            "kind", "product_id", "subject", "anchor_at", "level", "period", "user_id", name="uq_reminders_once"
        ),
        CheckConstraint(f"kind IN {REMINDER_KINDS}", name="kind"),
        CheckConstraint(f"mail_mode IN {REMINDER_MAIL_MODES}", name="mail_mode"),
        Index("ix_reminders_mail_mode_outbox_id", "mail_mode", "outbox_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(40))
    anchor_at: Mapped[datetime] = mapped_column(UTCDateTime)
    level: Mapped[int] = mapped_column(Integer)
    period: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    mail_mode: Mapped[str] = mapped_column(String(8))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("mail_outbox.id", ondelete="SET NULL"))


class Notification(Base):
    """An in-app notification (the bell), written in the recipient's language."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reminder_id: Mapped[int | None] = mapped_column(ForeignKey("reminders.id", ondelete="CASCADE"), unique=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # both languages, {"vi": {"title", "body"}, "en": {...}}, so a reader who switches language reads it in the
    # new one (issue #11); None on rows written before: `title`/`body` are then the only text
    texts: Mapped[dict | None] = mapped_column(JSON)


# --- personal API tokens (issue #4) ------------------------------------------------------------
class ApiToken(Base):
    """A personal API token: acts as its user, with the user's roles of the day.

    The token is `ocop_<prefix>_<secret>`; only its SHA-256 is stored. `prefix` is public (shown
    in lists, used to find the row); the secret has 256 bits, so one fast hash suffices. A token
    is refused once `revoked_at` or `expires_at` has passed, or when its user is deactivated.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


# --- server-side login sessions and login throttling (issue #8) ----------------------------------
class UserSession(Base):
    """One login: the browser's session and remember cookies carry its random token, the row only
    the token's SHA-256. The server ends it by setting `revoked_at` (logout, password change,
    deactivation); `expires_at` caps its life whatever the cookies say. See services/sessions.py.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    user_agent: Mapped[str | None] = mapped_column(String(200))
    ip: Mapped[str | None] = mapped_column(String(45))

    user: Mapped[User] = relationship()


class LoginFailure(Base):
    """A failed login, counted per account (`kind` "account", key the e-mail typed) and per client
    address (`kind` "ip"). In the database so every process sees the same counts and a restart
    clears nothing; rows older than the throttle window are deleted as new ones come in.
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_kind_key_at", "kind", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# --- the programme's records and plans (issue #12) ---------------------------------------------------
# What plan targets are measured from (reports/indicators.py). Every record carries the dates it holds
# for, so a report "as of" a past day reads the records as they stood then: a listing counts between
# `listed_on` and `removed_on`, a sales point between `opened_on` and `closed_on`, and so on. Each row
# keeps who recorded it and when, for the history of corrections.
class ProductSupport(Base):
    """A Farmers' Association level directly guiding and supporting a product (Decision 615/QĐ-UBND's
    scheme: "trực tiếp hướng dẫn, hỗ trợ ít nhất 10 sản phẩm OCOP mới mỗi năm"): the association of
    `organisation` (a commune, district or province), its officer, from `started_on` (to `ended_on`)."""

    __tablename__ = "product_supports"
    __table_args__ = (CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="dates"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship()
    organisation: Mapped[Organisation] = relationship()
    officer: Mapped[User | None] = relationship(foreign_keys=[officer_id])


class EcommerceListing(Base):
    """A product offered on an e-commerce platform (catalogue `ecommerce_platforms`), from `listed_on`
    until `removed_on` (the scheme's "200 sản phẩm OCOP lên sàn thương mại điện tử")."""

    __tablename__ = "ecommerce_listings"
    __table_args__ = (CheckConstraint("removed_on IS NULL OR removed_on >= listed_on", name="dates"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(String(500))
    listed_on: Mapped[date] = mapped_column(Date)
    removed_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship()


class MaterialArea(Base):
    """A raw-material area (vùng nguyên liệu) in a commune: its size in hectares and, where the
    plant-protection office issued one, its growing-area code (mã số vùng trồng)."""

    __tablename__ = "material_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    commune_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    area_ha: Mapped[float | None] = mapped_column(Float)
    growing_code: Mapped[str | None] = mapped_column(String(40))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    commune: Mapped[Organisation] = relationship()
    links: Mapped[list[MaterialAreaProduct]] = relationship(
        back_populates="area", cascade="all, delete-orphan", order_by="MaterialAreaProduct.id"
    )


class MaterialAreaProduct(Base):
    """A product's production chain tied to a raw-material area, from `linked_on` until `unlinked_on`
    (the scheme's "20–30 sản phẩm có chuỗi sản xuất gắn với vùng nguyên liệu ổn định")."""

    __tablename__ = "material_area_products"
    __table_args__ = (CheckConstraint("unlinked_on IS NULL OR unlinked_on >= linked_on", name="dates"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("material_areas.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    linked_on: Mapped[date] = mapped_column(Date)
    unlinked_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    area: Mapped[MaterialArea] = relationship(back_populates="links")
    product: Mapped[Product] = relationship()


value_chain_members = Table(
    "value_chain_members",
    Base.metadata,
    Column("chain_id", ForeignKey("value_chains.id", ondelete="CASCADE"), primary_key=True),
    Column("producer_id", ForeignKey("producers.id", ondelete="CASCADE"), primary_key=True),
)
value_chain_products = Table(
    "value_chain_products",
    Base.metadata,
    Column("chain_id", ForeignKey("value_chains.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
)


class ValueChain(Base):
    """A value-chain business model (mô hình liên kết chuỗi giá trị) of a unit: its lead co-operative or
    enterprise (a registered producer, or a name), member producers and products. Its status on a day
    follows from three dates: building from `started_on`, working from `working_from`, stopped from
    `stopped_on` (so "4 working models by 2025" can be counted for any past day)."""

    __tablename__ = "value_chains"
    __table_args__ = (
        CheckConstraint("working_from IS NULL OR working_from >= started_on", name="working"),
        CheckConstraint("stopped_on IS NULL OR stopped_on >= started_on", name="stopped"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    lead_producer_id: Mapped[int | None] = mapped_column(ForeignKey("producers.id"))
    lead_name: Mapped[str] = mapped_column(String(200))
    started_on: Mapped[date] = mapped_column(Date)
    working_from: Mapped[date | None] = mapped_column(Date)
    stopped_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    lead_producer: Mapped[Producer | None] = relationship()
    members: Mapped[list[Producer]] = relationship(secondary=value_chain_members, order_by="Producer.name")
    products: Mapped[list[Product]] = relationship(secondary=value_chain_products, order_by="Product.name")

    def status_on(self, day: date) -> str:
        """ "building", "working" or "stopped" on `day`; "planned" before it started."""
        if self.stopped_on is not None and self.stopped_on <= day:
            return "stopped"
        if self.working_from is not None and self.working_from <= day:
            return "working"
        return "building" if self.started_on <= day else "planned"


class SalesPoint(Base):
    """An OCOP sales point (điểm bán, trưng bày sản phẩm OCOP) in a district or commune, open from
    `opened_on` until `closed_on` (the 2023 plan's "ít nhất 01 điểm bán ở mỗi huyện")."""

    __tablename__ = "sales_points"
    __table_args__ = (CheckConstraint("closed_on IS NULL OR closed_on >= opened_on", name="dates"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    address: Mapped[str] = mapped_column(String(300))
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()


class ProductRevenue(Base):
    """A product's revenue over one calendar year in đồng, as its producer declared it (the 2023 plan's
    "doanh thu sau 1 năm được công nhận tăng ít nhất 1,5 lần"). One figure a product a year; a new
    declaration replaces the old one and says who made it and when."""

    __tablename__ = "product_revenues"
    __table_args__ = (
        UniqueConstraint("product_id", "year"),
        CheckConstraint("amount >= 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship()


class Training(Base):
    """A training or outreach session (tập huấn / tuyên truyền) a unit organised, with how many people of
    each kind (catalogue `trainee_roles`) attended."""

    __tablename__ = "trainings"
    __table_args__ = (CheckConstraint("kind IN ('training', 'outreach')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    topic: Mapped[str] = mapped_column(String(300))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    attendance: Mapped[list[TrainingAttendance]] = relationship(
        back_populates="training", cascade="all, delete-orphan", order_by="TrainingAttendance.role"
    )


class TrainingAttendance(Base):
    __tablename__ = "training_attendance"
    __table_args__ = (CheckConstraint("people > 0", name="people"),)

    training_id: Mapped[int] = mapped_column(ForeignKey("trainings.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    people: Mapped[int] = mapped_column(Integer)

    training: Mapped[Training] = relationship(back_populates="attendance")


class Plan(Base):
    """A written OCOP plan (kế hoạch, đề án): its legal basis (the number and date of the decision that
    approved it), the organisation that owns it and the body inside it (the Farmers' Association or the
    OCOP office), and its years, both inclusive. Its targets are `PlanTarget` rows."""

    __tablename__ = "plans"
    __table_args__ = (
        UniqueConstraint("organisation_id", "name"),
        CheckConstraint("body IN ('association', 'office')", name="body"),
        CheckConstraint("last_year >= first_year", name="years"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    basis_number: Mapped[str] = mapped_column(String(60))
    basis_date: Mapped[date] = mapped_column(Date)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    body: Mapped[str] = mapped_column(String(16))
    first_year: Mapped[int] = mapped_column(Integer)
    last_year: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    targets: Mapped[list[PlanTarget]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanTarget.position"
    )


class PlanTarget(Base):
    """One target of a plan: an indicator (reports/indicators.py, a fixed list), for one year or the
    whole period (`year` NULL), for one organisation of the plan's area, compared as `comparison`:
    at_least `low`, at_most `high`, between `low` and `high`, or share_at_least `low` per cent."""

    __tablename__ = "plan_targets"
    __table_args__ = (
        CheckConstraint("comparison IN ('at_least', 'at_most', 'between', 'share_at_least')", name="comparison"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    indicator: Mapped[str] = mapped_column(String(40))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    year: Mapped[int | None] = mapped_column(Integer)
    comparison: Mapped[str] = mapped_column(String(16))
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)

    plan: Mapped[Plan] = relationship(back_populates="targets")
    organisation: Mapped[Organisation] = relationship()
