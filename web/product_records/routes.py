"""The product page's "Support and market" section (issue #12): the Farmers' Association's support of the
product, its e-commerce listings, its declared revenue by year and the raw-material areas it is tied to,
with small forms to record each.

Views decide nothing: `services.product_records` checks every rule and asks `authz` (forms are shown only
to those it allows). A recorded fact redirects (303) back to the product's section with a flash; a refused
one re-renders its form alone on a page of its own, with the message next to the field and the 4xx status
(422 bad input, 409 already recorded; 403 and 404 are the error pages).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from ocop_workflow.errors import Conflict, InvalidData, OcopError
from ocop_workflow.models import Product
from ocop_workflow.services import product_records as records
from ocop_workflow.services.access import Actor, get_visible_product
from ocop_workflow.services.certificates import local_day

from ..context import actor, db_session, locale, registry
from ..errors import status_for
from ..forms import choices
from .forms import EndSupportForm, ListingForm, RemoveListingForm, RevenueForm, SupportForm

bp = Blueprint("product_records", __name__)
SECTION = "support-market"


def _platforms():
    return registry().catalogue.ecommerce_platforms


def _support_form(view: records.ProductRecords, form: SupportForm) -> SupportForm:
    form.organisation_id.choices = choices([(o.id, o.name) for o in view.organisations])
    return form


def _listing_form(form: ListingForm) -> ListingForm:
    loc = locale()
    form.platform.choices = choices([(k, v.get(loc)) for k, v in _platforms().items()])
    return form


def records_context(s, who: Actor, product: Product) -> dict:
    """What the product page's section needs: the records and, for those who may record, blank forms."""
    view = records.product_records(s, who, product)
    today = local_day()
    forms: dict = {}
    if view.may_support and view.organisations:
        own = {m.organisation_id for m in who.memberships}  # the reader's own unit first
        unit = next((o.id for o in view.organisations if o.id in own), view.organisations[0].id)
        forms["support"] = _support_form(view, SupportForm(formdata=None, organisation_id=unit, started_on=today))
        forms["end"] = EndSupportForm(formdata=None, ended_on=today)
    if view.may_market:
        forms["listing"] = _listing_form(ListingForm(formdata=None, listed_on=today))
        forms["remove"] = RemoveListingForm(formdata=None, removed_on=today)
        forms["revenue"] = RevenueForm(formdata=None, year=str(today.year - 1))
    return {"records": view, "record_forms": forms, "platform_labels": _platforms()}


def _back(product_id: int, message: str):
    flash(message, "success")
    return redirect(url_for("products.detail", product_id=product_id, _anchor=SECTION), code=303)


def _refused(product: Product, kind: str, form, exc: OcopError | None = None, *, subject=None):
    """The form alone, with the service's message next to its field (or above the form)."""
    error, status = None, 422
    if exc is not None:
        status, message = status_for(exc), exc.message(locale())
        name = exc.details.get("field")
        if isinstance(name, str) and name in form._fields:
            form[name].errors = [*form[name].errors, message]
        else:
            error = message
    return render_template(
        "product_records/form.html", product=product, kind=kind, form=form, error=error, subject=subject
    ), status


@bp.route("/products/<int:product_id>/supports", methods=["POST"])
@login_required
def add_support(product_id: int):
    s, who = db_session(), actor()
    product = get_visible_product(s, who, product_id)  # 404 first, whatever the form holds
    view = records.product_records(s, who, product)
    form = _support_form(view, SupportForm())
    if not form.validate():
        return _refused(product, "support", form)
    try:
        found = records.add_support(
            s,
            who,
            product_id,
            organisation_id=form.organisation_id.data,
            officer=form.officer.data,
            started_on=form.started_on.data,
            note=form.note.data,
        )
    except (InvalidData, Conflict) as exc:
        s.rollback()
        return _refused(product, "support", form, exc)
    return _back(product_id, _("Recorded: %(unit)s supports this product.", unit=found.organisation.name))


@bp.route("/products/<int:product_id>/supports/<int:support_id>/end", methods=["POST"])
@login_required
def end_support(product_id: int, support_id: int):
    s, who = db_session(), actor()
    product = get_visible_product(s, who, product_id)
    support = records.get_visible_support(s, who, support_id, product_id)
    form = EndSupportForm()
    if not form.validate():
        return _refused(product, "end", form, subject=support)
    try:
        records.end_support(s, who, support_id, product_id=product_id, ended_on=form.ended_on.data)
    except (InvalidData, Conflict) as exc:
        s.rollback()
        return _refused(product, "end", form, exc, subject=support)
    return _back(product_id, _("The support has been ended."))


@bp.route("/products/<int:product_id>/listings", methods=["POST"])
@login_required
def add_listing(product_id: int):
    s, who = db_session(), actor()
    product = get_visible_product(s, who, product_id)
    form = _listing_form(ListingForm())
    if not form.validate():
        return _refused(product, "listing", form)
    try:
        records.add_listing(
            s,
            who,
            product_id,
            platform=form.platform.data,
            url=form.url.data,
            listed_on=form.listed_on.data,
            platforms=_platforms(),
        )
    except (InvalidData, Conflict) as exc:
        s.rollback()
        return _refused(product, "listing", form, exc)
    return _back(product_id, _("The listing has been recorded."))


@bp.route("/products/<int:product_id>/listings/<int:listing_id>/remove", methods=["POST"])
@login_required
def remove_listing(product_id: int, listing_id: int):
    s, who = db_session(), actor()
    product = get_visible_product(s, who, product_id)
    listing = records.get_visible_listing(s, who, listing_id, product_id)
    form = RemoveListingForm()
    if not form.validate():
        return _refused(product, "remove", form, subject=listing)
    try:
        records.remove_listing(s, who, listing_id, product_id=product_id, removed_on=form.removed_on.data)
    except (InvalidData, Conflict) as exc:
        s.rollback()
        return _refused(product, "remove", form, exc, subject=listing)
    return _back(product_id, _("The listing has been marked as removed."))


@bp.route("/products/<int:product_id>/revenues", methods=["POST"])
@login_required
def set_revenue(product_id: int):
    s, who = db_session(), actor()
    product = get_visible_product(s, who, product_id)
    form = RevenueForm()
    if not form.validate():
        return _refused(product, "revenue", form)
    try:
        row = records.set_revenue(s, who, product_id, form.year.data.strip(), form.amount.data)
    except InvalidData as exc:
        s.rollback()
        return _refused(product, "revenue", form, exc)
    return _back(product_id, _("The revenue of %(year)s has been declared.", year=row.year))
