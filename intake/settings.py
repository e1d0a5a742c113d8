"""Settings: every tunable of the system, parsed once from the environment, loudly."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting in the environment has a value we cannot use."""


def _str(env: dict[str, str], name: str, default: str) -> str:
    return env.get(name, "").strip() or default


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None


def tracker_url(redis_url: str) -> str:
    """The trackers' default home: the broker's server, the next database number (of Redis's 16).

    Kept apart so that flushing, evicting or backing up one never touches the other."""
    parts = urlsplit(redis_url)
    try:
        db = int(parts.path.lstrip("/") or "0")
    except ValueError:
        raise SettingsError(f"REDIS_URL must end in a database number, got {redis_url!r}") from None
    return urlunsplit(parts._replace(path=f"/{(db + 1) % 16}"))


@dataclass(frozen=True)
class Settings:
    """One immutable bag of configuration, built by `Settings.from_env()`."""

    port: int
    public_base_url: str
    database_url: str
    redis_url: str
    twilio_account_sid: str
    twilio_auth_token: str
    twilio_api_url: str
    twilio_validate_signature: bool
    pseudonym_key: str
    internal_api_token: str
    internal_api_url: str
    rasa_url: str
    rasa_api_token: str
    action_server_url: str
    rasa_timeout_s: float
    identity_max_attempts: int
    identity_lock_minutes: int
    identity_verified_minutes: int
    sweep_after_s: int
    visibility_timeout_s: int
    log_level: str
    # Rasa's conversation trackers: their own Redis database, never the broker's (see tracker_url).
    tracker_redis_url: str = ""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        port = _int(env, "PORT", 8000)
        redis_url = _str(env, "REDIS_URL", "redis://127.0.0.1:6379/0")
        default_db = f"sqlite:///{ROOT / 'var' / 'lineaciudadana.db'}"
        validate = _str(env, "TWILIO_VALIDATE_SIGNATURE", "true").lower()
        if validate not in {"true", "false"}:
            raise SettingsError(f"TWILIO_VALIDATE_SIGNATURE must be true or false, got {validate!r}")
        settings = cls(
            port=port,
            public_base_url=_str(env, "PUBLIC_BASE_URL", f"http://127.0.0.1:{port}").rstrip("/"),
            database_url=_str(env, "DATABASE_URL", default_db),
            redis_url=redis_url,
            twilio_account_sid=_str(env, "TWILIO_ACCOUNT_SID", ""),
            twilio_auth_token=_str(env, "TWILIO_AUTH_TOKEN", ""),
            twilio_api_url=_str(env, "TWILIO_API_URL", "https://api.twilio.com").rstrip("/"),
            twilio_validate_signature=validate == "true",
            pseudonym_key=_str(env, "PSEUDONYM_KEY", ""),
            internal_api_token=_str(env, "INTERNAL_API_TOKEN", ""),
            internal_api_url=_str(env, "INTERNAL_API_URL", f"http://127.0.0.1:{port}").rstrip("/"),
            rasa_url=_str(env, "RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
            rasa_api_token=_str(env, "RASA_API_TOKEN", ""),
            action_server_url=_str(env, "ACTION_SERVER_URL", "http://127.0.0.1:5055").rstrip("/"),
            rasa_timeout_s=_float(env, "RASA_TIMEOUT_S", 30.0),
            identity_max_attempts=_int(env, "IDENTITY_MAX_ATTEMPTS", 3),
            identity_lock_minutes=_int(env, "IDENTITY_LOCK_MINUTES", 30),
            identity_verified_minutes=_int(env, "IDENTITY_VERIFIED_MINUTES", 30),
            sweep_after_s=_int(env, "SWEEP_AFTER_S", 30),
            visibility_timeout_s=_int(env, "CELERY_VISIBILITY_TIMEOUT_S", 600),
            log_level=_str(env, "LOG_LEVEL", "INFO").upper(),
            tracker_redis_url=_str(env, "TRACKER_REDIS_URL", "") or tracker_url(redis_url),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that would make the system unsafe or unusable."""
        if len(self.pseudonym_key) < 16:
            raise SettingsError("PSEUDONYM_KEY must be set to at least 16 characters")
        if len(self.internal_api_token) < 16:
            raise SettingsError("INTERNAL_API_TOKEN must be set to at least 16 characters")
        if len(self.rasa_api_token) < 16:
            raise SettingsError("RASA_API_TOKEN must be set to at least 16 characters (it guards Rasa's HTTP API)")
        if self.twilio_validate_signature and not self.twilio_auth_token:
            raise SettingsError(
                "TWILIO_AUTH_TOKEN is needed to check Twilio's signatures "
                "(set TWILIO_VALIDATE_SIGNATURE=false only for local experiments)"
            )
        if self.twilio_account_sid and not self.twilio_auth_token:
            raise SettingsError("TWILIO_ACCOUNT_SID is set but TWILIO_AUTH_TOKEN is not")
        if self.identity_max_attempts < 1:
            raise SettingsError("IDENTITY_MAX_ATTEMPTS must be at least 1")

    @property
    def twilio_sends_for_real(self) -> bool:
        """With no Twilio account the console sender records replies instead of sending."""
        return bool(self.twilio_account_sid)
