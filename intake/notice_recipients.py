"""Who a payment-day campaign writes to: eligible households, their channel and text, the rows made in chunks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from intake.consent import OPTED_OUT
from intake.db import insert_on_conflict
from intake.identifiers import channel_of
from intake.models import ConsentEvent, Contact, Household, InboundMessage, NoticeCampaign, OutboundMessage, Payment
from intake.notices import (
    CHUNK,
    NOTICE,
    PAYMENT_DAY,
    SKIP_OPTOUT,
    SKIP_UNREACHABLE,
    Channels,
    Recipient,
    notice_key,
    notice_text,
)
from intake.outbound_rows import new_outbound
from intake.pseudonyms import pseudonym_for
from intake.reachability import unreachable_channels
from intake.sms_text import to_gsm7
from intake.wa_templates import TEMPLATES, variables_json


def eligible(cycle: str, department: str, after: str = "") -> Select[str, str, date, str]:
    """Active households with a payment scheduled in the cycle, in household order."""
    query = (
        select(Household.household_id, Household.phone, Payment.scheduled_date, Payment.collection_point)
        .join(Payment, Payment.household_id == Household.household_id)
        .where(Payment.cycle == cycle, Payment.status == "scheduled", Household.status == "active")
        .where(Household.household_id > after)
        .order_by(Household.household_id)
    )
    return query.where(Household.department == department) if department else query


def next_chunk(session: Session, campaign: NoticeCampaign, after: str, channels: Channels) -> list[Recipient]:
    """The next CHUNK households after `after`, each with its channel, text and whether it is skipped."""
    rows = session.execute(eligible(campaign.cycle, campaign.department, after).limit(CHUNK)).all()
    if not rows:
        return []
    contacts = dict(
        session.execute(select(Contact.phone, Contact.id).where(Contact.phone.in_({r[1] for r in rows}))).all()
    )
    known = list(contacts.values())
    opted = _opted_out(session, known)
    whatsapp_from = _whatsapp_senders(session, known) if channels.whatsapp else {}
    unreachable = unreachable_channels(session, known)
    out = []
    for household_id, phone, day, place in rows:
        contact_id = contacts.get(phone)
        body, variables = notice_text(day, place)
        to, sender, template_vars = phone, channels.sms_from, ""
        if contact_id in whatsapp_from and (contact_id, "whatsapp") not in unreachable:
            to, sender = f"whatsapp:{phone}", whatsapp_from[contact_id]
            # WhatsApp keeps the accents; the place is the SMS's (shortened the same way if it was
            # long), so an SMS sent instead, from this text, is still one segment.
            if variables["2"] == to_gsm7(place.strip()):
                variables["2"] = place.strip()
            body, template_vars = TEMPLATES[PAYMENT_DAY].render(variables), variables_json(variables)
        skip = ""
        if contact_id in opted:
            # An opt-out on either channel: the person asked the line to stop, and a notice by
            # the other channel would go against that.
            skip = SKIP_OPTOUT
        elif (contact_id, channel_of(to)) in unreachable:
            skip = SKIP_UNREACHABLE
        out.append(Recipient(household_id, phone, contact_id, to, sender, body, template_vars, skip))
    return out


def _opted_out(session: Session, contact_ids: list[int]) -> set[int]:
    """Contacts whose latest consent event on some channel is an opt-out."""
    if not contact_ids:
        return set()
    latest: dict[tuple[int, str], str] = {}
    events = session.execute(
        select(ConsentEvent.contact_id, ConsentEvent.channel, ConsentEvent.state)
        .where(ConsentEvent.contact_id.in_(contact_ids))
        .order_by(ConsentEvent.id)
    )
    for contact_id, channel, state in events:
        latest[(contact_id, channel)] = state
    return {contact_id for (contact_id, _), state in latest.items() if state == OPTED_OUT}


def _whatsapp_senders(session: Session, contact_ids: list[int]) -> dict[int, str]:
    """The line's WhatsApp number each contact last wrote to: having written on WhatsApp is the
    opt-in WhatsApp asks for, and the notice comes from the number they know."""
    if not contact_ids:
        return {}
    last = (
        select(InboundMessage.contact_id, func.max(InboundMessage.id).label("last"))
        .where(InboundMessage.contact_id.in_(contact_ids), InboundMessage.channel == "whatsapp")
        .group_by(InboundMessage.contact_id)
        .subquery()
    )
    rows = session.execute(
        select(InboundMessage.contact_id, InboundMessage.to_address).join(last, InboundMessage.id == last.c.last)
    )
    return dict(rows.all())


def materialize(
    session: Session, campaign: NoticeCampaign, channels: Channels, pseudonym_key: str, now: datetime
) -> int:
    """Make the next chunk's rows (scheduled, or skipped with the reason) and move the cursor.

    A household whose notice exists already (a rerun, another campaign for the cycle) gets none."""
    chunk = next_chunk(session, campaign, campaign.cursor, channels)
    if not chunk:
        campaign.materialized = True
        return 0
    contacts = _contacts(session, [r for r in chunk if r.contact_id is None], pseudonym_key, now)
    rows = []
    for r in chunk:
        message = new_outbound(
            key=notice_key(campaign.cycle, r.household_id),
            contact_id=r.contact_id or contacts[r.phone],
            from_address=r.from_address,
            to_address=r.to_address,
            body=r.body,
            at=now,
            kind=NOTICE,
        )
        rows.append(
            {
                "key": message.key,
                "kind": NOTICE,
                "contact_id": message.contact_id,
                "from_address": message.from_address,
                "to_address": message.to_address,
                "body": message.body,
                "encoding": message.encoding,
                "segments": message.segments,
                "template": PAYMENT_DAY if r.template_vars else "",
                "template_vars": r.template_vars,
                "status": "skipped" if r.skip else "scheduled",
                "error_class": r.skip,
                "campaign_id": campaign.id,
                "created_at": now,
            }
        )
    made = _insert_ignore(session, OutboundMessage.__table__, rows, "key")
    campaign.cursor = chunk[-1].household_id
    if len(chunk) < CHUNK:
        campaign.materialized = True
    return made


def _contacts(session: Session, missing: Iterable[Recipient], pseudonym_key: str, now: datetime) -> dict[str, int]:
    """Contacts for households that never wrote (a notice needs one: consent is kept per contact)."""
    phones = sorted({r.phone for r in missing})
    if not phones:
        return {}
    rows = [{"phone": p, "pseudonym": pseudonym_for(p, pseudonym_key), "created_at": now} for p in phones]
    _insert_ignore(session, Contact.__table__, rows, "phone")
    return dict(session.execute(select(Contact.phone, Contact.id).where(Contact.phone.in_(phones))).all())


def _insert_ignore(session: Session, table: Any, rows: list[dict[str, Any]], key: str) -> int:
    """INSERT … ON CONFLICT (key) DO NOTHING; returns how many rows were new."""
    dialect = session.get_bind().dialect.name
    # RETURNING counts what was new: psycopg's rowcount of a many-row insert is -1.
    statement = insert_on_conflict(dialect, table).on_conflict_do_nothing(index_elements=[key]).returning(table.c[key])
    return len(session.execute(statement, rows).all())
