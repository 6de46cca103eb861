"""Security headers on every response.

The pages use no script at all and their styles come from web/static/style.css, so the Content
Security Policy allows nothing inline: an injected `<script>`, `onclick=` or `style=` does not run
even if some escaping were ever missed. `frame-ancestors 'none'` (and X-Frame-Options for older
browsers) stops the pages being framed for clickjacking; `form-action 'self'` keeps forms posting
here; `base-uri 'none'` stops an injected <base> from redirecting relative links. `nosniff` stops
a browser from running an uploaded file as something else than its declared type; Referrer-Policy
keeps product addresses (and their ids) from leaking to other sites. HSTS is sent only over HTTPS
(behind a TLS proxy, only when the proxy tells the app so): sent over plain HTTP it is ignored, and
on a development machine it would pin the host to HTTPS for a year.
"""

from __future__ import annotations

from flask import Flask, Response, request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in ALWAYS.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", CSP)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


__all__ = ["CSP", "register_security_headers"]
