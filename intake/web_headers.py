"""Security headers on every response of the public web app, set in one place."""

from __future__ import annotations

from flask import Flask, Response, request

from intake.runtime import runtime

# Same origin only: the pages use their own stylesheet and inline SVG (presentation attributes,
# no style attributes, no inline script; the staff pages load one script file of their own,
# static/sms-count.js). Images may come from https (evidence links on case pages).
# No framing at all (clickjacking), no <base> rewriting, forms post only to this site.
CSP = (
    "default-src 'self'; img-src 'self' https: data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000"  # a year; only on https, where the browser honours it


def _secure(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")  # case references in URLs never leak
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")  # for browsers without frame-ancestors
    if runtime().settings.public_base_url.startswith("https://"):
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request.path == "/staff" or request.path.startswith("/staff/"):
        # Staff and committee pages hold personal data: never kept by the browser or a proxy.
        headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    app.after_request(_secure)
