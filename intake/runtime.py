"""The process's wiring: settings, database sessions, the assistant and the sender, built once on first use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from intake.assistant import Assistant
from intake.db import engine_for, session_factory
from intake.identity import Policy
from intake.models import utcnow
from intake.outbound import ConsoleSender, Sender, TwilioSender
from intake.settings import Settings


@dataclass
class Runtime:
    settings: Settings

    @property
    def engine(self) -> Engine:
        return engine_for(self.settings.database_url)

    def sessions(self) -> Session:
        return session_factory(self.settings.database_url)()

    @cached_property
    def assistant(self) -> Assistant:
        s = self.settings
        return Assistant(s.rasa_url, s.action_server_url, s.rasa_timeout_s, s.rasa_api_token, s.tracker_redis_url)

    @cached_property
    def sender(self) -> Sender:
        s = self.settings
        if not s.twilio_sends_for_real:
            return ConsoleSender()
        return TwilioSender(
            s.twilio_account_sid,
            s.twilio_auth_token,
            s.twilio_api_url,
            status_callback=f"{s.public_base_url}/twilio/status",
            templates=dict(s.whatsapp_templates),
            sms_from=s.twilio_sms_number,
        )

    @property
    def identity_policy(self) -> Policy:
        s = self.settings
        return Policy(s.identity_max_attempts, s.identity_lock_minutes, s.identity_verified_minutes)

    @staticmethod
    def now() -> datetime:
        return utcnow()


_current: Runtime | None = None


def runtime() -> Runtime:
    """The process's Runtime, built from the environment on first call."""
    global _current
    if _current is None:
        _current = Runtime(Settings.from_env())
    return _current


def set_runtime(value: Runtime | None) -> None:
    """Replace the process's Runtime (tests, and create_app with explicit settings)."""
    global _current
    _current = value
