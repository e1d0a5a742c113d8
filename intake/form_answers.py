"""Reading a beneficiary's answers to the case form: menu numbers, cycle, confidentiality (places: intake.places).

Tolerant of how people write on phones: no accents, typos, numbers from the menu, month names.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from datetime import date

MONTH_NAMES = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)
MONTHS = {name: n for n, name in enumerate(MONTH_NAMES, start=1)} | {"setiembre": 9}
UNKNOWN_WORDS = ("no se", "no me acuerdo", "no recuerdo", "ni idea", "nose")
CONFIDENTIALITY = {"1": "identified", "2": "confidential", "3": "anonymous"}
CONFIDENTIALITY_WORDS = {
    "anonim": "anonymous",
    "sin nombre": "anonymous",
    "confidencial": "confidential",
    "secreto": "confidential",
    "con mi nombre": "identified",
    "identificad": "identified",
}


def plain(text: str) -> str:
    """Lowercase, no accents, no punctuation, single spaces: 'Santa Rosa de Copán!' -> 'santa rosa de copan'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9ñ ]", " ", letters)).strip()


def first_number(text: str) -> int | None:
    match = re.search(r"\d+", text)
    return int(match.group(0)) if match else None


def parse_cycle(text: str, today: date) -> str | None:
    """'marzo', '3', '2026-03', 'el de marzo' -> the latest such cycle not after today; 'no se' -> 'unknown'."""
    words = plain(text)
    if any(w in words for w in UNKNOWN_WORDS):
        return "unknown"
    iso = re.search(r"\b(20\d\d)[-/ ](0?[1-9]|1[0-2])\b", words)
    if iso:
        return f"{int(iso.group(1)):04d}-{int(iso.group(2)):02d}"
    month = next((n for name, n in MONTHS.items() if name in words), None)
    if month is None:
        for token in words.split():
            close = difflib.get_close_matches(token, list(MONTHS), n=1, cutoff=0.8)
            if close:
                month = MONTHS[close[0]]
                break
    if month is None:
        number = first_number(words)
        month = number if number is not None and 1 <= number <= 12 else None
    if month is None:
        return None
    year = today.year if month <= today.month else today.year - 1
    return f"{year:04d}-{month:02d}"


def parse_confidentiality(text: str) -> str | None:
    words = plain(text)
    number = first_number(words)
    if number is not None and str(number) in CONFIDENTIALITY and len(words) <= 12:
        return CONFIDENTIALITY[str(number)]
    return next((value for key, value in CONFIDENTIALITY_WORDS.items() if key in words), None)


def parse_menu_choice(text: str, options: int) -> int | None:
    """A number from 1 to `options` written alone or in a short phrase ('la 2', 'opcion 3').
    ASCII digits only: folding would turn "²" into 2, an answer nobody gave."""
    if any(not c.isascii() and c.isnumeric() for c in text):
        return None
    words = plain(text)
    number = first_number(words)
    if number is None or not 1 <= number <= options or len(words.split()) > 4:
        return None
    return number
