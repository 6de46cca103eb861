"""Products and producers: list with filters, create and edit, the product page and its steps."""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from ocop_workflow.errors import GuardFailed, InvalidData, InvalidTrigger, StaleVersion
from ocop_workflow.formats import format_date
from ocop_workflow.levels import CENTRAL, levels_below
from ocop_workflow.models import PRODUCER_KINDS
from ocop_workflow.services import certificates as cert_service
from ocop_workflow.services import decisions as decision_service
from ocop_workflow.services import producers as producer_service
from ocop_workflow.services.access import get_visible_producer
from ocop_workflow.services.authz import can, require
from ocop_workflow.services.lateness import lateness
from ocop_workflow.services.listing import (
    SORTS,
    ProductFilter,
    get_visible_organisation,
    list_products,
    organisation_options,
)
from ocop_workflow.services.producers import creatable_communes, producers_for_actor, update_producer
from ocop_workflow.services.product_page import ends_product, product_view, step_blockers
from ocop_workflow.services.products import (
    advance,
    create_product,
    definition_for_new,
    definition_of,
    get_product,
    update_product,
)
from ocop_workflow.services.round_pages import may_have_rounds, rounds_of_product

from ..context import actor, db_session, locale, registry, state
from ..documents.forms import UploadForm
from ..errors import status_for
from ..forms import choices
from ..inputs import StaleForm, hidden_int, int_arg
from ..product_records.routes import records_context
from .forms import AdvanceForm, ProducerForm, ProductForm

bp = Blueprint("products", __name__)


def _cache() -> dict:
    """Per-app values computed once: they depend only on the registry (loaded once) and the language."""
    from flask import current_app

    return current_app.extensions.setdefault("ocop_products_cache", {})


def _all_states() -> OrderedDict:
    cache = _cache()
    states = cache.get("states")
    if states is None:
        reg = registry()
        states = OrderedDict()
        for key in reg.keys():  # noqa: SIM118 (a Registry, not a dict)
            for skey, sdef in reg.latest(key).states.items():
                states.setdefault(skey, sdef.label)
        cache["states"] = states
    return states


def _fixed_options(loc: str) -> dict[str, list[tuple[str, str]]]:
    """The choices of the state, group and star filters (without their "all" entry), per language."""
    cache = _cache()
    key = ("filter-options", loc)
    options = cache.get(key)
    if options is None:
        options = cache[key] = {
            "state": [(k, v.get(loc)) for k, v in _all_states().items()],
            "group": [(k, v.get(loc)) for k, v in registry().catalogue.product_groups.items()],
            "star": [(str(i), "★" * i) for i in range(1, 6)],
        }
    return options


ORG_OPTIONS_TTL = 60.0  # seconds; organisations change only through the CLI, and rarely


def _org_options(s, who) -> list[tuple[str, str]]:
    """The organisation filter's choices for the actor's scope, kept a minute per scope in this process."""
    cache = _cache()
    key = ("org-options", tuple(who.scope_paths))
    hit = cache.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < ORG_OPTIONS_TTL:
        return hit[1]
    orgs = [(str(i), name) for i, name, _level in organisation_options(s, who, levels_below(CENTRAL))]
    cache[key] = (now, orgs)
    return orgs


def _options_html(first: str, pairs: list[tuple[str, str]], selected: str) -> Markup:
    """<option> elements, escaped, built in one pass (a template loop over ~150 options costs more than the query)."""
    out = [f'<option value=""{" selected" if not selected else ""}>{escape(first)}</option>']
    out.extend(
        f'<option value="{escape(value)}"{" selected" if value == selected else ""}>{escape(text)}</option>'
        for value, text in pairs
    )
    return Markup("".join(out))


@bp.app_template_global()
def product_rows(items) -> list[tuple]:
    """The cells of the product table (_macros.product_table) for ProductRow items, in the reader's
    language: (id, name, stars, producer, state, state label, commune, since, district, returned,
    lateness), lateness as services.lateness computes it now."""
    reg, loc, tz = registry(), locale(), state().tz  # a fixed offset when the zone allows (web.i18n.fast_timezone)
    since = "%d/%m/%Y %H:%M"  # as web.i18n.datetime_filter (ocop_workflow.formats.format_datetime), both languages
    zone, now = state().settings.timezone, datetime.now(UTC)
    labels: dict[tuple[str, int, str], str] = {}
    rows = []
    for p in items:
        key = (p.workflow_key, p.workflow_version, p.state)
        label = labels.get(key)
        definition = reg.get(p.workflow_key, p.workflow_version)
        if label is None:
            label = labels[key] = definition.state_label(p.state).get(loc)
        rows.append(
            (
                p.id,
                p.name,
                "★" * (p.current_star or 0),
                p.producer_name,
                p.state,
                label,
                p.commune_name,
                p.state_entered_at.astimezone(tz).strftime(since),
                p.district_name,
                p.returned,
                lateness(definition, p.state, p.state_entered_at, now, zone),
            )
        )
    return rows


@bp.app_template_global()
def workflow_moves(definition) -> Markup:
    """The list of every move of a definition (the product page's "All moves"), rendered once per language."""
    key = ("moves", definition.key, definition.version, locale())
    cache = _cache()
    html = cache.get(key)
    if html is None:
        html = cache[key] = Markup(render_template("products/_moves.html", definition=definition))
    return html


@bp.route("/products")
@login_required
def index():
    s, who, reg = db_session(), actor(), registry()
    loc, zone = locale(), _zone()
    fixed = _fixed_options(loc)
    orgs = _org_options(s, who)
    args = request.args
    selects = [
        ("state", _("State"), _options_html(_("All states"), fixed["state"], args.get("state", ""))),
        ("org", _("Organisation"), _options_html(_("All organisations"), orgs, args.get("org", ""))),
        ("group", _("Product group"), _options_html(_("All groups"), fixed["group"], args.get("group", ""))),
        ("star", _("Star"), _options_html(_("Any star"), fixed["star"], args.get("star", ""))),
    ]
    state = args.get("state") or None
    star = int_arg("star")
    flt = ProductFilter(
        state=state if state in _all_states() else None,
        org_id=int_arg("org"),
        group=args.get("group") or None,
        star=star if star is not None and star <= 5 else None,
        q=(args.get("q") or "").strip()[:100] or None,
        waiting=args.get("waiting") == "1",
        page=int_arg("page", 1),
        late=args.get("late") == "1",
        stage=args.get("stage") if args.get("stage") in {st.key for st in reg.catalogue.stages} else None,
        sort=args.get("sort") if args.get("sort") in SORTS else None,
        tz=zone,
    )
    page = list_products(s, reg, who, flt, per_page=_per_page(), rows=True)
    # the certificate column: one query for the page's products, never one per row
    standing = cert_service.standings(s, [p.id for p in page.items], cert_service.local_day(), _notice_days())
    pager_args = {k: v for k, v in args.items() if k != "page" and v}
    return render_template(
        "products/index.html",
        page=page,
        args=pager_args,
        flt=flt,
        selects=selects,
        can_create=can(who, "create_product"),
        standing=standing,
        sorting=("products.index", {k: v for k, v in pager_args.items() if k != "sort"}, flt.sort),
        stage_label=next((st.label for st in reg.catalogue.stages if st.key == flt.stage), None),
    )


def _zone() -> str:
    """The programme's time zone name (deadlines are local days)."""
    return state().settings.timezone


def _per_page() -> int:
    from flask import current_app

    return int(current_app.config["PRODUCTS_PER_PAGE"])


def _workflow_choices(allowed: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """The definitions, those a new product may not start under today marked as such (`allowed`: the keys it
    may; None: no mark, as on the edit form where the definition is not chosen)."""
    reg, loc = registry(), locale()
    not_now = _("not in force today")
    return choices(
        [
            (k, reg.latest(k).title.get(loc) + ("" if allowed is None or k in allowed else f" ({not_now})"))
            for k in reg.keys()  # noqa: SIM118
        ]
    )


def _rules_hint(rules) -> str:
    """Why the rules field holds what it holds: the province's choice, the operator's, or the date."""
    d, loc = rules.definition, locale()
    if rules.reason == "province":
        return _("Chosen by the province for its new products: %(title)s.", title=d.title.get(loc))
    if rules.reason == "operator":
        return _("Set for this installation: %(title)s.", title=d.title.get(loc))
    if d.effective_from and rules.reason == "date":
        return _("Rules in force from %(day)s: %(title)s.", day=format_date(d.effective_from), title=d.title.get(loc))
    return _("No rules are in force on this day; the newest: %(title)s.", title=d.title.get(loc))


@bp.route("/products/new", methods=["GET", "POST"])
@login_required
def create():
    s, who, reg, loc = db_session(), actor(), registry(), locale()
    producers = producers_for_actor(s, who, action="create_product")
    form = ProductForm()
    form.product_group.choices = choices([(k, v.get(loc)) for k, v in reg.catalogue.product_groups.items()])
    form.producer_id.choices = choices(
        [("", _("— Choose the producer —")), *((p.id, f"{p.name} — {p.commune.name}") for p in producers)]
    )
    # the rules of the first producer's province (one province per commune officer); the service decides again
    today = cert_service.local_day()
    rules = definition_for_new(reg, producers[0].commune if producers else None, today)
    form.workflow_key.choices = _workflow_choices(rules.allowed)
    if request.method == "GET":
        form.workflow_key.data = rules.definition.key
        if int_arg("producer"):
            form.producer_id.data = int_arg("producer")
    if form.validate_on_submit():
        try:
            product = create_product(
                s,
                reg,
                who,
                name=form.name.data,
                product_group=form.product_group.data,
                producer_id=form.producer_id.data,
                subgroup=form.subgroup.data,
                workflow_key=form.workflow_key.data,
                check_in_force=True,
            )
        except InvalidData as exc:
            s.rollback()
            target = form.workflow_key if exc.details.get("field") == "workflow_key" else form.name
            target.errors = [*target.errors, exc.message(loc)]
        else:
            flash(_("The product has been registered."), "success")
            return redirect(url_for("products.detail", product_id=product.id))
    return render_template(
        "products/form.html", form=form, product=None, producers=producers, rules_hint=_rules_hint(rules)
    ), (422 if form.errors else 200)


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@login_required
def edit(product_id: int):
    s, who, reg, loc = db_session(), actor(), registry(), locale()
    product = get_product(s, who, product_id)
    require(who, "edit_product", product, definition=definition_of(reg, product))  # the reason, not a form
    form = ProductForm(obj=product if request.method == "GET" else None)
    del form.producer_id, form.workflow_key
    form.product_group.choices = choices([(k, v.get(loc)) for k, v in reg.catalogue.product_groups.items()])
    if request.method == "GET":
        form.expected_version.data = product.version
    if form.validate_on_submit():
        expected = hidden_int(form.expected_version.data)
        try:
            update_product(
                s,
                reg,
                who,
                product_id,
                name=form.name.data,
                product_group=form.product_group.data,
                subgroup=form.subgroup.data,
                expected_version=expected,
            )
        except StaleVersion as exc:
            s.rollback()
            form.expected_version.data = get_product(s, who, product_id).version
            return render_template(
                "products/form.html", form=form, product=product, producers=None, error=exc.message(loc)
            ), 409
        except InvalidData as exc:
            form.name.errors.append(exc.message(loc))
        else:
            flash(_("The product has been saved."), "success")
            return redirect(url_for("products.detail", product_id=product_id))
    return render_template("products/form.html", form=form, product=product, producers=None), (
        422 if form.errors else 200
    )


PAGE_RETURN = "product_page"  # the session key of what a refused step or upload brings back to the page
MAX_KEPT_COMMENT = 1000  # characters of a refused step's comment kept in the (cookie) session; longer: re-rendered


def keep_for_page(product_id: int, **values: object) -> None:
    """What the product page shows once after a redirect: the error, the step's typed comment and
    score (`trigger`, `comment`, `score`), or the upload's error (`upload_error`, `doc_type`)."""
    session[PAGE_RETURN] = {"product": product_id, **values}


def _page_return(product_id: int) -> dict:
    """What `keep_for_page` left for this product, taken once (another product's page leaves it)."""
    kept = session.get(PAGE_RETURN)
    if not isinstance(kept, dict) or kept.get("product") != product_id:
        return {}
    session.pop(PAGE_RETURN, None)
    return kept


def _step_form(option, version: int, kept: dict) -> AdvanceForm:
    values = {"trigger": option.trigger, "expected_version": str(version)}
    if kept.get("trigger") == option.trigger:
        values.update({k: str(kept[k]) for k in ("comment", "score") if kept.get(k)})
    form = AdvanceForm(formdata=MultiDict(values) if len(values) > 2 else None)
    form.trigger.data, form.expected_version.data = option.trigger, version
    return form


def render_detail(
    product_id: int,
    *,
    forms: dict | None = None,
    upload_form: UploadForm | None = None,
    error: str | None = None,
    stale: bool = False,
    status: int = 200,
):
    s, who, reg, loc = db_session(), actor(), registry(), locale()
    view = product_view(s, reg, who, product_id)
    product, definition, events, options = view.product, view.definition, view.events, view.options
    kept = _page_return(product_id)
    if error is None and kept.get("error"):
        error, stale = str(kept["error"]), bool(kept.get("stale"))
    error_at = kept.get("trigger") if error and kept.get("trigger") else None
    if forms:  # a re-rendered form (a comment too long to keep across a redirect): its error sits at its step
        error_at = next(iter(forms))
    mine = [o for o in options if o.role_ok]
    forms = dict(forms or {})
    for option in mine:
        if option.trigger not in forms:
            forms[option.trigger] = _step_form(option, product.version, kept)
    if error_at not in forms:
        error_at = None
    final = {o.trigger for o in mine if ends_product(definition, o.destinations)}
    visited = {e.to_state for e in events} | {e.from_state for e in events if e.from_state}
    flow = [
        (key, sdef, "current" if key == product.state else ("done" if key in visited else "todo"))
        for key, sdef in definition.states.items()
    ]
    moves = view.moves
    last = moves[-1] if moves else None
    return_reason = last if last is not None and last.trigger == "return_for_revision" else None
    checklist, other_documents = view.checklist(reg)
    can_upload = bool(view.attachable)
    chosen = request.args.get("doc_type") or kept.get("doc_type") or ""
    if upload_form is None and can_upload:
        upload_form = UploadForm(formdata=None)
        if chosen in view.attachable:
            upload_form.doc_type.data = chosen
    if upload_form is not None:
        upload_form.doc_type.choices = _doc_type_choices(loc, _upload_order(view.attachable, checklist))
    upload_error = str(kept["upload_error"]) if kept.get("upload_error") else None
    today, notice = cert_service.local_day(), _notice_days()
    certificates = [
        (c, cert_service.status_of(c, today, notice)) for c in cert_service.product_certificates(s, product.id)
    ]
    # the star line's "certified": the standings rule, read only when the product has had a certificate
    standing = cert_service.standings(s, [product.id], today, notice).get(product.id) if certificates else None
    product_decisions = decision_service.product_decisions(s, product.id)
    # a signing step is taken on the decision's page: the product page says so and links the draft that lists it
    signing = [o for o in options if o.signing]
    open_draft = next((d for d in product_decisions if d.status == "draft"), None)
    timeline = view.timeline()
    return render_template(
        "products/detail.html",
        product=product,
        definition=definition,
        events=events,
        timeline=timeline[:HISTORY_SHOWN],
        earlier=timeline[HISTORY_SHOWN:],
        checklist=checklist,
        checklist_missing=sum(1 for row in checklist if not row.ok),
        other_documents=other_documents,
        options=options,
        mine=[o for o in mine if o.trigger not in final],
        final_steps=[o for o in mine if o.trigger in final],
        blockers={o.trigger: step_blockers(reg, o) for o in options},
        forms=forms,
        flow=flow,
        return_reason=return_reason,
        late=lateness(definition, product.state, product.state_entered_at, tz=state().settings.timezone),
        ratings=view.ratings,
        rating_note=view.rating_note,
        product_rounds=rounds_of_product(s, who, product) if may_have_rounds(reg, definition, product, events) else [],
        can_upload=can_upload,
        upload_form=upload_form,
        upload_error=upload_error,
        chosen_type=chosen,
        error=error,
        error_at=error_at,
        stale=stale,
        can_edit=view.can_edit,
        certificates=certificates,
        standing=standing,
        product_decisions=product_decisions,
        decision_labels=decision_service.STATUS_LABELS,
        cert_labels=cert_service.STATUS_LABELS,
        signing=signing,
        open_draft=open_draft,
        **records_context(s, who, product),  # the "Support and market" section (issue #12)
    ), status


HISTORY_SHOWN = 5  # the newest history entries shown open; the earlier ones fold


def _upload_order(attachable: list[str], checklist) -> list[str]:
    """The upload selector's types: what the next step still needs first, then the rest of the
    checklist, then the other types the viewer may attach, in catalogue order."""
    allowed = set(attachable)
    first = [r.doc_type for r in checklist if not r.ok and r.doc_type in allowed]
    then = [r.doc_type for r in checklist if r.ok and r.doc_type in allowed]
    return [*first, *then, *(t for t in attachable if t not in first and t not in then)]


def _notice_days() -> int:
    """The first expiry notice window: inside it a certificate shows as "expiring"."""
    days = state().settings.certificate_notice_days
    return max(days) if days else 90


def _doc_type_choices(loc: str, attachable: list[str]) -> list:
    types = registry().catalogue.document_types
    return choices([(k, types[k].get(loc)) for k in attachable])


@bp.route("/products/<int:product_id>")
@login_required
def detail(product_id: int):
    return render_detail(product_id)


@bp.route("/products/<int:product_id>/advance", methods=["POST"])
@login_required
def advance_view(product_id: int):
    """One step. `advance` reads the product once and answers NotFound (404) first, whatever the
    form holds. A refused step (the form's own errors, a guard, a stale version) redirects (303) to
    the product page at the step, with the message and the typed comment kept for one showing, so
    the address bar never stays on /advance. A step that ends the product (`ends_product`) is
    first run and rolled back (the same guards, nothing written) and answered with a confirmation
    page that states the consequence; only the confirmed form moves the product. The flash names
    the new state from what `advance` returns."""
    s, who, reg, loc = db_session(), actor(), registry(), locale()
    try:
        expected = hidden_int(request.form.get("expected_version"))
    except StaleForm:
        expected = None
    if expected is None:  # a tampered or stale form (400), but an unknown product is 404 first
        get_product(s, who, product_id)
        raise StaleForm()
    form = AdvanceForm()
    trigger = form.trigger.data or ""
    if not form.validate():
        get_product(s, who, product_id)  # an unknown or hidden product is 404 first
        errors = [str(e) for errs in form.errors.values() for e in errs]
        return _refused(product_id, form, " ".join([_("Check the fields of the step you chose."), *errors]), 422)
    data = {"score": float(form.score.data)} if form.score.data is not None else {}
    try:
        move = advance(
            s, reg, product_id, trigger, who, comment=form.comment.data, data=data, expected_version=expected
        )
    except StaleVersion as exc:
        s.rollback()
        return _refused(product_id, form, exc.message(loc), 409, stale=True)
    except (GuardFailed, InvalidTrigger, InvalidData) as exc:
        s.rollback()
        return _refused(product_id, form, exc.message(loc), status_for(exc))
    definition = reg.get(move.workflow_key, move.workflow_version)
    to_state = definition.state_label(move.to_state)
    if request.form.get("confirmed") != "1" and ends_product(definition, [move.to_state]):
        s.rollback()  # a dry run through the same guards: nothing is written before the confirmation
        step = definition.candidates(move.from_state, trigger)[0]
        return render_template(
            "products/confirm.html",
            product=get_product(s, who, product_id),
            step_label=step.label,
            to_state=to_state,
            form=form,
        )
    flash(_("Done: the product is now at “%(state)s”.", state=to_state.get(loc)), "success")
    return redirect(url_for("products.detail", product_id=product_id))


def _refused(product_id: int, form: AdvanceForm, message: str, status: int, *, stale: bool = False):
    """Back to the product page at the step (303) with the message and what was typed; a comment
    too long for the session cookie re-renders the page here instead, with the 4xx status."""
    trigger = form.trigger.data or ""
    comment = form.comment.data or ""
    if len(comment) > MAX_KEPT_COMMENT:
        if stale:
            return render_detail(product_id, error=message, stale=True, status=status)
        return render_detail(product_id, forms={trigger: form}, error=message, status=status)
    score = (request.form.get("score") or "")[:20]
    keep_for_page(product_id, error=message, stale=stale, trigger=trigger, comment=comment, score=score)
    anchor = f"step-{trigger}" if trigger and not stale else "next-steps"
    return redirect(url_for("products.detail", product_id=product_id, _anchor=anchor), code=303)


# --- producers -----------------------------------------------------------------------------------
def _producer_form(form: ProducerForm) -> None:
    loc = locale()
    form.kind.choices = choices([(k, registry().catalogue.producer_kinds[k].get(loc)) for k in PRODUCER_KINDS])
    form.commune_id.choices = choices([(o.id, o.name) for o in creatable_communes(db_session(), actor())])


@bp.route("/producers")
@login_required
def producers():
    s, who = db_session(), actor()
    return render_template(
        "products/producers.html",
        producers=producers_for_actor(s, who),
        editable={p.id for p in producers_for_actor(s, who, action="edit_producer")},
        can_create=bool(creatable_communes(s, who)),
    )


@bp.route("/producers/new", methods=["GET", "POST"])
@login_required
def create_producer():
    s, who, loc = db_session(), actor(), locale()
    form = ProducerForm()
    _producer_form(form)
    if request.method == "GET" and not form.commune_id.choices:
        require(who, "create_producer")  # no commune where it may: say why (a POST is answered by the service)
    if form.validate_on_submit():
        commune = get_visible_organisation(s, who, form.commune_id.data)
        try:
            producer = producer_service.create_producer(
                s,
                who,
                name=form.name.data,
                kind=form.kind.data,
                commune=commune,
                tax_code=(form.tax_code.data or "").strip() or None,
            )
        except InvalidData as exc:
            form.name.errors.append(exc.message(loc))
        else:
            flash(_("The producer has been registered."), "success")
            return redirect(url_for("products.create", producer=producer.id))
    return render_template("products/producer_form.html", form=form, producer=None), (422 if form.errors else 200)


@bp.route("/producers/<int:producer_id>/edit", methods=["GET", "POST"])
@login_required
def edit_producer(producer_id: int):
    s, who, loc = db_session(), actor(), locale()
    producer = get_visible_producer(s, who, producer_id)
    form = ProducerForm(obj=producer if request.method == "GET" else None)
    del form.commune_id
    form.kind.choices = choices([(k, registry().catalogue.producer_kinds[k].get(loc)) for k in PRODUCER_KINDS])
    if form.validate_on_submit():
        try:
            update_producer(
                s,
                who,
                producer_id,
                name=form.name.data,
                kind=form.kind.data,
                tax_code=(form.tax_code.data or "").strip() or None,
            )
        except InvalidData as exc:
            form.name.errors.append(exc.message(loc))
        else:
            flash(_("The producer has been saved."), "success")
            return redirect(url_for("products.producers"))
    return render_template("products/producer_form.html", form=form, producer=producer), (422 if form.errors else 200)
