"""GET /metrics for Prometheus: on the internal listener only (create_internal_app), private networks only."""

from __future__ import annotations

import ipaddress

import redis
from flask import Blueprint, Response, abort, request
from prometheus_client import CONTENT_TYPE_LATEST

from intake.metrics import exposition, snapshot
from intake.runtime import runtime
from intake.web_health import ready_checks

bp = Blueprint("metrics", __name__)

# The networks web_internal's guard accepts (ipaddress's is_private also counts documentation ranges).
_PRIVATE_NETS = [
    ipaddress.ip_network(net)
    for net in ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
]


@bp.get("/metrics")
def metrics() -> Response:
    # Counts only, nothing about a person; still, the figures are the operator's, so only a
    # scraper on loopback or the private network (the listener binds nowhere else anyway).
    try:
        peer = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        abort(403)
    if not any(peer in net for net in _PRIVATE_NETS):
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
