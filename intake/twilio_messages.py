"""Twilio's list of Messages (GET …/Messages.json): what Twilio received, to compare with what the line stored."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

# A day of the line is a few thousand messages; this only stops a provider bug from looping forever.
MAX_PAGES = 1000


class ListingError(RuntimeError):
    """Twilio did not give us the list (unreachable, or an error status); try again later."""


@dataclass(frozen=True)
class ListedMessage:
    """One Message resource as the list gives it (the fields reconciliation needs)."""

    sid: str
    account_sid: str
    direction: str
    from_address: str
    to_address: str
    body: str
    num_media: str
    date_sent: datetime | None

    def webhook_form(self) -> dict[str, str]:
        """The webhook's form for this message, as far as the resource tells it.

        The list has no ProfileName, WaId, media URLs or location: those stay empty."""
        return {
            "MessageSid": self.sid,
            "AccountSid": self.account_sid,
            "From": self.from_address,
            "To": self.to_address,
            "Body": self.body,
            "NumMedia": self.num_media,
        }


def _date(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None


def _listed(item: dict[str, Any]) -> ListedMessage:
    return ListedMessage(
        sid=str(item.get("sid") or ""),
        account_sid=str(item.get("account_sid") or ""),
        direction=str(item.get("direction") or ""),
        from_address=str(item.get("from") or ""),
        to_address=str(item.get("to") or ""),
        body=str(item.get("body") or ""),
        num_media=str(item.get("num_media") or "0"),
        date_sent=_date(item.get("date_sent")),
    )


@dataclass(frozen=True)
class TwilioMessages:
    """Reads the account's Messages list at `api_url` (Twilio, or the local stand-in in tests)."""

    account_sid: str
    auth_token: str
    api_url: str
    timeout_s: float = 15.0
    page_size: int = 1000  # Twilio's maximum: fewest requests

    def sent_since(self, day: date) -> Iterator[ListedMessage]:
        """Every message (both directions) with a date_sent on or after `day` (GMT), page by page."""
        url: str | None = f"{self.api_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        # Twilio's name for "on or after" is the parameter "DateSent>" (its query reads DateSent>=…).
        params: dict[str, str] | None = {"DateSent>": day.isoformat(), "PageSize": str(self.page_size)}
        for _ in range(MAX_PAGES):
            if url is None:
                return
            try:
                response = requests.get(
                    url, params=params, auth=(self.account_sid, self.auth_token), timeout=self.timeout_s
                )
            except requests.RequestException as exc:
                raise ListingError(f"twilio unreachable ({type(exc).__name__})") from None
            if response.status_code != 200:
                raise ListingError(f"twilio HTTP {response.status_code}")
            page = response.json()
            for item in page.get("messages") or []:
                yield _listed(item)
            # next_page_uri is relative to the API's root and carries every parameter (and a PageToken).
            next_uri = page.get("next_page_uri")
            url, params = (f"{self.api_url}{next_uri}", None) if next_uri else (None, None)
        raise ListingError(f"more than {MAX_PAGES} pages")
