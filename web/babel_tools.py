"""Keep the message catalogue in step with the code: `python -m web.babel_tools` re-extracts
web/translations/messages.pot and merges new messages into the vi and en .po files (empty,
to be translated; the i18n test fails until they are)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from .i18n import TRANSLATIONS

WEB = Path(__file__).resolve().parent
METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.do"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
SKIP = {"babel_tools.py"}


def extract() -> Catalog:
    catalog = Catalog(project="ocop-workflow", domain="messages", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(WEB),
        METHOD_MAP,
        OPTIONS,
        KEYWORDS,
        strip_comment_tags=True,
        callback=None,
        comment_tags=("Translators:",),
    ):
        if Path(filename).name in SKIP:
            continue
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def read(locale: str) -> Catalog:
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=locale)


def update() -> None:
    template = extract()
    with open(TRANSLATIONS / "messages.pot", "wb") as fh:
        write_po(fh, template, omit_header=False, sort_output=True, width=120)
    for locale in ("vi", "en"):
        path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
        if path.exists():
            catalog = read(locale)
            catalog.update(template, no_fuzzy_matching=True)
            catalog.obsolete.clear()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=locale, domain="messages", project="ocop-workflow")
            catalog.update(template)
        catalog.fuzzy = False
        if locale == "en":
            for message in catalog:
                if message.id and not message.string:
                    message.string = message.id  # English msgids are the English text
                elif isinstance(message.id, tuple) and not all(message.string):
                    message.string = message.id  # a plural: its singular and plural msgids
        with open(path, "wb") as fh:
            write_po(fh, catalog, sort_output=True, width=120, include_previous=False)


if __name__ == "__main__":
    update()
