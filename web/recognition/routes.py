"""Recognition decisions and certificates, the signed-in pages (issue #10).

The recognising level's secretariat drafts a decision over the products awaiting it (grouped by the
evaluation round that closed them), takes products out or deletes the draft; the level's chair signs
it, which issues the certificates and files the DOCX in every product's dossier
(`exports.recognition.sign_and_file_decision`, the one way web, API and CLI sign). The certificate
pages list the certificates in the actor's scope by status, show one with its public address and PDF,
and let the issuing level revoke it. A province sets its certificate number format.

Views decide nothing: every yes/no is the services' (`decisions`, `certificates`, `certificate_pages`,
`authz`), whose typed errors become the status codes of web/errors.py. A failed action re-renders its
page with the message and the status, after rolling the request's transaction back.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from ocop_workflow.errors import Conflict, InvalidData, OcopError, StaleVersion
from ocop_workflow.models import Certificate, Document, EvaluationRound, Organisation, RoundProduct
from ocop_workflow.services import certificate_lists as cert_lists
from ocop_workflow.services import certificates as cert_service
from ocop_workflow.services import decisions as decision_service
from ocop_workflow.services.authz import can, require

from ..context import actor, db_session, locale, registry, state
from ..errors import status_for
from ..forms import choices
from ..inputs import StaleForm, hidden_int, int_arg, parse_id
from .forms import DraftForm, FormatForm, RevokeForm, SignForm, VersionForm

bp = Blueprint("recognition", __name__)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PER_PAGE = 50


def _today():
    return cert_service.local_day()


def _notice_days() -> int:
    """The first notice window (days before expiry): inside it a certificate is "expiring"."""
    days = state().settings.certificate_notice_days
    return max(days) if days else 90


def _message(exc: OcopError) -> str:
    return exc.message(locale())


def _download(data: bytes, mimetype: str, name: str) -> Response:
    from urllib.parse import quote

    from ocop_workflow.folding import fold

    plain = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "-" for ch in fold(name)) or "file"
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- decisions -----------------------------------------------------------------------------------------


def drafting_organisations(s, who) -> list[Organisation]:
    """The organisations (district and above) in the actor's scope for which it may draft decisions."""
    orgs = s.scalars(
        select(Organisation)
        .where(who.subtree(Organisation.id), Organisation.level != "commune")
        .order_by(Organisation.path)
    )
    return [o for o in orgs if can(who, "draft_decisions", o)]


def _rounds_of(s, product_ids: list[int]) -> dict[int, EvaluationRound]:
    """For each product: the latest evaluation round that closed its scoring (one query)."""
    if not product_ids:
        return {}
    rows = s.execute(
        select(RoundProduct.product_id, EvaluationRound)
        .join(EvaluationRound, EvaluationRound.id == RoundProduct.round_id)
        .where(RoundProduct.product_id.in_(product_ids), RoundProduct.status == "closed")
        .order_by(RoundProduct.round_id.desc())
    )
    out: dict[int, EvaluationRound] = {}
    for pid, rnd in rows:
        out.setdefault(pid, rnd)
    return out


def awaiting_panel(s, reg, who) -> list[tuple[Organisation, list[tuple[EvaluationRound | None, list]]]]:
    """For each organisation the actor drafts for: its products awaiting a decision, grouped by round."""
    panel = []
    for org in drafting_organisations(s, who):
        products = decision_service.awaiting_products(s, reg, org)
        if not products:
            continue
        rounds = _rounds_of(s, [p.id for p in products])
        groups: OrderedDict = OrderedDict()
        for p in products:
            rnd = rounds.get(p.id)
            groups.setdefault(rnd.id if rnd else None, (rnd, []))[1].append(p)
        ordered = sorted(groups.values(), key=lambda g: (g[0] is None, -(g[0].id if g[0] else 0)))
        panel.append((org, ordered))
    return panel


@bp.app_template_filter("valid_through")
def valid_through(expires_on) -> str:
    """The last day a certificate counts, dd/mm/yyyy: the day before `expires_on`, as the printed certificate
    says ("Có giá trị đến hết ngày …"), so the page, the list and the paper give one date."""
    return (expires_on - timedelta(days=1)).strftime("%d/%m/%Y") if expires_on else ""


@bp.route("/decisions")
@login_required
def decisions():
    s, who, reg = db_session(), actor(), registry()
    status = request.args.get("status") or None
    if status not in decision_service.STATUS_LABELS:
        status = None
    return render_template(
        "recognition/decisions.html",
        decisions=decision_service.list_decisions(s, who, status=status),
        status=status,
        status_labels=decision_service.STATUS_LABELS,
        panel=awaiting_panel(s, reg, who),
    )


def render_draft_form(form: DraftForm, orgs, *, ticked=None, error=None, status=200):
    s, reg = db_session(), registry()
    org_id = form.organisation_id.data
    org = next((o for o in orgs if o.id == org_id), None)
    round_id = parse_id(form.round_id.data)
    found_round = s.get(EvaluationRound, round_id) if round_id else None
    if found_round is None:
        form.round_id.data, round_id = "", None
    products = decision_service.awaiting_products(s, reg, org, round_id=round_id) if org is not None else []
    rounds = _rounds_of(s, [p.id for p in products])
    if ticked is None:
        ticked = {p.id for p in products}
    return render_template(
        "recognition/draft_form.html",
        form=form,
        organisation=org,
        round=found_round,
        products=products,
        rounds=rounds,
        ticked=ticked,
        error=error,
        orgs=orgs,
    ), status


@bp.route("/decisions/new", methods=["GET", "POST"])
@login_required
def new_decision():
    s, who, reg = db_session(), actor(), registry()
    orgs = drafting_organisations(s, who)
    if not orgs:  # say why (the service would answer the same for a POST)
        require(who, "draft_decisions", None)
        abort(403)
    form = DraftForm()
    form.organisation_id.choices = choices([(o.id, o.name) for o in orgs])
    if request.method == "GET":
        form.organisation_id.data = int_arg("organisation") or orgs[0].id
        form.round_id.data = str(int_arg("round") or "")
        return render_draft_form(form, orgs)
    if not form.validate():
        return render_draft_form(form, orgs, status=422)
    round_id = hidden_int(form.round_id.data)
    raw = request.form.getlist("product_id")
    product_ids = [parse_id(v) for v in raw]
    if any(pid is None for pid in product_ids):
        raise StaleForm()
    if not product_ids:
        return render_draft_form(
            form, orgs, ticked=set(), error=_("Tick at least one product for the decision."), status=422
        )
    try:
        decision = decision_service.draft_decision(
            s,
            reg,
            who,
            organisation_id=form.organisation_id.data,
            round_id=round_id,
            product_ids=product_ids,
            title=(form.title.data or "").strip() or None,
        )
    except InvalidData as exc:
        s.rollback()
        return render_draft_form(form, orgs, ticked=set(product_ids), error=_message(exc), status=status_for(exc))
    flash(_("The draft decision has been saved. Check it, then ask the chair to sign it."), "success")
    return redirect(url_for("recognition.decision", decision_id=decision.id))


def _filed_document(s, decision) -> Document | None:
    """The DOCX a signed decision filed in its products' dossiers (the first product's copy)."""
    if decision.status != "signed" or not decision.entries:
        return None
    ids = [e.product_id for e in decision.entries]
    stmt = select(Document).where(Document.product_id.in_(ids), Document.doc_type == "recognition_decision")
    if decision.signed_at is not None:
        stmt = stmt.where(Document.uploaded_at >= decision.signed_at)
    return s.scalars(stmt.order_by(Document.id)).first()


def render_decision(decision_id: int, *, sign_form=None, error: str | None = None, status: int = 200):
    s, who = db_session(), actor()
    decision = decision_service.get_visible_decision(s, who, decision_id)
    draft = decision.status == "draft"
    can_edit = draft and can(who, "draft_decisions", decision)
    can_sign = draft and can(who, "sign_decisions", decision)
    if can_sign and sign_form is None:
        sign_form = SignForm(formdata=None)
        sign_form.signed_on.data = _today()
        sign_form.signer_title.data = decision_service.SIGNER_TITLES.get(decision.level, "")
    if sign_form is not None:
        sign_form.expected_version.data = decision.version
    certificates = []
    if not draft:
        today, notice = _today(), _notice_days()
        certs = s.scalars(select(Certificate).where(Certificate.decision_id == decision.id).order_by(Certificate.id))
        certificates = cert_lists.with_status(certs, today, notice)
    return render_template(
        "recognition/decision.html",
        decision=decision,
        can_edit=can_edit,
        can_sign=can_sign,
        sign_form=sign_form if can_sign else None,
        action_form=VersionForm(formdata=None),
        certificates=certificates,
        filed=_filed_document(s, decision),
        status_labels=decision_service.STATUS_LABELS,
        error=error,
    ), status


@bp.route("/decisions/<int:decision_id>")
@login_required
def decision(decision_id: int):
    return render_decision(decision_id)


def _draft_action(decision_id: int, run, done: str, target=None):
    """One button of a draft: CSRF and the page's version, the service decides, errors re-render."""
    s, who = db_session(), actor()
    decision_service.get_visible_decision(s, who, decision_id)  # 404 first for a decision out of reach
    form = VersionForm()
    if not form.validate():
        raise StaleForm()
    expected = hidden_int(form.expected_version.data)
    try:
        run(s, who, expected)
    except (InvalidData, Conflict, StaleVersion) as exc:
        s.rollback()
        return render_decision(decision_id, error=_message(exc), status=status_for(exc))
    flash(done, "success")
    return redirect(target or url_for("recognition.decision", decision_id=decision_id))


@bp.route("/decisions/<int:decision_id>/products/<int:product_id>/remove", methods=["POST"])
@login_required
def remove_product(decision_id: int, product_id: int):
    return _draft_action(
        decision_id,
        lambda s, who, v: decision_service.remove_product(s, who, decision_id, product_id, expected_version=v),
        _("The product has been taken out of the draft; it still awaits a decision."),
    )


@bp.route("/decisions/<int:decision_id>/delete", methods=["POST"])
@login_required
def delete_decision(decision_id: int):
    return _draft_action(
        decision_id,
        lambda s, who, v: decision_service.delete_draft(s, who, decision_id, expected_version=v),
        _("The draft decision has been deleted."),
        target=url_for("recognition.decisions"),
    )


@bp.route("/decisions/<int:decision_id>/sign", methods=["POST"])
@login_required
def sign(decision_id: int):
    s, who, reg = db_session(), actor(), registry()
    decision_service.get_visible_decision(s, who, decision_id)
    form = SignForm()
    if not form.validate():
        return render_decision(decision_id, sign_form=form, status=422)
    expected = hidden_int(form.expected_version.data)
    from ocop_workflow.exports.recognition import sign_and_file_decision

    try:
        signed = sign_and_file_decision(
            s,
            reg,
            state().settings,
            who,
            decision_id,
            number=form.number.data,
            signed_on=form.signed_on.data,
            signer_title=(form.signer_title.data or "").strip() or None,
            expected_version=expected,
        )
    except (InvalidData, Conflict, StaleVersion) as exc:
        s.rollback()
        return render_decision(decision_id, sign_form=form, error=_message(exc), status=status_for(exc))
    flash(
        _(
            "Decision %(number)s is signed: %(count)s certificates issued.",
            number=signed.decision.number,
            count=len(signed.certificates),
        ),
        "success",
    )
    return redirect(url_for("recognition.decision", decision_id=decision_id))


@bp.route("/decisions/<int:decision_id>/decision.docx")
@login_required
def decision_docx(decision_id: int):
    s, who = db_session(), actor()
    decision = decision_service.get_visible_decision(s, who, decision_id)
    from ocop_workflow.exports.recognition import decision_docx as build

    # the decision is a legal text in Vietnamese (its body, title and grounds are Vietnamese): one language
    name, data = build(s, registry(), state().settings, decision)
    return _download(data, DOCX, name)


# --- certificates --------------------------------------------------------------------------------------


def format_provinces(s, who) -> list[Organisation]:
    """The provinces whose certificate number format the actor may set."""
    from ocop_workflow.services.listing import provinces_for

    return provinces_for(s, who, "set_certificate_format")


@bp.route("/certificates")
@login_required
def certificates():
    s, who = db_session(), actor()
    status = request.args.get("status") or None
    if status not in cert_lists.STATUSES:
        status = None
    q = (request.args.get("q") or "").strip()[:100]
    today, notice = _today(), _notice_days()
    page = cert_lists.list_certificates(
        s,
        who,
        today=today,
        notice_days=notice,
        statuses=[status] if status else None,
        q=q or None,
        page=int_arg("page", 1),
        per_page=PER_PAGE,
    )
    page.items = cert_lists.with_status(page.items, today, notice)
    args = {k: v for k, v in (("status", status), ("q", q)) if v}
    return render_template(
        "recognition/certificates.html",
        page=page,
        status=status,
        q=q,
        args=args,
        statuses=[(k, cert_service.STATUS_LABELS[k]) for k in cert_lists.STATUSES],
        provinces=format_provinces(s, who),
    )


def render_certificate(code: str, *, revoke_form=None, error: str | None = None, status: int = 200):
    s, who = db_session(), actor()
    cert = cert_service.get_visible_certificate(s, who, code)
    today = _today()
    cert_status = cert_service.status_of(cert, today, _notice_days())
    can_revoke = cert_status in cert_service.COUNTING and can(who, "revoke_certificates", cert)
    if can_revoke and revoke_form is None:
        revoke_form = RevokeForm(formdata=None)
    successor = s.get(Certificate, cert.superseded_by_id) if cert.superseded_by_id else None
    from ocop_workflow.exports.recognition import verify_url

    return render_template(
        "recognition/certificate.html",
        cert=cert,
        status=cert_status,
        label=cert_service.STATUS_LABELS[cert_status],
        can_revoke=can_revoke,
        revoke_form=revoke_form if can_revoke else None,
        successor=successor,
        public_url=verify_url(state().settings, cert.code),
        decision_visible=cert.decision is not None and _sees_decision(s, who, cert.decision_id),
        error=error,
    ), status


def _sees_decision(s, who, decision_id: int) -> bool:
    try:
        decision_service.get_visible_decision(s, who, decision_id)
    except OcopError:
        return False
    return True


@bp.route("/certificates/<code>")
@login_required
def certificate(code: str):
    return render_certificate(code)


@bp.route("/certificates/<code>/revoke", methods=["POST"])
@login_required
def revoke(code: str):
    s, who = db_session(), actor()
    cert_service.get_visible_certificate(s, who, code)  # 404 first
    form = RevokeForm()
    if not form.validate():
        return render_certificate(code, revoke_form=form, status=422)
    try:
        cert = cert_service.revoke_certificate(
            s,
            who,
            code,
            reason=form.reason.data,
            decision_number=form.decision_number.data,
            revoked_on=form.revoked_on.data,
            notice_days=_notice_days(),
        )
    except (InvalidData, Conflict) as exc:
        s.rollback()
        return render_certificate(code, revoke_form=form, error=_message(exc), status=status_for(exc))
    flash(
        _("Certificate %(code)s is revoked from %(date)s.", code=cert.code, date=cert.revoked_on.strftime("%d/%m/%Y")),
        "success",
    )
    return redirect(url_for("recognition.certificate", code=cert.code))


@bp.route("/certificates/<code>/certificate.pdf")
@login_required
def certificate_pdf(code: str):
    s, who = db_session(), actor()
    cert = cert_service.get_visible_certificate(s, who, code)
    from ocop_workflow.exports.recognition import certificate_pdf as build

    name, data = build(s, registry(), state().settings, cert, locale())
    return _download(data, "application/pdf", name)


@bp.route("/organisations/<int:org_id>/certificate-format", methods=["GET", "POST"])
@login_required
def certificate_format(org_id: int):
    from ocop_workflow.services.listing import get_visible_organisation

    s, who = db_session(), actor()
    org = get_visible_organisation(s, who, org_id)
    require(who, "set_certificate_format", org)
    default = state().settings.certificate_format
    form = FormatForm()
    error, status = None, 200
    if request.method == "GET":
        form.format.data = org.certificate_format or ""
    elif not form.validate():
        status = 422
    else:
        try:
            cert_lists.set_certificate_format(s, who, org, form.format.data)
        except InvalidData as exc:
            s.rollback()
            error, status = _message(exc), status_for(exc)
        else:
            fmt = org.certificate_format or default
            flash(
                _(
                    "The format is saved. The next certificate will look like %(code)s.",
                    code=cert_lists.format_preview(s, fmt, org, _today()),
                ),
                "success",
            )
            return redirect(url_for("recognition.certificate_format", org_id=org.id))
    current = org.certificate_format or default
    return render_template(
        "recognition/format.html",
        form=form,
        organisation=org,
        current=current,
        default=default,
        preview=cert_lists.format_preview(s, current, org, _today()),
        fields=", ".join("{" + f + "}" for f in cert_service.CODE_FIELDS),
        error=error,
    ), status
