"""Names without diacritics, for search: "Vải thiều Lục Ngạn" → "vai thieu luc ngan".

`products.name_folded` holds `fold(name)`, kept in step by the model (see `Product`); a search
folds its terms the same way and matches them with `name_folded LIKE '%term%'`, so "vai thieu",
"VẢI THIỀU" and "Vải thiều" find the same products on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import unicodedata

FOLDED_MAX = 200  # the column's length; a folded name is never longer than the name it came from


def fold(text: str | None) -> str:
    """Lower case, Vietnamese (and other Latin) diacritics removed, đ → d."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn").lower()


def fold_name(name: str | None) -> str:
    """What `products.name_folded` stores for `name`."""
    return fold(name)[:FOLDED_MAX]


def search_words(query: str | None) -> list[str]:
    """The folded words of a search box, each to be found somewhere in the folded name."""
    return fold(query).split()
