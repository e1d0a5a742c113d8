"""GET /metrics for Prometheus: on the internal listener only (create_internal_app), private networks only."""

from __future__ import annotations

import redis
from flask import Blueprint, Response, abort, request
from prometheus_client import CONTENT_TYPE_LATEST

from intake.metrics import exposition, snapshot
from intake.networks import from_private_network
from intake.runtime import runtime
from intake.web_health import ready_checks

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    # Counts only, nothing about a person; still, the figures are the operator's, so only a
    # scraper on loopback or the private network (the listener binds nowhere else anyway).
    if not from_private_network(request.remote_addr):
        abort(403)
    rt = runtime()
    # Rasa, the action server, the database and Redis as /readyz sees them: cached there, so a
    # scrape never waits on a hung Rasa more than once per cache period.
    dependencies = ready_checks(rt)
    timeout = 1.0
    broker = redis.Redis.from_url(rt.settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        with rt.sessions() as session:
            snap = snapshot(session, broker, rt.now(), rt.settings.outbound_reconcile_after_s, dependencies)
    finally:
        broker.close()
    return Response(exposition(snap), content_type=CONTENT_TYPE_LATEST)
