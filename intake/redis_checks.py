"""Startup checks of the broker's Redis: refuse one that may evict keys, warn about one that persists nothing."""

from __future__ import annotations

from collections.abc import Callable

import redis

# The broker's server holds the queued tasks (the only copy of a routing or sending request
# between the commit and the sweeper's next pass), the per-contact locks that keep each sender's
# messages in order, and the trackers' database. None of it may be evicted to make room.
REQUIRED_POLICY = "noeviction"


class RedisConfigError(RuntimeError):
    """The broker's Redis is configured in a way that can lose tasks or locks."""


def check_broker_redis(url: str, timeout_s: float = 2.0) -> list[str]:
    """Warnings worth logging; RedisConfigError if Redis may evict keys.

    A Redis that cannot be reached is not refused here (the worker waits for its broker, and
    `make run` starts its own); one that does not allow CONFIG GET (managed Redis) is a warning."""
    client = redis.Redis.from_url(
        url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, decode_responses=True
    )
    try:
        config: dict[str, str] = {}
        for name in ("maxmemory-policy", "appendonly", "save"):
            # decode_responses=True: the reply is str -> str (redis-py types it loosely).
            config.update({str(k): str(v) for k, v in client.config_get(name).items()})
    except redis.ResponseError:  # unknown or renamed command, NOPERM: a managed or locked-down Redis
        config = {}
    except redis.RedisError as exc:
        return [f"could not check the configuration of REDIS_URL's Redis ({type(exc).__name__}); continuing"]
    finally:
        client.close()
    if "maxmemory-policy" not in config:
        return [
            "REDIS_URL's Redis does not allow CONFIG GET (a managed Redis?); make sure its maxmemory-policy "
            f"is {REQUIRED_POLICY} and that it persists (AOF or RDB snapshots); continuing"
        ]
    policy = config["maxmemory-policy"]
    if policy != REQUIRED_POLICY:
        raise RedisConfigError(
            f"REDIS_URL's Redis has maxmemory-policy {policy}: when its memory fills it would evict queued "
            "tasks and the per-contact locks that keep each sender's messages in order. Set maxmemory-policy "
            f"{REQUIRED_POLICY} (in redis.conf, with `CONFIG SET maxmemory-policy {REQUIRED_POLICY}`, or in a "
            "managed Redis's parameters), or use another Redis for REDIS_URL"
        )
    if config.get("appendonly", "no") == "no" and not config.get("save", "").strip():
        return [
            'REDIS_URL\'s Redis persists nothing (appendonly no, save ""): a restart loses queued tasks '
            "(the sweepers re-enqueue them, late) and Rasa's conversations. Set appendonly yes, or a save schedule"
        ]
    return []


def refuse_unsafe_redis(url: str, warn: Callable[[str], None], timeout_s: float = 2.0) -> None:
    """For a process about to start: log the warnings, exit with the reason if Redis may evict keys."""
    try:
        warnings = check_broker_redis(url, timeout_s)
    except RedisConfigError as exc:
        # SystemExit, not an exception: Celery logs and ignores exceptions raised by signal handlers.
        raise SystemExit(f"refusing to start: {exc}") from None
    for warning in warnings:
        warn(warning)
