"""Settings: every tunable of the system, parsed once from the environment, loudly."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from intake.setting_values import SettingsError, number, redis_database, sms_number, text, tracker_url, whole
from intake.wa_templates import content_sids

# Callers import these from here, where configuration lives.
__all__ = ["ACTION_LONGEST_RUN_S", "RASA_TIMEOUT_MARGIN_S", "ROOT", "Settings", "SettingsError", "tracker_url"]

ROOT = Path(__file__).resolve().parent.parent

# The chain of timeouts of one turn (docs/architecture.md, "Timeouts"), each longer than what it waits
# on: SQLite's busy timeout (intake/db.py, 30 s) < an action's call to intake (40 s,
# actions/intake_client.py) < the action server's longest run (filing then, on an unclear outcome,
# one read: 40 + 10 s) < Rasa's wait for an action (ACTION_TIMEOUT_S) < the worker's wait for Rasa
# (RASA_TIMEOUT_S). A worker that gives up first would replay a turn Rasa is still running.
ACTION_LONGEST_RUN_S = 50.0
# Rasa's own work around the action (prediction, the tracker store) and a second, quick action.
RASA_TIMEOUT_MARGIN_S = 10.0


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
    # Intake's internal API (for the action server) has its own listener, never the public port.
    internal_bind: str = "127.0.0.1"
    internal_port: int = 8001
    # Reverse proxies in front of the public web app whose X-Forwarded-For/-Proto are believed.
    trusted_proxies: int = 0
    # The shared secret Rasa presents to the action server (rasa_sdk has no authentication).
    action_server_token: str = ""
    # Retention (intake/retention.py, docs/architecture.md "Retention"): days each kind of data is kept.
    retention_case_messages_days: int = 365  # message bodies of a closed case, from its closing
    retention_contact_messages_days: int = 90  # message bodies of a contact without any case
    retention_case_texts_days: int = 365  # description, public update, evidence links, from closing
    retention_drafts_days: int = 1  # complaint drafts abandoned (Rasa forgot the form after an hour)
    retention_trackers_days: int = 1  # Rasa trackers, from the contact's last message
    retention_identity_attempts_days: int = 1  # DNI checks; locks look back 30 minutes
    retention_login_failures_days: int = 30  # staff login failures; throttling looks back 15 minutes
    # Orders the committee's monthly sample (intake/committee.py); its own secret, never PSEUDONYM_KEY.
    committee_sample_key: str = ""
    # Socket and connect timeouts of the web processes' Redis clients: a hung Redis must not hold a
    # webhook longer than this (the sweeper enqueues what could not be).
    redis_socket_timeout_s: float = 1.0
    # gunicorn (gthread) for the web app and the internal listener: processes, and threads in each.
    web_workers: int = 2
    web_threads: int = 8
    # Celery worker processes: a turn or a send mostly waits (Rasa, Twilio's ~150 ms), so more than cores.
    worker_concurrency: int = 8
    # Replies left `sending` or `unknown` this long are looked up at Twilio (intake/outbound_reconcile.py).
    outbound_reconcile_after_s: int = 120
    # Twilio's Fallback URL (intake/fallback.py): its own process and port, and the spool it writes.
    fallback_port: int = 8002
    spool_dir: str = str(ROOT / "var" / "spool")
    # The line's numbers (To) that reconciliation with Twilio's list considers; empty: the whole account.
    twilio_line_numbers: tuple[str, ...] = ()
    # A message whose processing fails this many times (an error other than the assistant being
    # down) is set aside as dead, with one apology, so the contact's later messages move on.
    dead_after_attempts: int = 8
    # How long a contact's "task queued" marker lives if nobody clears it (a task lost for good, as
    # when Redis loses its last writes). While a worker runs the turn, the marker lives with the
    # worker's lease instead (worker/lease.py), so a killed worker frees it within 45 s.
    queued_marker_s: int = 180
    # How long Rasa waits for one custom action (bot/endpoints.yml action_endpoint.timeout, applied by
    # stack/rasa_server.py); longer than an action's longest run, shorter than RASA_TIMEOUT_S.
    action_timeout_s: float = 60.0
    # Messages a second each sender number may hand to Twilio, shared by every worker (Redis);
    # Twilio queues what a number cannot send at once, but a burst past its rate only fills that
    # queue and ends in 429s or expired messages (intake/send_order.py).
    outbound_rate_per_s: int = 10
    # The line's SMS number (E.164): the From of payment-day notices to people without WhatsApp and
    # of SMS fallbacks. Empty: the first SMS number of TWILIO_LINE_NUMBERS.
    twilio_sms_number: str = ""
    # Approved WhatsApp templates' ContentSids by name (TWILIO_CONTENT_CASE_UPDATE, …; see
    # intake/wa_templates.py), as pairs so the settings stay hashable.
    whatsapp_templates: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        port = whole(env, "PORT", 8000)
        internal_port = whole(env, "INTERNAL_PORT", port + 1)
        redis_url = text(env, "REDIS_URL", "redis://127.0.0.1:6379/0")
        default_db = f"sqlite:///{ROOT / 'var' / 'lineaciudadana.db'}"
        validate = text(env, "TWILIO_VALIDATE_SIGNATURE", "true").lower()
        if validate not in {"true", "false"}:
            raise SettingsError(f"TWILIO_VALIDATE_SIGNATURE must be true or false, got {validate!r}")
        settings = cls(
            port=port,
            public_base_url=text(env, "PUBLIC_BASE_URL", f"http://127.0.0.1:{port}").rstrip("/"),
            database_url=text(env, "DATABASE_URL", default_db),
            redis_url=redis_url,
            twilio_account_sid=text(env, "TWILIO_ACCOUNT_SID", ""),
            twilio_auth_token=text(env, "TWILIO_AUTH_TOKEN", ""),
            twilio_api_url=text(env, "TWILIO_API_URL", "https://api.twilio.com").rstrip("/"),
            twilio_validate_signature=validate == "true",
            pseudonym_key=text(env, "PSEUDONYM_KEY", ""),
            internal_api_token=text(env, "INTERNAL_API_TOKEN", ""),
            internal_api_url=text(env, "INTERNAL_API_URL", f"http://127.0.0.1:{internal_port}").rstrip("/"),
            rasa_url=text(env, "RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
            rasa_api_token=text(env, "RASA_API_TOKEN", ""),
            action_server_url=text(env, "ACTION_SERVER_URL", "http://127.0.0.1:5055").rstrip("/"),
            rasa_timeout_s=number(env, "RASA_TIMEOUT_S", 75.0),
            identity_max_attempts=whole(env, "IDENTITY_MAX_ATTEMPTS", 3),
            identity_lock_minutes=whole(env, "IDENTITY_LOCK_MINUTES", 30),
            identity_verified_minutes=whole(env, "IDENTITY_VERIFIED_MINUTES", 30),
            sweep_after_s=whole(env, "SWEEP_AFTER_S", 30),
            visibility_timeout_s=whole(env, "CELERY_VISIBILITY_TIMEOUT_S", 600),
            log_level=text(env, "LOG_LEVEL", "INFO").upper(),
            tracker_redis_url=text(env, "TRACKER_REDIS_URL", "") or tracker_url(redis_url),
            internal_bind=text(env, "INTERNAL_BIND", "127.0.0.1"),
            internal_port=internal_port,
            trusted_proxies=whole(env, "TRUSTED_PROXIES", 0),
            action_server_token=text(env, "ACTION_SERVER_TOKEN", ""),
            retention_case_messages_days=whole(env, "RETENTION_CASE_MESSAGES_DAYS", 365),
            retention_contact_messages_days=whole(env, "RETENTION_CONTACT_MESSAGES_DAYS", 90),
            retention_case_texts_days=whole(env, "RETENTION_CASE_TEXTS_DAYS", 365),
            retention_drafts_days=whole(env, "RETENTION_DRAFTS_DAYS", 1),
            retention_trackers_days=whole(env, "RETENTION_TRACKERS_DAYS", 1),
            retention_identity_attempts_days=whole(env, "RETENTION_IDENTITY_ATTEMPTS_DAYS", 1),
            retention_login_failures_days=whole(env, "RETENTION_LOGIN_FAILURES_DAYS", 30),
            committee_sample_key=text(env, "COMMITTEE_SAMPLE_KEY", ""),
            redis_socket_timeout_s=number(env, "REDIS_SOCKET_TIMEOUT_S", 1.0),
            web_workers=whole(env, "WEB_WORKERS", 2),
            web_threads=whole(env, "WEB_THREADS", 8),
            worker_concurrency=whole(env, "WORKER_CONCURRENCY", 8),
            outbound_reconcile_after_s=whole(env, "OUTBOUND_RECONCILE_AFTER_S", 120),
            fallback_port=whole(env, "FALLBACK_PORT", port + 2),
            spool_dir=text(env, "SPOOL_DIR", str(ROOT / "var" / "spool")),
            twilio_line_numbers=tuple(n.strip() for n in env.get("TWILIO_LINE_NUMBERS", "").split(",") if n.strip()),
            dead_after_attempts=whole(env, "DEAD_AFTER_ATTEMPTS", 8),
            queued_marker_s=whole(env, "QUEUED_MARKER_S", 180),
            action_timeout_s=number(env, "ACTION_TIMEOUT_S", 60.0),
            outbound_rate_per_s=whole(env, "OUTBOUND_RATE_PER_S", 10),
            whatsapp_templates=tuple(sorted(content_sids(env).items())),
            twilio_sms_number=sms_number(env),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that would make the system unsafe or unusable."""
        if len(self.pseudonym_key) < 16:
            raise SettingsError("PSEUDONYM_KEY must be set to at least 16 characters")
        if len(self.internal_api_token) < 16:
            raise SettingsError("INTERNAL_API_TOKEN must be set to at least 16 characters")
        # It signs HS256 tokens now, whose key must be at least as long as the hash (RFC 7518 3.2).
        if len(self.rasa_api_token) < 32:
            raise SettingsError(
                "RASA_API_TOKEN must be set to at least 32 characters (it signs the JWTs for Rasa's API)"
            )
        if self.twilio_validate_signature and not self.twilio_auth_token:
            raise SettingsError(
                "TWILIO_AUTH_TOKEN is needed to check Twilio's signatures "
                "(set TWILIO_VALIDATE_SIGNATURE=false only for local experiments)"
            )
        if self.twilio_account_sid and not self.twilio_auth_token:
            raise SettingsError("TWILIO_ACCOUNT_SID is set but TWILIO_AUTH_TOKEN is not")
        if self.identity_max_attempts < 1:
            raise SettingsError("IDENTITY_MAX_ATTEMPTS must be at least 1")
        # Shorter than a send attempt (TwilioSender waits 15 s) and a reply still in flight would be resent.
        if self.outbound_reconcile_after_s < 60:
            raise SettingsError("OUTBOUND_RECONCILE_AFTER_S must be at least 60 (a send may take 15 s)")
        self._check_boundaries()
        self._check_retention()
        self._check_sample_key_and_sending()
        self._check_redis_and_web()
        # One failure may be a passing database error; a message is set aside only when it repeats.
        if self.dead_after_attempts < 2:
            raise SettingsError("DEAD_AFTER_ATTEMPTS must be at least 2")
        # Each retry gives the marker a full life again (worker/tasks.py), so it must outlive the
        # longest wait between two tries (30 s) and then some, or a second task is queued.
        if self.outbound_rate_per_s < 1:
            raise SettingsError("OUTBOUND_RATE_PER_S must be at least 1 (messages a second per sender number)")
        if self.queued_marker_s < 45:
            raise SettingsError("QUEUED_MARKER_S must be at least 45 (a task waits up to 30 s between tries)")
        if self.fallback_port in (self.port, self.internal_port):
            raise SettingsError("FALLBACK_PORT must differ from PORT and INTERNAL_PORT (the fallback is apart)")
        self._check_timeouts()

    def _check_timeouts(self) -> None:
        """Each wait outlasts the one it contains, so nobody gives up on work that still goes on."""
        # Rasa cutting an action short while it files a case would leave the form half done.
        if self.action_timeout_s <= ACTION_LONGEST_RUN_S:
            raise SettingsError(
                f"ACTION_TIMEOUT_S must be more than {ACTION_LONGEST_RUN_S:g} (an action may wait that long for intake)"
            )
        # A worker that stops waiting while Rasa still runs the turn retries it into a changed tracker.
        if self.rasa_timeout_s < self.action_timeout_s + RASA_TIMEOUT_MARGIN_S:
            raise SettingsError(
                f"RASA_TIMEOUT_S must be at least ACTION_TIMEOUT_S + {RASA_TIMEOUT_MARGIN_S:g} "
                f"({self.action_timeout_s + RASA_TIMEOUT_MARGIN_S:g}): the worker must outwait Rasa's wait "
                "for an action"
            )

    def _check_retention(self) -> None:
        """Nothing is removed while the system may still need it."""
        for name in (
            "retention_contact_messages_days",
            "retention_drafts_days",
            "retention_trackers_days",
            "retention_identity_attempts_days",
            "retention_login_failures_days",
        ):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name.upper()} must be at least 1")
        # A closed case can be reopened for 15 days (intake/cases.py REOPEN_WINDOW): its texts must outlive that.
        for name in ("retention_case_messages_days", "retention_case_texts_days"):
            if getattr(self, name) < 15:
                raise SettingsError(f"{name.upper()} must be at least 15 (a closed case can be reopened for 15 days)")
        window_minutes = max(self.identity_lock_minutes, self.identity_verified_minutes)
        if self.retention_identity_attempts_days * 24 * 60 < window_minutes:
            raise SettingsError(
                "RETENTION_IDENTITY_ATTEMPTS_DAYS must cover IDENTITY_LOCK_MINUTES and IDENTITY_VERIFIED_MINUTES"
            )

    def _check_boundaries(self) -> None:
        """The internal listener stays private and apart from the public port; proxies are counted."""
        if len(self.action_server_token) < 16:
            raise SettingsError("ACTION_SERVER_TOKEN must be set to at least 16 characters (Rasa's key to the actions)")
        if self.trusted_proxies < 0:
            raise SettingsError("TRUSTED_PROXIES must be 0 or more")
        if self.internal_port == self.port:
            raise SettingsError("INTERNAL_PORT must differ from PORT: the internal API is never on the public port")
        try:
            bind = ipaddress.ip_address(self.internal_bind)
        except ValueError:
            raise SettingsError(f"INTERNAL_BIND must be an IP address, got {self.internal_bind!r}") from None
        if bind.is_global:
            raise SettingsError("INTERNAL_BIND must be a loopback or private address, never a public one")
        url = urlsplit(self.internal_api_url)
        if url.port == self.port and url.hostname in {"127.0.0.1", "localhost", "::1"}:
            # An .env from before the internal listener existed points the actions at the public port.
            raise SettingsError("INTERNAL_API_URL points at the public port; leave it empty (INTERNAL_PORT is used)")

    def _check_sample_key_and_sending(self) -> None:
        """The committee's sample key is its own secret; real sending needs signed https webhooks."""
        if len(self.committee_sample_key) < 16:
            raise SettingsError("COMMITTEE_SAMPLE_KEY must be set to at least 16 characters")
        if self.committee_sample_key == self.pseudonym_key:
            raise SettingsError("COMMITTEE_SAMPLE_KEY must differ from PSEUDONYM_KEY (give each its own secret)")
        if not self.twilio_sends_for_real:
            return  # the console sender: local experiments may go without signatures or https
        if not self.twilio_validate_signature:
            raise SettingsError(
                "TWILIO_VALIDATE_SIGNATURE=false is refused while TWILIO_ACCOUNT_SID is set: anyone could post "
                "messages as any beneficiary. Set TWILIO_VALIDATE_SIGNATURE=true (or unset TWILIO_ACCOUNT_SID)"
            )
        if not self.public_base_url.startswith("https://"):
            raise SettingsError(
                "PUBLIC_BASE_URL must be an https:// URL while TWILIO_ACCOUNT_SID is set: over http, staff "
                "logins and messages travel in clear. Set PUBLIC_BASE_URL to the https address Twilio calls"
            )

    def _check_redis_and_web(self) -> None:
        """Redis timeouts that bound a webhook, trackers apart from the broker, a sane gunicorn size."""
        if not 0 < self.redis_socket_timeout_s <= 10:
            raise SettingsError("REDIS_SOCKET_TIMEOUT_S must be more than 0 and at most 10 (Twilio waits 15 s)")
        if redis_database(self.tracker_redis_url) == redis_database(self.redis_url):
            raise SettingsError(
                "TRACKER_REDIS_URL must name another Redis database than REDIS_URL (the broker's): "
                "leave it empty (the next database is used) or end it in another number, e.g. /1"
            )
        if self.web_workers < 1 or self.web_threads < 1:
            raise SettingsError("WEB_WORKERS and WEB_THREADS must be at least 1")
        if self.worker_concurrency < 1:
            raise SettingsError("WORKER_CONCURRENCY must be at least 1")

    @property
    def twilio_sends_for_real(self) -> bool:
        """With no Twilio account the console sender records replies instead of sending."""
        return bool(self.twilio_account_sid)
