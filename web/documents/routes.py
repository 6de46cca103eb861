"""Dossier documents: upload (checked by content in the core) and download behind the same access check.

An upload receives and checks its file before it claims the database writer (web.context), and
a download is named with the extension of the file's detected type (`uploads.download_name`).
Whatever its outcome, an upload from the product page goes back to it (303) at the type's row of
the checklist with the type kept (`?doc_type=`): the message of a refused file is shown there once.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required

from ocop_workflow.errors import InvalidData, NotFound
from ocop_workflow.i18n import Text
from ocop_workflow.services.access import get_visible_product as get_product
from ocop_workflow.services.documents import (
    UploadTooLarge,
    attach_document,
    check_attach,
    document_path,
    download_name,
    get_document,
    store_upload,
)

from ..context import actor, db_session, locale, read_session, registry, release_reads, state
from ..forms import choices
from ..products.routes import keep_for_page
from .forms import UploadForm

bp = Blueprint("documents", __name__)


@bp.route("/products/<int:product_id>/documents", methods=["POST"])
@login_required
def upload(product_id: int):
    who, reg, st = actor(), registry(), state()
    form = UploadForm()
    form.doc_type.choices = choices([(k, v.get(locale())) for k, v in reg.catalogue.document_types.items()])
    known = reg.catalogue.document_types
    doc_type = form.doc_type.data if form.doc_type.data in known else ""
    if not form.validate():
        get_product(read_session(), who, product_id)  # an unknown or hidden product is 404 first
        errors = [str(e) for errs in form.errors.values() for e in errs]
        return _back(product_id, doc_type, " ".join([_("Choose a document type and a file."), *errors]))
    storage = form.file.data
    try:
        # reads only: refuse early what this user may not attach; then receive and check the file
        # without the database writer, and claim it (db_session) only for the short INSERT
        check_attach(read_session(), who, product_id, form.doc_type.data, known, reg)
        release_reads()
        stored = store_upload(
            storage.stream, upload_dir=st.upload_dir, max_bytes=st.max_upload_bytes, zip_limits=st.zip_limits
        )
        doc = attach_document(
            db_session(),
            who,
            product_id,
            form.doc_type.data,
            storage.filename or "",
            stored,
            upload_dir=st.upload_dir,
            max_bytes=st.max_upload_bytes,
            known_types=known,
            registry=reg,
        )
    except UploadTooLarge:
        raise
    except InvalidData as exc:
        read_session().rollback()
        return _back(product_id, doc_type, exc.message(locale()))
    flash(_("“%(name)s” has been uploaded.", name=doc.original_name), "success")
    return _back(product_id, doc.doc_type)


def _back(product_id: int, doc_type: str, error: str | None = None):
    """The product page at the type's row, the type kept for the upload form; a refusal's message
    is kept for one showing (303 See Other: the browser loads the page with a GET)."""
    if error is not None:
        keep_for_page(product_id, upload_error=error, doc_type=doc_type)
    url = url_for("products.detail", product_id=product_id, doc_type=doc_type or None)
    return redirect(f"{url}#doc-{doc_type}" if doc_type else f"{url}#upload", code=303 if error else 302)


@bp.route("/documents/<int:document_id>/download")
@login_required
def download(document_id: int):
    doc = get_document(db_session(), actor(), document_id)
    path = document_path(state().upload_dir, doc)
    if not path.is_file():
        raise NotFound(Text("Tệp không còn trên máy chủ", "The file is missing on the server"))
    name = download_name(doc.original_name, doc.content_type)
    response = send_file(
        path, mimetype=doc.content_type, as_attachment=True, download_name=name, etag=doc.sha256, max_age=0
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
