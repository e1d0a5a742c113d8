"""What the assistant may see of a message: DNIs and phone numbers are taken out before Rasa."""

from __future__ import annotations

import re
from dataclasses import dataclass

from intake.identifiers import normalize_dni

# Digits with the separators people type between groups: a space or two, or a dash or dot with
# spaces around it or not ("0801-1990-12345", "0801 - 1990 - 12345", "0801.1990.12345"; phones
# turn "-" into "–" on their own).
# A slash is not one: "15/03/2026" is a date, which the assistant may read.
_NUMBER_RUN = re.compile(r"(?<![\d])\+?\d(?:(?: {0,2}[\-.–—_] {0,2}| {1,2})?\d){6,}(?![\d])")

# The intent the assistant receives instead of a message that carried a DNI. Rasa parses
# "/intent" messages without NLU, so the number never reaches its tracker.
DNI_INTENT = "/inform_dni"
NUMBER_PLACEHOLDER = "[numero]"


@dataclass(frozen=True)
class Prepared:
    text: str  # what Rasa gets
    dni: str | None  # 13 normalised digits, if the message carried one
    dni_malformed: bool  # a long number that looks like a mistyped DNI
    clean: str  # the text with every long number blanked out (safe to classify)


def mask_numbers(text: str) -> str:
    """The text with every long number (a DNI, a phone, an account) replaced by a placeholder."""
    return _NUMBER_RUN.sub(NUMBER_PLACEHOLDER, text)


def prepare_for_assistant(body: str) -> Prepared:
    """Find a DNI (or a near miss) and blank every long number out of the text."""
    dni: str | None = None
    malformed = False
    for match in _NUMBER_RUN.finditer(body):
        raw = match.group(0)
        digits = re.sub(r"\D", "", raw)
        if len(digits) == 13 and not raw.startswith("+"):
            dni = dni or normalize_dni(digits)
        elif 10 <= len(digits) <= 15 and not raw.startswith("+") and not digits.startswith("504"):
            malformed = True
    clean = mask_numbers(body)
    if dni or malformed:
        return Prepared(text=DNI_INTENT, dni=dni, dni_malformed=dni is None, clean=clean)
    return Prepared(text=clean, dni=None, dni_malformed=False, clean=clean)
