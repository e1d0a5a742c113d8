"""Case references like BVM-7K3Q9: short, read aloud easily, no 0/O/1/I to confuse."""

from __future__ import annotations

import re
import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_PATTERN = re.compile(r"\bBVM[\s\-]?([A-HJ-NP-Z2-9]{5})\b", re.IGNORECASE)


def new_reference() -> str:
    """A random reference (32^5 = 33.5 million); the caller retries on the rare clash."""
    return "BVM-" + "".join(secrets.choice(ALPHABET) for _ in range(5))


def find_reference(text: str) -> str | None:
    """The first reference in `text`, normalised ('bvm7k3q9' -> 'BVM-7K3Q9')."""
    match = _PATTERN.search(text)
    return f"BVM-{match.group(1).upper()}" if match else None
