"""Twilio's delivery statuses and error codes read into ours: a message only moves forward; each code has a class."""

from __future__ import annotations

# Our statuses by how far a message has gone. queued, sending and unknown are ours alone: the
# sender sets them, a callback never does (Twilio's "queued" and "sending" are other words that
# happen to be spelled the same, and took the row back to the send queue: a second send).
RANK = {"queued": 0, "sending": 0, "unknown": 0, "sent": 1, "delivered": 2, "read": 3}
FAILED = ("failed", "undelivered")
# Statuses no callback changes: failures are final, and the console sender's rows never left.
FINAL = (*FAILED, "recorded")

# Twilio's statuses (its OpenAPI `message_enum_status`) in ours. Everything before "delivered"
# means Twilio has the message: for us it is sent.
FROM_TWILIO = {
    "accepted": "sent",
    "scheduled": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "partially_delivered": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
    "undelivered": "undelivered",
    "canceled": "failed",
}


def after_callback(current: str, twilio_status: str) -> str | None:
    """Our status once Twilio says `twilio_status`, or None to leave `current` as it is.

    Forward only: a late "sent" never undoes "delivered". A failure ends a message that had not
    been delivered, never one that was (a duplicate or reordered callback). Callbacks come as
    independent requests, unordered and sometimes twice."""
    ours = FROM_TWILIO.get(twilio_status)
    if ours is None or current in FINAL:
        return None
    if ours in FAILED:
        return ours if RANK.get(current, 0) <= RANK["sent"] else None
    return ours if RANK[ours] > RANK.get(current, 0) else None


# Twilio's error codes by what they mean for the line (Twilio's error list; see docs/twilio.md).
ERROR_CLASSES: dict[str, frozenset[int]] = {
    # Slow down and try again; never counted as a failed attempt.
    "throttle": frozenset({20429, 21611, 30001, 63017, 63018, 63038, 30022, 30023, 14107}),
    # The person said STOP/BAJA (21610) or blocked the WhatsApp sender (63014).
    "optout": frozenset({21610, 63014}),
    # The number cannot get messages on this channel.
    "permanent": frozenset({21211, 21612, 21614, 30005, 30006, 63003, 63024}),
    # The phone was off or out of coverage.
    "temporary": frozenset({30003, 30008}),
    # A carrier or WhatsApp filtered it: the same text would be filtered again.
    "policy": frozenset({30004, 30007, 63013, 63032}),
    # WhatsApp's 24-hour window had closed: only a template may go.
    "window": frozenset({63016}),
    # A template or account setting is wrong: an operator must act.
    "config": frozenset({21655, 21656, 63005, 63021, 63027, 63028}),
    "expired": frozenset({30036}),
}
TECHNICAL = "technical"

# What staff read on a case page beside a message that did not arrive.
CLASS_LABELS = {
    "throttle": "demorado por límite de envío",
    "optout": "la persona pidió no recibir mensajes (BAJA)",
    "permanent": "número inválido o sin este canal",
    "temporary": "teléfono apagado o sin cobertura",
    "policy": "bloqueado por el operador o WhatsApp",
    "window": "fuera de las 24 horas de WhatsApp",
    "config": "error de configuración de la línea",
    "expired": "venció antes de poder enviarse",
    "cancelled": "aviso cancelado antes de enviarse",
    TECHNICAL: "error técnico",
}


def error_class(code: int | None) -> str:
    """The class of a Twilio error code; "" when there is no code."""
    if code is None:
        return ""
    for name, codes in ERROR_CLASSES.items():
        if code in codes:
            return name
    return TECHNICAL


def parse_code(raw: str | None) -> int | None:
    """Twilio's ErrorCode field (digits, or empty) as a number; anything else is no code."""
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else None
