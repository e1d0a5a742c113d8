"""Línea Ciudadana intake: the Flask apps that own the database (public web app with CLI; internal API apart)."""

from __future__ import annotations

import logging

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from intake.runtime import Runtime, runtime, set_runtime
from intake.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """The public web app (webhooks, staff, public pages, health); never the internal API.

    Settings from the environment unless given (tests)."""
    if settings is not None:
        set_runtime(Runtime(settings))
    rt = runtime()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024  # Twilio's webhooks are a few KB at most
    logging.basicConfig(level=rt.settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from intake import (
        cli,
        web_cases,
        web_committee,
        web_dead_letters,
        web_headers,
        web_health,
        web_mechanism,
        web_notices,
        web_people,
        web_public,
        web_staff,
        web_twilio,
    )

    app.register_blueprint(web_twilio.bp)
    app.register_blueprint(web_staff.bp)
    app.register_blueprint(web_cases.bp)
    app.register_blueprint(web_people.bp)
    app.register_blueprint(web_dead_letters.bp)
    app.register_blueprint(web_notices.bp)
    app.register_blueprint(web_committee.bp)
    app.register_blueprint(web_mechanism.bp)
    app.register_blueprint(web_public.bp)
    app.register_blueprint(web_health.bp)
    cli.register(app)
    web_headers.register(app)  # security headers on every response
    if rt.settings.trusted_proxies:
        # Only as many hops as there are proxies we run: a client's own X-Forwarded-For entries
        # stay to the left and are ignored. Host is not taken from headers (PUBLIC_BASE_URL is
        # configured), so x_host stays 0.
        n = rt.settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]  # Flask's documented way to wrap the WSGI app
    return app


def create_internal_app(settings: Settings | None = None) -> Flask:
    """The internal API for the action server, served on its own listener (INTERNAL_BIND:INTERNAL_PORT).

    Nothing public is registered here, and no proxy headers are believed: the action server
    connects directly, so remote_addr is the TCP peer that web_internal's network check sees."""
    if settings is not None:
        set_runtime(Runtime(settings))
    rt = runtime()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024  # the actions send a few fields at most
    logging.basicConfig(level=rt.settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from intake import web_health, web_internal, web_metrics

    app.register_blueprint(web_internal.bp)
    # On the whole listener, so an unknown path or a crash answers JSON too (Flask's are HTML).
    app.register_error_handler(HTTPException, web_internal.json_error)
    app.register_blueprint(web_metrics.bp)  # GET /metrics for Prometheus; never on the public app
    app.add_url_rule("/livez", "livez", web_health.livez)  # to wait for the process; nothing else
    app.add_url_rule("/readyz", "readyz", web_health.readyz)  # each dependency, cached; never public
    return app
