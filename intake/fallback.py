"""Twilio's Fallback URL: a process apart from the database that spools signed messages the web app could not store."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator

from intake import spool
from intake.broker import IMPORT_SPOOL, producer
from intake.settings import ROOT, SettingsError

FALLBACK_PATH = "/twilio/fallback"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FallbackConfig:
    """The few settings this process reads (the same variables and defaults as intake.settings).

    It gets no DATABASE_URL, pseudonym key or other secret: it cannot touch the database at all.
    It may know the broker (REDIS_URL), only to ask for an import at once (see `_ask_import`)."""

    public_base_url: str
    auth_token: str
    spool_dir: Path
    log_level: str = "INFO"
    broker_url: str = ""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> FallbackConfig:
        env = dict(os.environ if env is None else env)
        port = env.get("PORT", "").strip() or "8000"
        config = cls(
            public_base_url=(env.get("PUBLIC_BASE_URL", "").strip() or f"http://127.0.0.1:{port}").rstrip("/"),
            auth_token=env.get("TWILIO_AUTH_TOKEN", "").strip(),
            spool_dir=Path(env.get("SPOOL_DIR", "").strip() or ROOT / "var" / "spool"),
            log_level=(env.get("LOG_LEVEL", "").strip() or "INFO").upper(),
            broker_url=env.get("REDIS_URL", "").strip(),
        )
        # Unlike the web app it always checks signatures: only Twilio has a reason to call it.
        if not config.auth_token:
            raise SettingsError("TWILIO_AUTH_TOKEN is needed: the fallback accepts only messages Twilio signed")
        return config


def create_fallback_app(config: FallbackConfig | None = None) -> Flask:
    """POST /twilio/fallback (signed: spooled, then 200; forged: 403; spool not writable: 503) and /livez."""
    config = config or FallbackConfig.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024  # Twilio's webhooks are a few KB at most
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    validator = RequestValidator(config.auth_token)

    @app.post(FALLBACK_PATH)
    def fallback() -> Response:
        signature = request.headers.get("X-Twilio-Signature", "")
        # Twilio signs the Fallback URL it was given, which is PUBLIC_BASE_URL + this path, over
        # the whole MultiDict (a repeated key's every value), as the web app checks it.
        url = config.public_base_url + request.full_path.rstrip("?")
        if not signature or not validator.validate(url, request.form, signature):
            abort(403)
        try:
            spool.append(config.spool_dir, request.form.items(multi=True), datetime.now(timezone.utc))
        except OSError as exc:
            # Not on disk, so not acknowledged: a 503 is the only honest answer left.
            log.error("could not spool a message: %s", type(exc).__name__)
            return Response("", status=503)
        log.warning("spooled a message the web app could not store (%s)", request.form.get("MessageSid", "?")[:40])
        _ask_import(config.broker_url)
        return Response(EMPTY_TWIML, mimetype="text/xml")

    @app.get("/livez")
    def livez() -> Response:
        return Response("ok", mimetype="text/plain")

    return app


def _ask_import(broker_url: str) -> None:
    """Ask a worker to import the spool now, not at beat's next minute (best effort, one try of 1 s).

    When only the web worker died (the database is up), the import then lands within a second or
    two, before the person has read a reply and written again, so their messages keep their order.
    If Redis is away too, beat asks within the minute."""
    if not broker_url:
        return
    try:
        producer(broker_url, 1.0).send_task(IMPORT_SPOOL, retry=False)
    except Exception as exc:  # kombu raises many types; any of them means "beat will do it"
        log.warning("could not ask for a spool import: %s", type(exc).__name__)
