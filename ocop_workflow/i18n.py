"""Bilingual text carried by the core.

The core never depends on Flask-Babel: every message it produces holds both
languages, so the web, the CLI and the scheduler pick the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"


@dataclass(frozen=True)
class Text:
    """A user-facing text in Vietnamese and English."""

    vi: str
    en: str

    def get(self, locale: str | None = None) -> str:
        return self.en if (locale or DEFAULT_LOCALE).startswith("en") else self.vi

    def format(self, **values: object) -> Text:
        return Text(self.vi.format(**values), self.en.format(**values))

    def __str__(self) -> str:  # the default language
        return self.vi


def join(texts: list[Text], sep: str = "; ") -> Text:
    return Text(sep.join(t.vi for t in texts), sep.join(t.en for t in texts))
