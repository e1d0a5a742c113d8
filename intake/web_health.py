"""GET /healthz: the state of the database, Redis, Rasa and the action server."""

from __future__ import annotations

import redis
from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from intake.runtime import runtime

bp = Blueprint("health", __name__)


@bp.get("/livez")
def livez() -> ResponseReturnValue:
    """The web process is up (used to wait for it); /healthz says whether the system is."""
    return "ok"


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    rt = runtime()
    checks: dict[str, bool] = {}
    try:
        with rt.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:  # any driver error means "not healthy"; the type is not the point here
        checks["database"] = False
    try:
        client = redis.Redis.from_url(rt.settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        checks["redis"] = bool(client.ping())
    except redis.RedisError:
        checks["redis"] = False
    checks.update(rt.assistant.healthy())
    ok = all(checks.values())
    return jsonify(status="ok" if ok else "degraded", checks=checks), 200 if ok else 503
