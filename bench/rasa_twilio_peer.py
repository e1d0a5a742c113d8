"""Rasa's own Twilio channel with its Twilio client pointed at the local stand-in: `make bench`'s peer.

Loaded by `rasa run` (Rasa's environment) from a credentials file such as

    bench.rasa_twilio_peer.StandInTwilioInput:
      account_sid: AC…
      auth_token: …
      twilio_number: "+50422220000"
      api_url: http://127.0.0.1:PORT

Everything but the address Rasa's Twilio client posts to is Rasa 3.6's `twilio` channel as it
ships: the same webhook (/webhooks/twilio/webhook), the same turn inside the request, the same
blocking `messages.create` per reply part. No request leaves the machine.
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel
from rasa.core.channels.twilio import TwilioInput, TwilioOutput


class StandInTwilioOutput(TwilioOutput):  # type: ignore[misc]  # Rasa has no type information here
    """Rasa's Twilio output channel, posting to `api_url` instead of https://api.twilio.com."""

    def __init__(self, account_sid: str, auth_token: str, twilio_number: str, api_url: str) -> None:
        super().__init__(account_sid, auth_token, twilio_number)
        # twilio-python builds every Messages URL from its Api domain's base_url.
        self.api.base_url = api_url.rstrip("/")


class StandInTwilioInput(TwilioInput):  # type: ignore[misc]
    """Rasa's Twilio input channel, unchanged but for the output channel it answers through."""

    @classmethod
    def name(cls) -> str:
        return "twilio"  # so the webhook is where Rasa's docs put it: /webhooks/twilio/webhook

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials or not credentials.get("api_url"):
            cls.raise_missing_credentials_exception()
        assert credentials is not None
        channel = cls(credentials.get("account_sid"), credentials.get("auth_token"), credentials.get("twilio_number"))
        channel.api_url = str(credentials["api_url"])
        return channel

    def get_output_channel(self) -> OutputChannel:
        return StandInTwilioOutput(self.account_sid, self.auth_token, self.twilio_number, self.api_url)
