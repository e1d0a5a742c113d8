"""Month names in Honduran Spanish (the case form's summary). Dates and amounts are written by the worker."""

from __future__ import annotations

# Also in intake/form_answers.py: the action server's environment (Rasa's) cannot import intake.
MONTHS = (
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
