"""Database engines: errors never carry the bound values (phones, DNIs, message texts)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from intake.models import Contact, InboundMessage
from intake.runtime import Runtime


def test_an_integrity_error_does_not_show_the_bound_phone_or_text(rt: Runtime) -> None:
    phone, body = "+50499112233", "mi DNI es 0801199012345 y no me pagan"
    with rt.sessions() as session, session.begin():
        contact = Contact(phone=phone, pseudonym="c_prueba")
        session.add(contact)
        session.flush()
        contact_id = contact.id
    row = {
        "message_sid": "SM" + "e" * 32,
        "contact_id": contact_id,
        "channel": "sms",
        "from_address": phone,
        "to_address": "+50422220000",
        "body": body,
    }
    with rt.sessions() as session, session.begin():
        session.execute(insert(InboundMessage).values(**row))
    with pytest.raises(IntegrityError) as raised, rt.sessions() as session, session.begin():
        session.execute(insert(InboundMessage).values(**row))  # the same MessageSid again
    text = str(raised.value)
    assert phone not in text and body not in text and "0801199012345" not in text
    assert "parameters hidden" in text
