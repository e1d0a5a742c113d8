"""The running system the stack tests talk to (System, Assistant) and how they pick a household and read a reply."""

from __future__ import annotations

import csv
import os
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import requests
from twilio.request_validator import RequestValidator

from intake.broker import producer
from intake.sms_text import to_gsm7
from stack.processes import Process
from stack.twilio_standin import TwilioStandIn
from tests.env import TWILIO_AUTH_TOKEN

STACK_REDIS_URL = os.environ.get("TEST_STACK_REDIS_URL", "redis://127.0.0.1:6379/8")
TWILIO_SID = "AC" + "2" * 32
LINE_NUMBER = "+50422220000"


@dataclass
class Assistant:
    """Rasa and the action server, shared by every backend (they hold no database)."""

    env: dict[str, str]
    rasa: Process
    actions: Process

    def stop_rasa(self) -> None:
        self.rasa.stop()

    def start_rasa(self) -> None:
        old = self.rasa
        self.rasa = Process(old.name, old.argv, old.env, old.health_url, log_path=old.log_path).start()
        self.rasa.wait_ready(240)


@dataclass
class System:
    env: dict[str, str]
    database_url: str
    twilio: TwilioStandIn
    beneficiaries: list[dict[str, str]]
    payments: list[dict[str, str]]
    processes: list[Process] = field(default_factory=list)
    used: set[str] = field(default_factory=set)  # households a test has already talked as
    sent: int = 0

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.env['PORT']}"

    @property
    def internal(self) -> str:
        return self.env["INTERNAL_API_URL"]

    def send(self, phone: str, body: str, sid: str | None = None, media: list[str] | None = None) -> str:
        """Deliver a message as Twilio would: form-encoded, signed over the public URL."""
        self.sent += 1
        sid = sid or f"SM{int(time.time() * 1000) % 10**12:012d}{self.sent:020d}"
        line = "whatsapp:" + LINE_NUMBER if phone.startswith("whatsapp:") else LINE_NUMBER
        form = {
            "MessageSid": sid,
            "AccountSid": TWILIO_SID,
            "From": phone,
            "To": line,
            "Body": body,
            "NumMedia": str(len(media or [])),
        }
        for n, url in enumerate(media or []):
            form[f"MediaUrl{n}"], form[f"MediaContentType{n}"] = url, "image/jpeg"
        signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(
            self.env["PUBLIC_BASE_URL"] + "/twilio/inbound", form
        )
        response = requests.post(
            f"{self.web}/twilio/inbound", data=form, headers={"X-Twilio-Signature": signature}, timeout=10
        )
        assert response.status_code == 200, response.text
        return sid

    def fresh_phone(self) -> str:
        """A phone that is in no registry and has never written (distinct per backend)."""
        self.sent += 1
        prefix = "+504311" if self.database_url.startswith("sqlite") else "+504322"
        return f"{prefix}{self.sent:05d}"

    def replies(self, phone: str) -> list[str]:
        return self.twilio.bodies_to(phone)

    def wait_reply(self, phone: str, count: int, timeout_s: float = 60) -> str:
        """The `count`-th reply to `phone` (1-based), waiting for it."""
        deadline = time.monotonic() + timeout_s
        swept = time.monotonic()
        while time.monotonic() < deadline:
            got = self.replies(phone)
            if len(got) >= count:
                return got[count - 1]
            if time.monotonic() - swept > 15:  # what beat does in production: a task gives up after a minute
                producer(self.env["REDIS_URL"]).send_task("conversation.sweep")
                swept = time.monotonic()
            time.sleep(0.2)
        raise AssertionError(f"no reply #{count} to {phone} within {timeout_s} s; got {self.replies(phone)}")

    def ask(self, phone: str, body: str, timeout_s: float = 60, media: list[str] | None = None) -> str:
        before = len(self.replies(phone))
        self.send(phone, body, media=media)
        return self.wait_reply(phone, before + 1, timeout_s)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def unused_household(system: System, *, with_next: bool = False, withheld: bool = False) -> dict[str, str]:
    """An active household, not used by another test yet, with the payment situation a test needs."""
    today = date.today().isoformat()
    found = []
    for household in system.beneficiaries:
        if household["status"] != "active":
            continue
        payments = [p for p in system.payments if p["household_id"] == household["household_id"]]
        has_next = any(p["status"] == "scheduled" and p["scheduled_date"] >= today for p in payments)
        has_withheld = any(p["status"] == "withheld" for p in payments)
        fresh = household["household_id"] not in system.used
        if fresh and (not with_next or has_next) and (not withheld or has_withheld):
            found.append(household)
    system.used.add(found[0]["household_id"])
    return found[0]


def next_payment(system: System, household: dict[str, str]) -> dict[str, str]:
    """The household's next scheduled payment in the registry files: what the assistant must say."""
    today = date.today().isoformat()
    return min(
        (
            p
            for p in system.payments
            if p["household_id"] == household["household_id"]
            and p["status"] == "scheduled"
            and p["scheduled_date"] >= today
        ),
        key=lambda p: p["scheduled_date"],
    )


def says(reply: str, expected: str) -> bool:
    """`expected` is in `reply` as an SMS carries it (GSM-7: no á, í, ó, ú)."""
    return to_gsm7(expected) in to_gsm7(reply)
