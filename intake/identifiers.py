"""Honduran identity numbers (DNI) and phone numbers: parsing, normalising, masking."""

from __future__ import annotations

import re

_DNI_SHAPE = re.compile(r"^\d{4}[- ]?\d{4}[- ]?\d{5}$")
_LOCAL_MOBILE = re.compile(r"^\d{8}$")
_E164_HN = re.compile(r"^\+504\d{8}$")
_E164_ANY = re.compile(r"^\+[1-9]\d{6,14}$")


def normalize_dni(raw: str) -> str | None:
    """13 digits from '0801-1990-12345', '0801 1990 12345' or '0801199012345'; else None."""
    value = raw.strip()
    if not _DNI_SHAPE.match(value):
        return None
    return re.sub(r"\D", "", value)


def normalize_phone(raw: str) -> str | None:
    """E.164 from '+50499887766', '99887766' or '504 9988-7766'; else None."""
    value = re.sub(r"[\s\-().]", "", raw.strip())
    if _LOCAL_MOBILE.match(value):
        return "+504" + value
    if value.startswith("504") and len(value) == 11:
        return "+" + value
    if _E164_HN.match(value) or _E164_ANY.match(value):
        return value
    return None


def address_phone(address: str) -> str:
    """The phone of a Twilio address: 'whatsapp:+50499887766' -> '+50499887766'."""
    return address.split(":", 1)[1] if ":" in address else address


def channel_of(address: str) -> str:
    return "whatsapp" if address.startswith("whatsapp:") else "sms"


def mask_dni(dni: str) -> str:
    """Show only the last 4 digits: 0801-****-*2345 style for staff screens and logs."""
    return "*" * 9 + dni[-4:] if len(dni) == 13 else "*" * len(dni)


def mask_phone(phone: str) -> str:
    return phone[:4] + "****" + phone[-2:] if len(phone) > 6 else "****"
