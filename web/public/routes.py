"""Public verification of OCOP certificates (issue #10, item 6): pages and JSON that need no login.

- `/xac-minh/<code>`: the page a certificate's QR code opens; `/xac-minh/<code>.json` the same as JSON.
- `/so-dang-ky-ocop`: the register of the certificates in force, with search and filters;
  `/so-dang-ky-ocop.json` the same for e-commerce platforms.

Why these rules:
- Everything shown comes from `services.public_register`, whose values hold only what a certificate prints
  (no ids, documents, scores, users, revocation reason): a template cannot leak what it is never given.
- The pages never write the session (no CSRF token, no form that posts; the language is `?lang=en|vi`,
  else the reader's own choice made elsewhere in the app), so they set no cookie and stay cacheable.
- The JSON answers are the same in every language (labels come in both), carry an ETag and
  `Cache-Control: public, max-age=300`, answer 304 to a matching If-None-Match, and are limited per
  client address (Flask-Limiter; `PUBLIC_JSON_RATE_LIMIT`, the pages `PUBLIC_PAGE_RATE_LIMIT`), with a
  JSON problem body (RFC 9457) on 429 and on every error.
- A code is anything after /xac-minh/ (slashes, unicode, kilobytes): the core refuses what a code never
  holds with NotFound, shown as a 404 page in the reader's language, never a 500.
"""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import HTTPException

from ocop_workflow.errors import InvalidData, OcopError
from ocop_workflow.exports.recognition import verify_url as certificate_url
from ocop_workflow.i18n import LOCALES, Text
from ocop_workflow.services import public_register as public
from ocop_workflow.services.certificates import local_day

from ..context import read_session, registry, rollback_request_session, state
from ..errors import status_for
from ..extensions import limiter

bp = Blueprint("public", __name__)

JSON_SUFFIX = ".json"
PAGE_SIZE = 20
FEED_SIZE = 50
DEFAULT_JSON_LIMIT = "60 per minute"
DEFAULT_PAGE_LIMIT = "300 per minute"
CACHE_CONTROL = "public, max-age=300"
PROBLEM = "application/problem+json"


def _is_json() -> bool:
    return request.path.endswith(JSON_SUFFIX)


def _json_limit() -> str:
    return current_app.config.get("PUBLIC_JSON_RATE_LIMIT", DEFAULT_JSON_LIMIT)


def _page_limit() -> str:
    return current_app.config.get("PUBLIC_PAGE_RATE_LIMIT", DEFAULT_PAGE_LIMIT)


# Per client address (behind a proxy, OCOP_PROXY_COUNT makes it the real client's): one budget for all JSON
# answers, a larger one for the pages a person opens.
json_limit = limiter.shared_limit(
    _json_limit, scope="public-json", key_func=get_remote_address, exempt_when=lambda: not _is_json()
)
page_limit = limiter.shared_limit(_page_limit, scope="public-page", key_func=get_remote_address, exempt_when=_is_json)


# --- language -----------------------------------------------------------------------------------------
@bp.before_request
def _language() -> None:
    """`?lang=en` (or vi) chooses the language of this page without storing anything."""
    chosen = request.args.get("lang")
    if chosen in LOCALES:
        g.ocop_locale = chosen  # web.context.locale(); also makes `g` non-empty, which force_locale needs
        forced = force_locale(chosen)
        forced.__enter__()
        g.public_forced_locale = forced


@bp.teardown_request
def _language_done(exc: BaseException | None) -> None:
    forced = g.pop("public_forced_locale", None)
    if forced is not None:
        forced.__exit__(None, None, None)


def _json_locale() -> str:
    chosen = request.args.get("lang")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or "vi"


def _reader_locale() -> str:
    from ..context import locale

    return locale()


def _switch_links() -> list[tuple[str, str, str]]:
    """(code, label, url) of this page in the other language(s), keeping the query."""
    args = request.args.to_dict()
    out = []
    for code, label in (("vi", "Tiếng Việt"), ("en", "English")):
        if code != _reader_locale():
            args["lang"] = code
            out.append((code, label, f"{request.path}?{urlencode(args)}"))
    return out


@bp.context_processor
def _public_helpers() -> dict:
    return {"public_language_links": _switch_links}


# --- values for pages and JSON --------------------------------------------------------------------------
def _notice_days() -> int:
    days = state().settings.certificate_notice_days
    return max(days) if days else 90


def _today() -> date:
    return local_day()


def verify_url(code: str) -> str:
    """The certificate's public address, the one its QR code prints (OCOP_BASE_URL + /xac-minh/<code>)."""
    return certificate_url(state().settings, code)


def _text(t: Text) -> dict:
    return {"vi": t.vi, "en": t.en}


def _place(p: public.Place | None) -> dict | None:
    return {"code": p.code, "name": p.name} if p is not None else None


def certificate_json(c: public.PublicCertificate) -> dict:
    """One certificate in the JSON answers; the field names are stable (README, "Public verification")."""
    group = registry().catalogue.product_groups.get(c.product_group) or Text(c.product_group, c.product_group)
    level = registry().catalogue.levels.get(c.level) or Text(c.level, c.level)
    return {
        "code": c.code,
        "verify_url": verify_url(c.code),
        "product_name": c.product_name,
        "producer_name": c.producer_name,
        "group": {"key": c.product_group, **_text(group)},
        "star": c.star,
        "status": c.status,
        "status_label": _text(c.status_label),
        "valid": c.counts,
        "issued_on": c.issued_on.isoformat(),
        "expires_on": c.expires_on.isoformat(),
        "recognised_by": {"level": c.level, "level_label": _text(level), "name": c.recognised_by},
        "decision": (
            {"number": c.decision_number, "date": c.decision_date.isoformat() if c.decision_date else None}
            if c.decision_number
            else None
        ),
        "commune": _place(c.commune),
        "district": _place(c.district),
        "province": _place(c.province),
        "revoked": ({"on": c.revoked_on.isoformat(), "decision_number": c.revoke_decision} if c.revoked_on else None),
        "superseded": (
            {
                "on": c.superseded_on.isoformat(),
                "by_code": c.superseded_by,
                "by_url": verify_url(c.superseded_by) if c.superseded_by else None,
            }
            if c.superseded_on
            else None
        ),
    }


def _cacheable_json(body: dict) -> Response:
    """JSON with an ETag of its bytes, public caching for five minutes and 304 on a matching If-None-Match."""
    data = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    response = Response(data, mimetype="application/json")
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Access-Control-Allow-Origin"] = "*"  # public data, read by platforms' own pages too
    response.add_etag()
    return response.make_conditional(request)


# --- query arguments -------------------------------------------------------------------------------------
def _whole(name: str, default: int, label: Text) -> int:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 7:
        raise InvalidData(Text(f"{label.vi} phải là số nguyên dương", f"{label.en} must be a whole number"), field=name)
    return int(raw)


def _choice(name: str) -> str | None:
    value = (request.args.get(name) or "").strip()
    return value or None


def _filter(per_page_default: int, allow_per_page: bool) -> public.RegisterFilter:
    star = _choice("star")
    if star is not None and not (star.isascii() and star.isdigit() and len(star) == 1):
        raise InvalidData(Text("Hạng sao phải là 3, 4 hoặc 5", "The star must be 3, 4 or 5"), field="star")
    per_page = (
        _whole("per_page", per_page_default, Text("Số mục mỗi trang", "per_page"))
        if allow_per_page
        else per_page_default
    )
    return public.RegisterFilter(
        q=(request.args.get("q") or "").strip(),
        province=_choice("province"),
        area=_choice("area"),
        group=_choice("group"),
        star=int(star) if star is not None else None,
        page=_whole("page", 1, Text("Số trang", "page")),
        per_page=per_page,
    )


def _filter_args(flt: public.RegisterFilter) -> dict:
    args = {"q": flt.q, "province": flt.province, "area": flt.area, "group": flt.group, "star": flt.star}
    return {k: v for k, v in args.items() if v not in (None, "")}


def _register(flt: public.RegisterFilter) -> public.RegisterPage:
    groups = list(registry().catalogue.product_groups)
    return public.register(read_session(), flt, _today(), groups=groups, notice_days=_notice_days())


# --- pages ------------------------------------------------------------------------------------------------
@bp.route("/xac-minh", strict_slashes=False)
@page_limit
def verify_form():
    """A box to type a certificate's number (what a label without a QR code prints)."""
    code = (request.args.get("code") or "").strip()
    if code:
        # every character quoted, "/" too: "../x" stays one code (a 404 here), never another address
        target = "/xac-minh/" + quote(code[:200], safe="")
        return redirect(target + ("?" + urlencode(_lang_arg()) if _lang_arg() else ""))
    return render_template("public/verify_form.html")


def _lang_arg() -> dict:
    chosen = request.args.get("lang")
    return {"lang": chosen} if chosen in LOCALES else {}


@bp.route("/xac-minh/<path:code>")
@json_limit
@page_limit
def verify(code: str):
    if code.endswith(JSON_SUFFIX):
        return verification_json(code[: -len(JSON_SUFFIX)])
    cert = public.lookup(read_session(), code, _today(), _notice_days())
    return render_template("public/verify.html", cert=cert, today=_today(), stars_in_words=stars_in_words)


def verification_json(code: str) -> Response:
    """The JSON answer of one certificate, `{as_of, certificate}`, cacheable and open to other sites' pages:
    the public page's `.json` and the API's `/verify/{code}` both answer with it."""
    cert = public.lookup(read_session(), code, _today(), _notice_days())
    return _cacheable_json({"as_of": _today().isoformat(), "certificate": certificate_json(cert)})


def stars_in_words(n: int) -> str:
    return {
        1: _("one star"),
        2: _("two stars"),
        3: _("three stars"),
        4: _("four stars"),
        5: _("five stars"),
    }.get(n, str(n))


@bp.route("/so-dang-ky-ocop")
@page_limit
def register_page():
    flt = _filter(PAGE_SIZE, allow_per_page=False)
    page = _register(flt)
    loc = _reader_locale()
    s = read_session()
    areas = public.area_options(s, flt.province)
    provinces = [(code, name) for code, name, level in public.area_options(s) if level == "province"]
    groups = [(k, v.get(loc)) for k, v in registry().catalogue.product_groups.items()]
    return render_template(
        "public/register.html",
        page=page,
        flt=flt,
        args=_filter_args(flt) | _lang_arg(),
        areas=areas,
        provinces=provinces,
        groups=groups,
        stars=public.STARS,
        feed_url=url_for("public.register_feed", **_filter_args(flt)),
    )


@bp.route("/so-dang-ky-ocop.json")
@json_limit
def register_feed():
    flt = _filter(FEED_SIZE, allow_per_page=True)
    page = _register(flt)
    args = _filter_args(flt)
    if flt.per_page != FEED_SIZE:
        args["per_page"] = flt.per_page
    body = {
        "as_of": page.as_of.isoformat(),
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
        "next": url_for("public.register_feed", page=page.page + 1, **args) if page.has_next else None,
        "prev": url_for("public.register_feed", page=page.page - 1, **args) if page.has_prev else None,
        "items": [certificate_json(c) for c in page.items],
    }
    return _cacheable_json(body)


# --- errors: a public page, or a JSON problem ---------------------------------------------------------------
TITLES = {
    400: Text("Yêu cầu không hợp lệ", "Invalid request"),
    404: Text("Không tìm thấy", "Not found"),
    405: Text("Phương thức không được hỗ trợ", "Method not allowed"),
    422: Text("Dữ liệu không hợp lệ", "Invalid data"),
    429: Text("Quá nhiều yêu cầu", "Too many requests"),
}
CODES = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 422: "invalid_data", 429: "rate_limited"}
TOO_MANY = Text(
    "Quá nhiều yêu cầu từ địa chỉ của bạn. Hãy chờ một phút rồi thử lại.",
    "Too many requests from your address. Wait a minute and try again.",
)


def _error(status: int, detail: Text | None) -> Response | tuple:
    rollback_request_session()
    if _is_json():
        loc = _json_locale()
        title = TITLES.get(status, Text("Lỗi", "Error"))
        body = {
            "type": "about:blank",
            "title": title.get(loc),
            "status": status,
            "detail": (detail or title).get(loc),
            "code": CODES.get(status, "http_error"),
        }
        response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM)
        response.headers["Content-Language"] = loc
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
    loc = _reader_locale()
    title = TITLES.get(status, Text("Lỗi", "Error")).get(loc)
    message = detail.get(loc) if detail is not None else None
    return render_template("public/error.html", status=status, title=title, message=message), status


@bp.errorhandler(OcopError)
def _ocop_error(exc: OcopError):
    return _error(status_for(exc), exc.text)


@bp.errorhandler(429)
def _too_many(exc: HTTPException):
    return _error(429, TOO_MANY)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return _error(exc.code or 500, None)


__all__ = ["bp", "certificate_json", "verify_url"]
