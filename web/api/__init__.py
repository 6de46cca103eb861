"""The JSON API for integrations (/api/v1, bearer tokens, OpenAPI 3.1) and the page that manages tokens.

`bp` is the API (exempt from CSRF: it reads no cookie); `tokens_bp` is an ordinary web page behind
the login and CSRF like every other form.
"""

from __future__ import annotations

from . import plans as _plans  # noqa: F401  (plans and progress reports, issue #12)
from . import process_report as _process_report  # noqa: F401  (the process figures, issue #12)
from . import product_records as _product_records  # noqa: F401  (a product's programme records)
from . import programme as _programme  # noqa: F401  (a unit's programme records)
from . import recognition as _recognition  # noqa: F401  (registers the decisions and certificates routes on bp)
from . import rounds as _rounds  # noqa: F401  (registers the councils, rounds and sheets routes on bp)
from .routes import bp
from .tokens_page import bp as tokens_bp

__all__ = ["bp", "tokens_bp"]
