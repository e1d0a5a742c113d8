"""Send a message to the running system as Twilio would (signed with the token in .env)."""

from __future__ import annotations

import argparse
import csv
import secrets
import sys
from pathlib import Path

import requests
from dotenv import dotenv_values
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("body", help="the message text")
    sender = parser.add_mutually_exclusive_group(required=True)
    sender.add_argument("--from", dest="phone", help="sender, E.164 (+504…) or whatsapp:+504…")
    sender.add_argument("--pick", action="store_true", help="the first active household of the demo registry")
    args = parser.parse_args()
    env = dotenv_values(ROOT / ".env")
    phone = args.phone
    if args.pick:
        with (ROOT / "var/demo/beneficiaries.csv").open(encoding="utf-8") as handle:
            household = next(row for row in csv.DictReader(handle) if row["status"] == "active")
        phone = household["phone"]
        print(f"demo household {household['household_id']}: phone {phone}, DNI {household['dni']}")
    port = env.get("PORT") or "8000"
    public = (env.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{port}").rstrip("/")
    form = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": "AC" + "0" * 32,
        "From": phone,
        "To": "+50422220000",
        "Body": args.body,
        "NumMedia": "0",
    }
    signature = RequestValidator(env.get("TWILIO_AUTH_TOKEN") or "").compute_signature(f"{public}/twilio/inbound", form)
    response = requests.post(
        f"http://127.0.0.1:{port}/twilio/inbound",
        data=form,
        headers={"X-Twilio-Signature": signature},
        timeout=10,
    )
    print(f"HTTP {response.status_code} {response.text}")
    return 0 if response.status_code == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
