"""Health: /healthz and /livez (liveness, no dependency asked); /readyz (readiness, internal listener, cached)."""

from __future__ import annotations

import threading
import time

import redis
from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from intake.health_links import explain_intake_link
from intake.runtime import Runtime, runtime

bp = Blueprint("health", __name__)

# Readiness is asked by orchestrators and operators, perhaps every second and from several places;
# the dependencies (a Rasa round trip, two Redis pings, a database query) are asked at most this
# often per process, whatever the rate of probes.
READY_CACHE_S = 10.0

_now = time.monotonic  # replaced by tests
_ready_lock = threading.Lock()
_ready_cache: dict[tuple[str, ...], tuple[float, dict[str, bool]]] = {}


@bp.get("/livez")
def livez() -> ResponseReturnValue:
    """The process answers (used to wait for it to start); nothing else is asked."""
    return "ok"


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Liveness, public and cheap: no dependency is called, so a hung Redis or a slow Rasa can
    neither make probes pile up on the web threads nor take out of rotation a web app that can
    still store messages (the sweeper enqueues them later). Readiness is /readyz, internal."""
    return jsonify(status="ok")


def readyz() -> ResponseReturnValue:
    """Readiness, on the internal listener only (create_internal_app): each dependency's state,
    and for a broken link of a beneficiary's path, what is wrong and which setting fixes it."""
    checks = ready_checks(runtime())
    ok = all(checks.values())
    body: dict[str, object] = {"status": "ok" if ok else "degraded", "checks": checks}
    problems = {name: text for name, text in _problems.items() if not checks.get(name, True)}
    if problems:
        body["problems"] = problems
    return jsonify(body), 200 if ok else 503


def ready_checks(rt: Runtime) -> dict[str, bool]:
    """The dependencies' state, asked at most every READY_CACHE_S; concurrent probes share one answer."""
    s = rt.settings
    where = (s.database_url, s.redis_url, s.tracker_redis_url, s.rasa_url, s.action_server_url)
    with _ready_lock:  # the others wait for the one asking, rather than all asking at once
        cached = _ready_cache.get(where)
        if cached is not None and _now() - cached[0] < READY_CACHE_S:
            return cached[1]
        checks = _dependency_checks(rt)
        if len(_ready_cache) > 8:  # one entry per set of dependencies; only tests have more than one
            _ready_cache.clear()
        _ready_cache[where] = (_now(), checks)
        return checks


# The newest explanation of each failing link (the checks say which fail; this says why).
_problems: dict[str, str] = {}


def _own_listener(rt: Runtime) -> str:
    """Where this internal listener is, as a process on this machine reaches it."""
    s = rt.settings
    host = "127.0.0.1" if s.internal_bind in ("0.0.0.0", "::") else s.internal_bind
    return f"http://[{host}]:{s.internal_port}" if ":" in host else f"http://{host}:{s.internal_port}"


def _dependency_checks(rt: Runtime) -> dict[str, bool]:
    checks: dict[str, bool] = {}
    try:
        with rt.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:  # any driver error means "not ready"; the type is not the point here
        checks["database"] = False
    timeout = rt.settings.redis_socket_timeout_s
    # The broker, and the trackers' database Rasa cannot answer a turn without.
    for name, url in (("redis", rt.settings.redis_url), ("trackers", rt.settings.tracker_redis_url)):
        try:
            client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
            checks[name] = bool(client.ping())
            client.close()
        except redis.RedisError:
            checks[name] = False
    checks.update(rt.assistant.healthy())
    if checks.get("actions"):
        # A beneficiary's payment question goes Rasa -> actions -> intake's internal API: every
        # process can answer its own port while that last link is broken (a wrong INTERNAL_API_URL
        # or token), and then every question is answered "ahora no podemos consultar sus datos".
        broken = rt.assistant.intake_link()
        checks["actions_to_intake"] = broken is None
        if broken is not None:
            _problems["actions_to_intake"] = explain_intake_link(*broken, _own_listener(rt))
    return checks
