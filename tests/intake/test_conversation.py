"""A conversation turn with a scripted assistant: order, redaction, retries, splitting."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from intake.assistant import AssistantUnavailable, Parse
from intake.conversation import APOLOGY, MAX_PART, TEXT_ONLY, process_next, split_for_sms
from intake.identity import Policy
from intake.inbound import store_inbound
from intake.models import IdentityAttempt, InboundMessage, OutboundMessage
from intake.runtime import Runtime

POLICY = Policy(3, 30, 30)


class Scripted:
    """Parses every text as `intent` and replies from a script (or echoes what Rasa would get)."""

    def __init__(self, replies: list[list[str]] | None = None, fail: int = 0, intent: str = "chat") -> None:
        self.seen: list[tuple[str, str]] = []
        self.parsed: list[str] = []
        self.replies = replies or []
        self.fail = fail
        self.intent = intent

    def parse(self, text: str) -> Parse:
        self.parsed.append(text)
        return Parse(self.intent, 0.99, {"option": "2", "municipality": "secreto"})

    def reply(self, sender: str, text: str) -> list[str]:
        if self.fail:
            self.fail -= 1
            raise AssistantUnavailable("down")
        self.seen.append((sender, text))
        return self.replies.pop(0) if self.replies else [f"eco: {text}"]


def _receive(rt: Runtime, n: int, body: str, media: int = 0) -> int:
    with rt.sessions() as session, session.begin():
        form = {
            "MessageSid": f"SM{n:032d}",
            "From": "+50499887766",
            "To": "+50422220000",
            "Body": body,
            "NumMedia": str(media),
            "MediaUrl0": "https://x/ME1",
            "MediaContentType0": "audio/ogg",
        }
        message, _ = store_inbound(session, form, rt.settings.pseudonym_key, rt.now())
        session.flush()
        return message.contact_id


def _bodies(rt: Runtime) -> list[str]:
    with rt.sessions() as session:
        return list(session.scalars(select(OutboundMessage.body).order_by(OutboundMessage.id)))


def test_messages_are_answered_in_arrival_order_under_a_pseudonym(rt: Runtime) -> None:
    contact = _receive(rt, 1, "primero")
    _receive(rt, 2, "segundo")
    assistant = Scripted()
    while process_next(rt.sessions, contact, assistant, POLICY, rt.now):
        pass
    assert assistant.parsed == ["primero", "segundo"]
    assert all(sender.startswith("c_") and "99887766" not in sender for sender, _ in assistant.seen)
    # The tracker gets the intent and allowed entities only, never the words.
    assert [text for _, text in assistant.seen] == ['/chat{"option": "2"}', '/chat{"option": "2"}']


def test_a_dni_never_reaches_the_assistant_but_is_checked(rt: Runtime) -> None:
    contact = _receive(rt, 1, "mi identidad es 0801-1990-12345")
    assistant = Scripted()
    process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    assert assistant.seen[0][1] == "/inform_dni"
    with rt.sessions() as session:
        assert session.scalars(select(IdentityAttempt.outcome)).one() == "mismatch"


def test_when_the_assistant_is_down_the_message_stays_pending(rt: Runtime) -> None:
    contact = _receive(rt, 1, "hola")
    assistant = Scripted(fail=1)
    with pytest.raises(AssistantUnavailable):
        process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    with rt.sessions() as session:
        assert session.scalars(select(InboundMessage.status)).one() == "received"
    assert process_next(rt.sessions, contact, assistant, POLICY, rt.now) is not None
    assert _bodies(rt) == ['eco: /chat{"option": "2"}']


def test_repeated_empty_answers_end_in_an_apology_not_silence(rt: Runtime) -> None:
    contact = _receive(rt, 1, "hola")
    assistant = Scripted(replies=[[], [], [], []])
    for _ in range(3):
        with pytest.raises(AssistantUnavailable):
            process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    assert _bodies(rt) == [APOLOGY]


def test_a_voice_note_without_text_gets_a_kind_request_to_write(rt: Runtime) -> None:
    contact = _receive(rt, 1, "", media=1)
    assistant = Scripted()
    process_next(rt.sessions, contact, assistant, POLICY, rt.now)
    assert assistant.seen == []
    assert _bodies(rt) == [TEXT_ONLY]


def test_replies_are_joined_into_few_messages_that_fit() -> None:
    assert split_for_sms(["a", "b"]) == ["a\n\nb"]
    long = ["x" * 1000, "y" * 1000]
    assert split_for_sms(long) == ["x" * 1000, "y" * 1000]
    parts = split_for_sms(["z" * 3200])
    assert all(len(p) <= MAX_PART for p in parts) and "".join(parts) == "z" * 3200


def test_sms_replies_stay_in_the_gsm7_alphabet_whatsapp_keeps_accents(rt: Runtime) -> None:
    from intake.sms_text import to_gsm7

    assert to_gsm7("¿Algo más? Cuándo, Ñandú, número… ¡Sí!") == "¿Algo mas? Cuando, Ñandu, numero... ¡Si!"
    contact = _receive(rt, 1, "hola")  # an SMS sender
    process_next(rt.sessions, contact, Scripted(replies=[["Le quedan 2 intentos. ¿Algo más?"]]), POLICY, rt.now)
    assert _bodies(rt) == ["Le quedan 2 intentos. ¿Algo mas?"]
