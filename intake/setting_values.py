"""One setting's value from the environment: typed, with the setting's name in every error."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit


class SettingsError(ValueError):
    """A setting in the environment has a value we cannot use."""


def text(env: dict[str, str], name: str, default: str) -> str:
    return env.get(name, "").strip() or default


def whole(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None


def number(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None


def sms_number(env: dict[str, str]) -> str:
    """TWILIO_SMS_NUMBER, or the first SMS number of TWILIO_LINE_NUMBERS; "" when neither gives one."""
    given = env.get("TWILIO_SMS_NUMBER", "").strip()
    if given:
        if not re.fullmatch(r"\+[1-9]\d{6,14}", given):
            raise SettingsError(f"TWILIO_SMS_NUMBER must be an E.164 number such as +50422345678, got {given!r}")
        return given
    line = [n.strip() for n in env.get("TWILIO_LINE_NUMBERS", "").split(",") if n.strip()]
    return next((n for n in line if n.startswith("+")), "")


def tracker_url(redis_url: str) -> str:
    """The trackers' default home: the broker's server, the next database number (of Redis's 16).

    Kept apart so that flushing, evicting or backing up one never touches the other."""
    parts = urlsplit(redis_url)
    try:
        db = int(parts.path.lstrip("/") or "0")
    except ValueError:
        raise SettingsError(f"REDIS_URL must end in a database number, got {redis_url!r}") from None
    return urlunsplit(parts._replace(path=f"/{(db + 1) % 16}"))


def redis_database(url: str) -> tuple[str, int, str]:
    """Host, port and database number of a redis:// URL (the password is not part of where it is)."""
    parts = urlsplit(url)
    try:
        port = parts.port or 6379
    except ValueError:
        port = 6379  # a malformed port is reported by whatever connects; here only equality matters
    return (parts.hostname or "", port, parts.path.lstrip("/") or "0")
