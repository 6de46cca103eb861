"""Languages: Flask-Babel with Vietnamese by default, the choice remembered per user.

The catalogue lives in web/translations (messages.pot, vi and en .po). Compiled .mo files
are produced from the .po files when the app starts (and only when missing or older), so
the repository holds the sources only.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timezone, tzinfo
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request, session
from flask_babel import format_datetime
from flask_login import current_user

from ocop_workflow.formats import format_datetime as format_datetime_for
from ocop_workflow.formats import format_number, format_size
from ocop_workflow.i18n import LOCALES, Text

log = logging.getLogger(__name__)
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


@lru_cache
def fast_timezone(name: str) -> tzinfo:
    """The zone `name` as the tzinfo the web shows times in.

    A zone without daylight saving or any other change of offset in 2000-2100 is returned as a fixed offset:
    converting with a fixed offset is about ten times faster than with zoneinfo (a product list converts
    every row's time), and gives the same result for every time this application stores. Asia/Ho_Chi_Minh,
    the default, has been UTC+7 all year since 1975. Any other zone keeps its zoneinfo rules.
    """
    zone = ZoneInfo(name)
    offsets = {
        datetime(year, month, 1, tzinfo=UTC).astimezone(zone).utcoffset()
        for year in range(2000, 2101)
        for month in range(1, 13)
    }
    if len(offsets) == 1:
        return timezone(offsets.pop(), name)
    return zone


def compile_catalogues(directory: Path = TRANSLATIONS) -> list[Path]:
    """Write messages.mo next to each messages.po that is newer; returns the files written."""
    written = []
    for po in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with open(po, "rb") as fh:
            catalog = read_po(fh, locale=po.parent.parent.name)
        tmp = mo.with_suffix(".mo.tmp")
        try:
            with open(tmp, "wb") as fh:
                write_mo(fh, catalog)
            tmp.replace(mo)
            written.append(mo)
        except OSError as exc:  # a read-only install: keep whatever .mo is there
            log.warning("cannot write %s: %s", mo, exc)
    return written


def select_locale() -> str:
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    return "vi"


def select_timezone() -> str:
    from .context import state

    return state().settings.timezone


def text_filter(value: Text | str | None) -> str:
    """A core bilingual text in the reader's language."""
    if value is None:
        return ""
    if isinstance(value, Text):
        from .context import locale

        return value.get(locale())
    return str(value)


def datetime_filter(value, fmt: str = "short") -> str:
    """A time in the programme's time zone (OCOP_TIMEZONE): "23/11/2026 09:06" in both languages."""
    if value is None:
        return ""
    if fmt != "short":
        return format_datetime(value, fmt)
    from .context import locale, state

    return format_datetime_for(value, locale(), state().tz)


def number_filter(value: object, places: int | None = None) -> str:
    """A number for people in the reader's language: 85,5 (vi) / 85.5 (en); `places` fixes the decimals."""
    from .context import locale

    return format_number(value, locale(), places)


def size_filter(nbytes: int | None) -> str:
    """A file size in the reader's language: "17,2 KB" (vi) / "17.2 KB" (en)."""
    from .context import locale

    return format_size(nbytes, locale())


def register_i18n(app: Flask) -> None:
    compile_catalogues()
    app.jinja_env.filters["t"] = text_filter
    app.jinja_env.filters["dt"] = datetime_filter
    app.jinja_env.filters["num"] = number_filter
    app.jinja_env.filters["filesize"] = size_filter

    @app.context_processor
    def _languages() -> dict:
        from .context import locale

        return {
            "current_locale": locale(),
            "languages": (("vi", "Tiếng Việt"), ("en", "English")),
            "request_path": request.full_path.rstrip("?"),
        }

    app.jinja_env.globals.update(_label_helpers())
    _install_fast_gettext(app)


def _request_translations():
    """Flask-Babel's translations for this request, looked up once per request and locale
    (its own lookup re-resolves the locale on every call: dozens of times per page)."""
    from flask import g
    from flask_babel import get_translations

    ctx = g.get("_flask_babel")
    locale = getattr(ctx, "babel_locale", None)
    cached = g.get("_ocop_translations")
    if cached is not None and locale is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    locale = getattr(g.get("_flask_babel"), "babel_locale", None)  # set by the lookup; changed by force_locale
    g._ocop_translations = (locale, translations)
    return translations


def _install_fast_gettext(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _request_translations().ugettext(s),
        ngettext=lambda s, p, n: _request_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _request_translations().unpgettext(c, s, p, n),
    )


def _label_helpers() -> dict:
    """Template helpers turning catalogue keys into bilingual labels (rendered with the |t filter)."""
    from flask_babel import gettext as _

    from .context import registry, state

    def lookup(section: str, key: str) -> Text:
        return getattr(registry().catalogue, section).get(key) or Text(key, key)

    def state_label(product) -> Text:
        return registry().get(product.workflow_key, product.workflow_version).state_label(product.state)

    def application_label(kind: str) -> str:
        return {"first_rating": _("First rating"), "upgrade": _("Upgrade"), "re_evaluation": _("Re-evaluation")}.get(
            kind, kind
        )

    return {
        "state_label": state_label,
        "role_label": lambda key: (
            registry().catalogue.roles[key].label if key in registry().catalogue.roles else Text(key, key)
        ),
        "kind_label": lambda key: lookup("producer_kinds", key),
        "group_label": lambda key: lookup("product_groups", key),
        "doc_label": lambda key: lookup("document_types", key),
        "level_label": lambda key: lookup("levels", key),
        "application_label": application_label,
        "max_upload_mb": lambda: state().max_upload_bytes // (1024 * 1024),
    }
