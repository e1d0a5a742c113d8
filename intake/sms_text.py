"""SMS text in the GSM-7 alphabet: one accent outside it (á, í, ó, ú) makes a whole SMS UCS-2,
cutting a segment from 160 to 70 characters and tripling what a long reply costs to arrive."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€"
_ALLOWED = set(GSM7_BASIC + GSM7_EXTENSION)
_REPLACEMENTS = {"…": "...", "–": "-", "—": "-", "“": '"', "”": '"', "‘": "'", "’": "'", "\u00a0": " "}


def to_gsm7(text: str) -> str:
    """Keep ñ, é, ¿ and ¡ (they are GSM-7); write á, í, ó, ú without accent; drop what has no letter."""
    out: list[str] = []
    for char in text:
        if char in _ALLOWED:
            out.append(char)
        elif char in _REPLACEMENTS:
            out.append(_REPLACEMENTS[char])
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if c in _ALLOWED)
            out.append(base)
    return "".join(out)


# Characters per SMS: one segment alone, or each segment of a longer message (the rest of 160
# or 70 carries the header that joins the parts). Twilio bills every segment.
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class SmsCost:
    encoding: str  # "GSM-7" or "UCS-2"
    segments: int


def sms_cost(text: str) -> SmsCost:
    """How Twilio will encode `text` and how many segments it will bill (an extension character,
    such as € or [, takes two GSM-7 places; a character outside the BMP takes two UCS-2 ones)."""
    if all(c in _ALLOWED for c in text):
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        single, part, encoding = GSM7_SINGLE, GSM7_PART, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = UCS2_SINGLE, UCS2_PART, "UCS-2"
    return SmsCost(encoding, 1 if units <= single else math.ceil(units / part))
