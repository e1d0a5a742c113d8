"""Where Rasa keeps its trackers: bot/endpoints.yml's RASA_TRACKER_* variables, from TRACKER_REDIS_URL."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from intake.settings import SettingsError, tracker_url

DAY_S = 86_400


def _expiry_s(env: dict[str, str]) -> int:
    """TRACKER_EXPIRY_S, else RETENTION_TRACKERS_DAYS (default 1) in seconds.

    Short on purpose: the identity check lasts 30 minutes and the case form an hour, so a day
    loses nothing a conversation needs, and Redis forgets a tracker even if no sweep runs."""
    name, raw, unit = "TRACKER_EXPIRY_S", env.get("TRACKER_EXPIRY_S", "").strip(), 1
    if not raw:
        name, raw, unit = "RETENTION_TRACKERS_DAYS", env.get("RETENTION_TRACKERS_DAYS", "").strip() or "1", DAY_S
    try:
        seconds = int(raw) * unit
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if seconds <= 0:
        raise SettingsError(f"{name} must be positive: trackers must expire")
    return seconds


def tracker_env(env: dict[str, str]) -> dict[str, str]:
    """RASA_TRACKER_{HOST,PORT,DB,USERNAME,PASSWORD,RECORD_EXP} and RASA_LOCK_REDIS_DB for bot/endpoints.yml.

    TRACKER_REDIS_URL if set, else the broker's server (REDIS_URL) one database up, as the app's
    settings derive it; never the broker's database itself. An empty password means none. Rasa's
    locks live on the same server, in RASA_LOCK_REDIS_DB if set, else the trackers' database."""
    url = env.get("TRACKER_REDIS_URL", "").strip() or tracker_url(env.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    parts = urlsplit(url)
    if parts.scheme != "redis":  # Rasa reads use_ssl as a string, so TLS is not offered here
        raise SettingsError("TRACKER_REDIS_URL must be a redis:// URL")
    db = parts.path.lstrip("/") or "0"
    if not db.isdigit():
        raise SettingsError("TRACKER_REDIS_URL must end in a database number")
    locks = env.get("RASA_LOCK_REDIS_DB", "").strip() or db
    if not locks.isdigit():
        raise SettingsError(f"RASA_LOCK_REDIS_DB must be a database number, got {locks!r}")
    return {
        "RASA_TRACKER_REDIS_HOST": parts.hostname or "127.0.0.1",
        "RASA_TRACKER_REDIS_PORT": str(parts.port or 6379),
        "RASA_TRACKER_REDIS_DB": db,
        "RASA_TRACKER_REDIS_USERNAME": unquote(parts.username or ""),
        "RASA_TRACKER_REDIS_PASSWORD": unquote(parts.password or ""),
        "RASA_TRACKER_RECORD_EXP": str(_expiry_s(env)),
        "RASA_LOCK_REDIS_DB": locks,
    }
