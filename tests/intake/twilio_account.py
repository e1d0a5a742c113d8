"""The Twilio account (SID and auth token) the intake tests' local stand-in accepts."""

from __future__ import annotations

SID = "AC" + "1" * 32
TOKEN = "standin-token"
