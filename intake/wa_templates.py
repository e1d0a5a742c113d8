"""The WhatsApp templates used outside the 24-hour window: their texts live here, their ContentSids in settings.

Each text is what was (or must be) submitted to WhatsApp for approval, category "utility", in
Spanish; `{{1}}`, `{{2}}` … are its variables, sent as ContentVariables. The ContentSid Twilio
gives each approved template goes in its setting (docs/twilio.md); a template whose setting is
empty cannot be used, and a message that needs it is held until the person writes again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Template:
    name: str
    setting: str  # the environment variable holding its ContentSid
    text: str

    def render(self, variables: Mapping[str, str]) -> str:
        """The text the person reads, for the transcript and the staff page."""
        return re.sub(r"\{\{(\d+)\}\}", lambda m: variables.get(m.group(1), ""), self.text)


TEMPLATES = {
    t.name: t
    for t in (
        Template(
            "case_update",
            "TWILIO_CONTENT_CASE_UPDATE",
            "Su {{1}} {{2}} está {{3}}. Para más detalle escriba ESTADO {{2}}.",
        ),
        Template(
            "case_closed",
            "TWILIO_CONTENT_CASE_CLOSED",
            "Su {{1}} {{2}} está {{3}}. ¿Qué tan satisfecho quedó? Responda con un número del 1 (nada) "
            "al 5 (muy satisfecho). Si no se resolvió, escriba REABRIR {{2}} (tiene 15 días).",
        ),
        Template(
            "reply_waiting",
            "TWILIO_CONTENT_REPLY_WAITING",
            "Tenemos una respuesta del programa sobre su {{1}} {{2}}. Escríbanos cualquier mensaje para leerla.",
        ),
        Template(
            "payment_day",
            "TWILIO_CONTENT_PAYMENT_DAY",
            "Bono Vida Mejor: su pago es el {{1}} en {{2}}. Para no recibir avisos escriba BAJA.",
        ),
    )
}


def content_sids(env: Mapping[str, str]) -> dict[str, str]:
    """Each template's ContentSid from the environment; templates without one are left out."""
    found = {}
    for template in TEMPLATES.values():
        sid = env.get(template.setting, "").strip()
        if sid:
            found[template.name] = sid
    return found


def variables_json(variables: Mapping[str, str]) -> str:
    return json.dumps(dict(variables), ensure_ascii=False, sort_keys=True)
