"""Pseudonymous sender ids: a keyed HMAC of the phone, so Rasa never holds a raw number."""

from __future__ import annotations

import hashlib
import hmac


def pseudonym_for(phone: str, key: str) -> str:
    """A stable, non-reversible id for `phone` (E.164); 32 hex chars are plenty to avoid clashes."""
    digest = hmac.new(key.encode(), phone.encode(), hashlib.sha256).hexdigest()
    return "c_" + digest[:32]
