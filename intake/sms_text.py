"""SMS text in the GSM-7 alphabet: one accent outside it (á, í, ó, ú) makes a whole SMS UCS-2,
cutting a segment from 160 to 70 characters and tripling what a long reply costs to arrive."""

from __future__ import annotations

import unicodedata

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
