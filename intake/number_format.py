"""How a published figure is written for readers, on the page and in the report: 12, 12.5, 87.3 %."""

from __future__ import annotations


def number(value: float | int | str | None, unit: str = "") -> str:
    """A published value as readers see it (Honduras writes 1,250.5); a marker such as
    "reservado" as it is."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return f"{text} {unit}" if unit == "%" else text
