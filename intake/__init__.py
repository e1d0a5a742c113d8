"""Línea Ciudadana intake: the Flask app that owns the database (webhooks, internal API, health, CLI)."""

from __future__ import annotations

import logging

from flask import Flask

from intake.runtime import Runtime, runtime, set_runtime
from intake.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """The web app; settings from the environment unless given (tests)."""
    if settings is not None:
        set_runtime(Runtime(settings))
    rt = runtime()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024  # Twilio's webhooks are a few KB at most
    logging.basicConfig(level=rt.settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from intake import cli, web_committee, web_health, web_internal, web_public, web_staff, web_twilio

    app.register_blueprint(web_twilio.bp)
    app.register_blueprint(web_staff.bp)
    app.register_blueprint(web_committee.bp)
    app.register_blueprint(web_public.bp)
    app.register_blueprint(web_internal.bp)
    app.register_blueprint(web_health.bp)
    cli.register(app)
    return app
