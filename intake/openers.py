"""Explicit requests at the start of a message, and where a long message's point is.

"Quiero poner una queja: fui al banco y no me pagaron…" is a complaint, though most of its
words sound like a payment question. A request said at the start (after a greeting) decides the
intent before the classifier hears the rest; the rest is the story. A very long message (SMS
joined into 1,000+ characters) is classified on its first sentences, where people put the point,
and kept whole as the description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from intake.form_answers import plain
from intake.references import find_reference

_GREETING = (
    r"(?:(?:hola|ola|buenas|buenos dias|buenas tardes|buenas noches|buen dia|saludos|disculpe|perdone"
    r"|mire|fijese|senorita|senor|por favor|porfa)\s+)*"
)
_WANT = r"(?:yo\s+)?(?:quiero|kiero|quisiera|necesito|nesecito|deseo|vengo a|voy a|me gustaria)\s+"
_COMPLAINT = re.compile(
    rf"^{_GREETING}(?:"
    rf"{_WANT}(?:poner|hacer|presentar|meter|dejar|interponer|levantar|pone|aser|hacerles|ponerles)\s+"
    r"(?:una|un|mi)\s+(?:queja|denuncia|reclamo|demanda|quejas|denuncias)"
    rf"|{_WANT}(?:denunciar|quejarme|reportar|acusar)"
    r"|tengo\s+(?:una|un)\s+(?:queja|denuncia|reclamo)"
    r"|(?:es\s+)?(?:una\s+)?(?:queja|denuncia)(?:\s|$)"
    r")"
)
_PERSON = re.compile(
    rf"^{_GREETING}{_WANT}(?:hablar|comunicarme|platicar)\s+con\s+"
    r"(?:una\s+persona|alguien|un\s+agente|un\s+operador|una\s+operadora|un\s+humano|un\s+asesor|una\s+asesora"
    r"|una\s+senorita|un\s+licenciado|una\s+licenciada|personal)"
)
_STATUS = re.compile(rf"^{_GREETING}(?:estado|status|como va|como esta)\b")
# Longer than this, a message is classified on its first sentences only.
LONG_MESSAGE = 600
FIRST_SENTENCES = 300
_SENTENCE_END = re.compile(r"(?<=[.!?\n])\s+")


@dataclass(frozen=True)
class Request:
    intent: str  # file_complaint | talk_to_person | check_case_status
    reference: str | None = None  # for check_case_status: the reference the message names


def explicit_request(text: str) -> Request | None:
    """The request said at the start of `text`, whatever follows it; None when there is none."""
    words = plain(text)
    if _STATUS.match(words):
        reference = find_reference(text[:80])
        if reference:
            return Request("check_case_status", reference)
    if _PERSON.match(words):
        return Request("talk_to_person")
    if _COMPLAINT.match(words):
        return Request("file_complaint")
    return None


def story_of(text: str) -> str:
    """What the person tells after an explicit request ("quiero poner una queja, ..."); the whole
    text when it opens with none."""
    words = plain(text)
    match = _COMPLAINT.match(words)
    return words[match.end() :].strip() if match else words


def for_classifier(text: str) -> str:
    """The part of a message the intent classifier reads: all of it, or a long one's first sentences."""
    if len(text) <= LONG_MESSAGE:
        return text
    head = ""
    for sentence in _SENTENCE_END.split(text):
        head = f"{head} {sentence}".strip()
        if len(head) >= FIRST_SENTENCES // 2:
            break
    if len(head) > FIRST_SENTENCES:
        head = head[:FIRST_SENTENCES].rsplit(" ", 1)[0]
    return head
