"""Models and core objects as the JSON of schemas.py, labels in the caller's language.

A product's `certified` and `certificate` come from `services.certificates.standings` (issue #10):
"certified" is "holds a certificate valid today", never a stored flag. A page of products reads the
standings of all its products in one query (`prefetch`); a single product reads its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime

from flask import url_for
from sqlalchemy.orm import Session

from ocop_workflow.engine import Registry, WorkflowDefinition
from ocop_workflow.engine.definition import Range
from ocop_workflow.errors import InvalidData
from ocop_workflow.i18n import Text
from ocop_workflow.models import Document, Notification, Organisation, Product, ProductEvent, Rating, User
from ocop_workflow.notify.inbox import notice_text
from ocop_workflow.services.certificates import Standing, local_day, standings
from ocop_workflow.services.listing import Page
from ocop_workflow.services.product_page import ProductView
from ocop_workflow.services.products import TriggerOption

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the days a report or a record may name, as on the web and in the CLI


def json_date(value: object, name: Text, field: str | None = None) -> date | None:
    """A day of a JSON body (YYYY-MM-DD), None when absent; anything else a 422 naming the field."""
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidData(
            Text(f"{name.vi}: «{value}» không phải là một ngày (YYYY-MM-DD)", f"{name.en}: “{value}” is not a date"),
            field=field,
        ) from None


def report_day(raw: str | None, today: date) -> date:
    """A report's as-of day from the query: YYYY-MM-DD within FIRST_YEAR–LAST_YEAR; empty means today (as on
    the web). A malformed or impossible day is a 422 saying the form expected."""
    raw = (raw or "").strip()
    if not raw:
        return today
    try:
        if not _ISO_DAY.fullmatch(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidData(
            Text(
                f"«{raw}» không phải là một ngày có thật: hãy dùng dạng YYYY-MM-DD, ví dụ 2024-12-31",
                f"“{raw}” is not a real date: use YYYY-MM-DD, e.g. 2024-12-31",
            ),
            field="at",
        ) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidData(
            Text(
                f"Ngày báo cáo {raw} nằm ngoài khoảng {FIRST_YEAR}–{LAST_YEAR}",
                f"The report date {raw} lies outside {FIRST_YEAR}–{LAST_YEAR}",
            ),
            field="at",
        )
    return day


def when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


class Serializer:
    def __init__(
        self,
        registry: Registry,
        locale: str,
        session: Session | Callable[[], Session] | None = None,
        today: date | None = None,
        notice_days: int = 90,
    ) -> None:
        self.registry = registry
        self.locale = locale
        self.session = session
        self.today = today
        self.notice_days = notice_days
        self._standings: dict[int, Standing | None] = {}

    # --- certification ---------------------------------------------------------------------------
    def prefetch(self, product_ids: list[int]) -> None:
        """Read the standings of these products in one query (a page of products)."""
        missing = [pid for pid in product_ids if pid not in self._standings]
        if not missing:
            return
        if self.session is None or self.today is None:
            raise RuntimeError("a Serializer without a session and a day cannot tell whether a product is certified")
        session = self.session() if callable(self.session) else self.session
        found = standings(session, missing, self.today, self.notice_days)
        for pid in missing:
            self._standings[pid] = found.get(pid)

    def standing(self, product_id: int) -> Standing | None:
        self.prefetch([product_id])
        return self._standings[product_id]

    def certificate_ref(self, s: Standing | None) -> dict | None:
        if s is None:
            return None
        return {
            "code": s.code,
            "star": s.star,
            "level": s.level,
            "status": s.status,
            "status_label": self.t(s.label),
            "issued_on": s.issued_on.isoformat(),
            "expires_on": s.expires_on.isoformat(),
        }

    def t(self, text: Text | None, fallback: str = "") -> str:
        return text.get(self.locale) if text is not None else fallback

    def org(self, o: Organisation) -> dict:
        return {"id": o.id, "code": o.code, "name": o.name, "level": o.level}

    def user(self, u: User | None) -> dict | None:
        return {"id": u.id, "name": u.name} if u is not None else None

    def summary(self, p: Product) -> dict:
        cat = self.registry.catalogue
        standing = self.standing(p.id)
        d = self.registry.get(p.workflow_key, p.workflow_version)
        return {
            "id": p.id,
            "name": p.name,
            "product_group": p.product_group,
            "product_group_label": self.t(cat.product_groups.get(p.product_group), p.product_group),
            "subgroup": p.subgroup,
            "producer": {
                "id": p.producer.id,
                "name": p.producer.name,
                "kind": p.producer.kind,
                "kind_label": self.t(cat.producer_kinds.get(p.producer.kind), p.producer.kind),
            },
            "commune": self.org(p.commune),
            "workflow": {"key": p.workflow_key, "version": p.workflow_version},
            "state": p.state,
            "state_label": self.t(d.state_label(p.state)),
            "state_entered_at": when(p.state_entered_at),
            "star": p.current_star,
            "certified": bool(standing is not None and standing.certified),
            "certificate": self.certificate_ref(standing),
            "application_type": p.application_type,
            "version": p.version,
        }

    def page(self, page: Page) -> dict:
        self.prefetch([p.id for p in page.items])
        return {
            "items": [self.summary(p) for p in page.items],
            "page": page.page,
            "per_page": page.per_page,
            "pages": page.pages,
            "total": page.total,
            "total_exact": page.exact,
            "has_next": page.has_next,
        }

    def option(self, o: TriggerOption) -> dict:
        return {
            "trigger": o.trigger,
            "label": self.t(o.label),
            "available": o.available,
            "missing": [self.t(m) for m in o.missing],
            "needs_score": o.needs_score,
            "needs_comment": o.needs_comment,
            "destinations": list(o.destinations),
            "allowed_roles": list(o.allowed_roles),
        }

    def document(self, d: Document) -> dict:
        label = self.registry.catalogue.document_types.get(d.doc_type)
        return {
            "id": d.id,
            "product_id": d.product_id,
            "doc_type": d.doc_type,
            "doc_type_label": self.t(label, d.doc_type),
            "original_name": d.original_name,
            "size": d.size,
            "sha256": d.sha256,
            "content_type": d.content_type,
            "uploaded_at": when(d.uploaded_at),
            "uploaded_by": self.user(d.uploaded_by),
            "current": d.current,
            "replaces_id": d.replaces_id,
            "content_url": url_for("api.document_content", document_id=d.id),
        }

    def rating(self, r: Rating) -> dict:
        return {"level": r.level, "score": r.score, "star": r.star, "final": r.final, "at": when(r.at)}

    def detail(self, view: ProductView) -> dict:
        out = self.summary(view.product)
        out["triggers"] = [self.option(o) for o in view.options if o.role_ok]
        out["documents"] = [self.document(d) for d in view.current_documents]
        out["ratings"] = [self.rating(r) for r in view.ratings]
        return out

    def event(self, e: ProductEvent) -> dict:
        return {
            "seq": e.seq,
            "at": when(e.at),
            "trigger": e.trigger,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "actor": self.user(e.actor),
            "comment": e.comment,
            "score": e.score,
            "data": dict(e.data or {}),
            "workflow": {"key": e.workflow_key, "version": e.workflow_version},
            "dossier_fingerprint": e.dossier_fingerprint,
        }

    def workflow_summary(self, d: WorkflowDefinition) -> dict:
        return {
            "key": d.key,
            "version": d.version,
            "ident": d.ident,
            "title": self.t(d.title),
            "legal_basis": d.legal_basis,
            "effective_from": when(d.effective_from),
            "latest": self.registry.latest(d.key).version == d.version,
            "default": d.key == self.registry.default_definition(local_day())[0].key,  # new products today
        }

    @staticmethod
    def _range(r: Range | None) -> dict | None:
        return {"min": r.min, "below": r.below} if r is not None else None

    def workflow(self, d: WorkflowDefinition) -> dict:
        transitions = []
        for t in d.transitions:
            docs = None
            if t.documents is not None:
                docs = {
                    "all": list(t.documents.all),
                    "by_group": {k: list(v) for k, v in t.documents.by_group.items()},
                    "by_producer_kind": {k: list(v) for k, v in t.documents.by_producer_kind.items()},
                }
            rating = None
            if t.rating is not None:
                rating = {
                    "level": t.rating.level,
                    "max_star": t.rating.max_star,
                    "final": t.rating.final,
                    "min_star": t.rating.min_star,
                }
            transitions.append(
                {
                    "trigger": t.trigger,
                    "label": self.t(t.label),
                    "sources": list(t.sources),
                    "dest": t.dest,
                    "on_upgrade": t.on_upgrade,
                    "roles": list(t.roles),
                    "fields": list(t.fields),
                    "needs_score": t.needs_score,
                    "documents": docs,
                    "score": self._range(t.score),
                    "star": self._range(t.star),
                    "rating": rating,
                    "sets": {k: str(v) for k, v in t.sets.items()},
                }
            )
        return {
            "key": d.key,
            "version": d.version,
            "ident": d.ident,
            "title": self.t(d.title),
            "legal_basis": d.legal_basis,
            "effective_from": when(d.effective_from),
            "initial": d.initial,
            "sla_calendar": d.sla_calendar,
            "states": [
                {"key": s.key, "label": self.t(s.label), "level": s.level, "sla_days": s.sla_days, "final": s.final}
                for s in d.states.values()
            ],
            "transitions": transitions,
            "evaluation": {
                "lower_score": d.evaluation.lower_score,
                "quorum": str(d.evaluation.quorum),
                "rounding": d.evaluation.rounding,
                "decimals": d.evaluation.decimals,
                "criteria_set": d.evaluation.criteria_set,
                "source": d.evaluation.source,
            },
        }

    def notification(self, n: Notification) -> dict:
        title, body = notice_text(n, self.locale)  # in the caller's language when the row has both
        return {
            "id": n.id,
            "kind": n.kind,
            "title": title,
            "body": body,
            "link": n.link,
            "product_id": n.product_id,
            "created_at": when(n.created_at),
            "read_at": when(n.read_at),
        }
