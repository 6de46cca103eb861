"""Dossier documents: upload (checked by content in the core) and download behind the same access check."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required

from ocop_workflow.errors import InvalidData, NotFound
from ocop_workflow.i18n import Text
from ocop_workflow.services.documents import UploadTooLarge, attach_document, document_path, get_document

from ..context import actor, db_session, locale, registry, state
from ..forms import choices
from ..products.routes import render_detail
from .forms import UploadForm

bp = Blueprint("documents", __name__)


@bp.route("/products/<int:product_id>/documents", methods=["POST"])
@login_required
def upload(product_id: int):  # noqa: ANN201
    s, who, reg, st = db_session(), actor(), registry(), state()
    form = UploadForm()
    form.doc_type.choices = choices([(k, v.get(locale())) for k, v in reg.catalogue.document_types.items()])
    if not form.validate():
        return render_detail(product_id, upload_form=form, status=422,
                             error=_("Choose a document type and a file."))
    storage = form.file.data
    try:
        doc = attach_document(
            s, who, product_id, form.doc_type.data, storage.filename or "", storage.stream,
            upload_dir=st.upload_dir, max_bytes=st.max_upload_bytes, known_types=reg.catalogue.document_types,
            registry=reg,
        )
    except UploadTooLarge:
        raise
    except InvalidData as exc:
        s.rollback()
        form.file.errors.append(exc.message(locale()))
        return render_detail(product_id, upload_form=form, status=422, error=exc.message(locale()))
    flash(_("“%(name)s” has been uploaded.", name=doc.original_name), "success")
    return redirect(url_for("products.detail", product_id=product_id) + "#documents")


@bp.route("/documents/<int:document_id>/download")
@login_required
def download(document_id: int):  # noqa: ANN201
    doc = get_document(db_session(), actor(), document_id)
    path = document_path(state().upload_dir, doc)
    if not path.is_file():
        raise NotFound(Text("Tệp không còn trên máy chủ", "The file is missing on the server"))
    response = send_file(path, mimetype=doc.content_type, as_attachment=True, download_name=doc.original_name,
                         etag=doc.sha256, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
