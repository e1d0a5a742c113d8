"""Fixtures the intake tests share: a local Twilio stand-in for sending."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stack.twilio_standin import TwilioStandIn
from tests.intake.twilio_account import SID, TOKEN


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    """Twilio's Messages API on a local port, account SID and TOKEN (tests that need other
    credentials, as the reconcilers', define their own)."""
    standin = TwilioStandIn(SID, TOKEN).start()
    yield standin
    standin.stop()
