"""Opt-out and opt-in per contact and channel: the BAJA/ALTA/AYUDA keywords, and what an opt-out stops.

BAJA, STOP or ALTO opts out, ALTA or START opts back in, AYUDA or HELP says what the line is. A
keyword is the whole message (Twilio's rule: "STOP PLEASE" is not a keyword), in any case, with or
without accents and end punctuation, or Twilio's OptOutType when its Advanced Opt-Out recognised
one (docs/twilio.md). People also say it in words ("no me manden más mensajes", "ya no quiero
recibir mensajes"): a short message that is only such a request opts out too. Keyword and phrase
messages never reach Rasa, and none is a word of the complaint form: CANCELAR, SALIR, PARAR,
DETENER and TERMINAR stay the form's way to cancel it (tests/intake/test_consent.py checks the
two vocabularies are disjoint).

An opt-out stops what the line starts (case notices, staff replies, notices), never the answer to
what the person starts: a complaint written after BAJA is still filed and answered (if Twilio
blocks that answer with 21610, the case page says so).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.identifiers import channel_of
from intake.models import ConsentEvent, OutboundMessage

OPT_OUT, OPT_IN, HELP = "opt_out", "opt_in", "help"
KEYWORDS = {
    "BAJA": OPT_OUT,
    "STOP": OPT_OUT,
    "ALTO": OPT_OUT,
    "ALTA": OPT_IN,
    "START": OPT_IN,
    "AYUDA": HELP,
    "HELP": HELP,
}
# Twilio's OptOutType values.
OPT_OUT_TYPES = {"STOP": OPT_OUT, "START": OPT_IN, "HELP": HELP}

OPTED_OUT, OPTED_IN = "opted_out", "opted_in"
# The kinds of message an opt-out stops (outbound_messages.kind); a "reply" always goes.
LINE_STARTED = ("case_notice", "staff_reply", "notice")

# Short lines that fit one SMS once converted to GSM-7 (as every SMS reply is, on the way out).
# "Baja" is also what a person says who was dropped from the programme ("me dieron de baja"): the
# confirmation tells them how to come back and be heard.
OPT_OUT_REPLY = (
    "Ya no recibirá mensajes de esta línea. Para volver, envíe ALTA. "
    "Si lo dieron de baja del bono, envíe ALTA y cuéntenos."
)
OPT_IN_REPLY = "Listo, volverá a recibir mensajes de la línea. Escriba MENU para ver opciones."
HELP_REPLY = (
    "Línea Ciudadana Bono Vida Mejor. Escriba MENU para ver opciones. "
    "Para no recibir mensajes escriba BAJA; para volver, ALTA."
)
REPLIES = {OPT_OUT: OPT_OUT_REPLY, OPT_IN: OPT_IN_REPLY, HELP: HELP_REPLY}


@dataclass(frozen=True)
class Keyword:
    action: str  # OPT_OUT | OPT_IN | HELP
    word: str  # as recognised: the folded body, or Twilio's OptOutType
    by_twilio: bool  # Twilio recognised it and has already answered the person


# "No me manden más mensajes" and its variants, on the folded text (lower case, no accents or
# punctuation). The whole message must be the request, give or take courtesy words: "no me
# manden mas mensajes, me cobraron 500" is a complaint first, and goes to the assistant.
_MESSAGES = r"(?:mensajes?|msj|msjs|mensajitos|sms|textos|avisos|notificaciones|recordatorios|nada)"
_SEND = (
    r"(?:manden|mande|mandes|envien|envie|escriban|escriba"
    r"|sigan mandando|sigan enviando|vuelvan a mandar|manden mas)"
)
_COURTESY = r"(?:(?:hola|buenas|buenos dias|buenas tardes|por favor|porfa|porfavor|xfa|pls|gracias|ya|senorita)\s*)*"
OPT_OUT_PHRASE = re.compile(
    rf"^{_COURTESY}(?:"
    rf"(?:ya\s+)?no\s+(?:me\s+)?{_SEND}\s+(?:mas\s+)?{_MESSAGES}"
    rf"|(?:ya\s+)?no\s+(?:quiero|kiero|deseo|quisiera)\s+(?:recibir|que\s+me\s+(?:manden|envien|lleguen|escriban))"
    rf"(?:\s+mas)?\s+{_MESSAGES}(?:\s+de\s+(?:ustedes|esta\s+linea|este\s+numero|la\s+linea|el\s+bono))?"
    rf"|(?:ya\s+)?no\s+(?:quiero|kiero|deseo)\s+mas\s+{_MESSAGES}"
    rf"|dejen\s+de\s+(?:mandarme|enviarme|escribirme)(?:\s+{_MESSAGES})?"
    rf"|(?:quitenme|saquenme|borrenme|quiteme|saqueme)\s+de\s+(?:los|sus|la\s+lista\s+de)\s+{_MESSAGES}"
    rf"|(?:ya\s+)?no\s+mas\s+{_MESSAGES}|basta\s+de\s+{_MESSAGES}"
    rf"|darme\s+de\s+baja\s+de\s+(?:los\s+)?{_MESSAGES}"
    rf")\s*{_COURTESY}$"
)
PHRASE = "frase"  # the keyword recorded for an opt-out said in words


def keyword_of(body: str, opt_out_type: str = "") -> Keyword | None:
    """The keyword this message is, if it is one; None for anything else (it goes to the assistant)."""
    twilio = OPT_OUT_TYPES.get(opt_out_type.strip().upper())
    if twilio is not None:
        return Keyword(twilio, opt_out_type.strip().upper(), True)
    word = _fold(body)
    action = KEYWORDS.get(word)
    if action is not None:
        return Keyword(action, word, False)
    return Keyword(OPT_OUT, PHRASE, False) if opt_out_phrase(body) else None


def opt_out_phrase(body: str) -> bool:
    """Is the whole message a request to stop the line's messages, in words?"""
    folded = _fold(body).lower()
    if len(folded) > 120:
        return False
    return OPT_OUT_PHRASE.match(re.sub(r"\s+", " ", re.sub(r"[^a-z0-9ñ ]", " ", folded)).strip()) is not None


def _fold(body: str) -> str:
    # "Baja.", "¡ALTA!", " báJa " are keywords; "baja por favor" is not.
    decomposed = unicodedata.normalize("NFKD", body.strip().strip(".,;:!¡?¿ \t\n"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def record(
    session: Session,
    contact_id: int,
    channel: str,
    state: str,
    source: str,
    at: datetime,
    keyword: str = "",
    inbound_id: int | None = None,
    outbound_id: int | None = None,
) -> ConsentEvent:
    event = ConsentEvent(
        contact_id=contact_id,
        channel=channel,
        state=state,
        source=source,
        keyword=keyword[:16],
        inbound_id=inbound_id,
        outbound_id=outbound_id,
        at=at,
    )
    session.add(event)
    session.flush()
    return event


def opted_out(session: Session, contact_id: int, channel: str) -> bool:
    """True if the contact's latest consent event on this channel is an opt-out."""
    latest = session.scalar(
        select(ConsentEvent.state)
        .where(ConsentEvent.contact_id == contact_id, ConsentEvent.channel == channel)
        .order_by(ConsentEvent.id.desc())
        .limit(1)
    )
    return latest == OPTED_OUT


# Twilio's codes that mean the person opted out: 21610 (STOP on SMS), 63014 (blocked on WhatsApp).
PROVIDER_SOURCES = {21610: "provider_21610", 63014: "whatsapp_block"}


def provider_opt_out(session: Session, message: OutboundMessage, code: int | None, at: datetime) -> None:
    """Twilio refused `message` because the person opted out: record it on that channel, once."""
    source = PROVIDER_SOURCES.get(code) if code is not None else None
    channel = channel_of(message.to_address)
    if source is not None and not opted_out(session, message.contact_id, channel):
        record(session, message.contact_id, channel, OPTED_OUT, source, at, outbound_id=message.id)


def stops(session: Session, message: OutboundMessage) -> bool:
    """True if an opt-out stops this message: one the line starts, to a contact opted out on its channel."""
    return message.kind in LINE_STARTED and opted_out(session, message.contact_id, channel_of(message.to_address))


def answer(session: Session, contact_id: int, channel: str, found: Keyword, inbound_id: int, at: datetime) -> list[str]:
    """Record what the keyword changes and return our replies: none when Twilio answered it already
    (a reply of ours to a STOP would fail with 21610 anyway)."""
    already = session.scalar(select(ConsentEvent.id).where(ConsentEvent.inbound_id == inbound_id))
    if found.action in (OPT_OUT, OPT_IN) and already is None:  # a retried turn records nothing twice
        state = OPTED_OUT if found.action == OPT_OUT else OPTED_IN
        record(session, contact_id, channel, state, "keyword", at, keyword=found.word, inbound_id=inbound_id)
    return [] if found.by_twilio else [REPLIES[found.action]]
