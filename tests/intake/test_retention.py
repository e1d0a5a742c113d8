"""Retention: old bodies and texts go, open cases and unanswered messages stay, the counts stay."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import redis
from flask import Flask
from sqlalchemy import select, update

from intake.cases import change_state, reopen
from intake.models import (
    Case,
    CaseEvent,
    CaseEvidence,
    ComplaintDraft,
    Contact,
    IdentityAttempt,
    InboundMessage,
    LoginFailure,
    OutboundMessage,
    PersonRequest,
)
from intake.outbound import queue_message
from intake.retention import RetentionReport, plan, purge
from intake.retention_trackers import TRACKER_PREFIX
from intake.runtime import Runtime
from intake.settings import Settings, SettingsError, tracker_url
from intake.tally import take_snapshot
from tests.env import TEST_REDIS_URL, base_env
from tests.intake.case_helpers import file, receive
from tests.intake.tally_figures import snapshot_figures

DAY = timedelta(days=1)
# Nothing listens on port 1: the tracker part fails at once, and tests that are not about trackers
# never touch a Redis database someone else's test may be using.
NO_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def settings_no_redis(rt: Runtime) -> Settings:
    return dataclasses.replace(rt.settings, tracker_redis_url=NO_REDIS)


def _processed(rt: Runtime, *ids: int, case_id: int | None = None) -> None:
    with rt.sessions() as session, session.begin():
        session.execute(
            update(InboundMessage).where(InboundMessage.id.in_(ids)).values(status="processed", case_id=case_id)
        )


def _reply(rt: Runtime, inbound_id: int, body: str, status: str = "sent", case_id: int | None = None) -> int:
    with rt.sessions() as session, session.begin():
        message = queue_message(
            session, f"test:{inbound_id}:{body}", session.get_one(InboundMessage, inbound_id), body, rt.now()
        )
        message.status, message.case_id = status, case_id
        session.flush()
        return message.id


def _close(rt: Runtime, case_id: int, at: datetime) -> None:
    with rt.sessions() as session, session.begin():
        change_state(session, session.get_one(Case, case_id), "closed", "staff:1", at, public_update="Se le pagó.")
        # The closing notice was sent (only unsent replies are protected); other replies stay as they are.
        notices = OutboundMessage.key.like(f"case:{case_id}:%")
        session.execute(update(OutboundMessage).where(notices).values(status="sent"))


def _inbound(rt: Runtime, inbound_id: int) -> InboundMessage:
    with rt.sessions() as session:
        message = session.get_one(InboundMessage, inbound_id)
        session.expunge(message)
        return message


def _outbound(rt: Runtime, outbound_id: int) -> OutboundMessage:
    with rt.sessions() as session:
        message = session.get_one(OutboundMessage, outbound_id)
        session.expunge(message)
        return message


def _run(rt: Runtime, settings: Settings, now: datetime, dry_run: bool = False, batch_size: int = 2) -> RetentionReport:
    # Batches of two, so that every kind is purged over several batches.
    with rt.sessions() as session:
        return purge(session, settings, now, dry_run=dry_run, batch_size=batch_size)


def _bodies(rt: Runtime) -> list[tuple]:
    with rt.sessions() as session:
        inbound = session.execute(
            select(InboundMessage.id, InboundMessage.body, InboundMessage.media, InboundMessage.body_purged_at)
        ).all()
        outbound = session.execute(
            select(OutboundMessage.id, OutboundMessage.body, OutboundMessage.body_purged_at)
        ).all()
        cases = session.execute(select(Case.id, Case.description, Case.public_update)).all()
        evidence = session.execute(select(CaseEvidence.id, CaseEvidence.url)).all()
        drafts = session.execute(select(ComplaintDraft.contact_id)).all()
        events = session.execute(select(CaseEvent.id)).all()
    return [tuple(map(tuple, rows)) for rows in (inbound, outbound, cases, evidence, drafts, events)]


def _mixed_history(rt: Runtime) -> dict[str, int]:
    """Cases closed long ago and lately, open and reopened ones, pending and unsent messages."""
    t0 = rt.now()
    old = file(rt, phone="+50431100001")
    old_msg, _ = receive(rt, "el banco no me pagó", "+50431100001", media=1)
    pending_msg, _ = receive(rt, "y ahora qué hago", "+50431100001")  # never answered yet
    _processed(rt, old_msg, case_id=old.id)
    _processed(rt, old.source_inbound_id)  # an older row: case_id was never filled
    unsent = _reply(rt, old_msg, "Gracias, lo revisamos", status="queued", case_id=old.id)
    sent = _reply(rt, old_msg, "Su queja fue recibida", case_id=old.id)
    with rt.sessions() as session, session.begin():
        session.add(
            CaseEvidence(
                case_id=old.id, inbound_id=old_msg, url="https://api.twilio.com/ME1", content_type="image/jpeg"
            )
        )
    _close(rt, old.id, t0)
    late_msg, _ = receive(rt, "estado de mi queja", "+50431100001")  # asked long after the closing
    _processed(rt, late_msg, case_id=old.id)
    with rt.sessions() as session, session.begin():
        session.execute(update(InboundMessage).where(InboundMessage.id == late_msg).values(received_at=t0 + 380 * DAY))

    recent = file(rt, phone="+50431100002")
    recent_msg, _ = receive(rt, "no aparezco en la lista", "+50431100002")
    _processed(rt, recent_msg, case_id=recent.id)
    _close(rt, recent.id, t0 + 100 * DAY)  # closed 300 days before the purge below

    still_open = file(rt, phone="+50431100003")
    open_msg, _ = receive(rt, "me cobraron 200 lempiras", "+50431100003")
    _processed(rt, open_msg, case_id=still_open.id)
    unlinked_open, _ = receive(rt, "hola", "+50431100003")
    _processed(rt, unlinked_open)

    reopened = file(rt, phone="+50431100004")
    reopened_msg, _ = receive(rt, "sigo sin cobrar", "+50431100004")
    _processed(rt, reopened_msg, case_id=reopened.id)
    _close(rt, reopened.id, t0)
    with rt.sessions() as session, session.begin():
        assert reopen(session, session.get_one(Case, reopened.id), t0 + DAY)
    return {
        "old_case": old.id,
        "old_msg": old_msg,
        "old_source": old.source_inbound_id,
        "late_msg": late_msg,
        "pending_msg": pending_msg,
        "unsent": unsent,
        "sent": sent,
        "recent_case": recent.id,
        "recent_msg": recent_msg,
        "open_msg": open_msg,
        "unlinked_open": unlinked_open,
        "reopened_case": reopened.id,
        "reopened_msg": reopened_msg,
    }


def test_bodies_of_a_case_closed_longer_ago_than_the_period_are_purged_and_newer_or_open_ones_kept(
    rt: Runtime, settings_no_redis: Settings
) -> None:
    ids = _mixed_history(rt)
    later = rt.now() + 400 * DAY

    report = _run(rt, settings_no_redis, later)

    for purged in ("old_msg", "old_source"):
        message = _inbound(rt, ids[purged])
        assert message.body == "" and message.media == [] and message.body_purged_at is not None
    assert _outbound(rt, ids["sent"]).body == ""
    assert _inbound(rt, ids["late_msg"]).body == "estado de mi queja"  # 20 days old
    assert _inbound(rt, ids["pending_msg"]).body == "y ahora qué hago"  # not answered yet
    assert _outbound(rt, ids["unsent"]).body == "Gracias, lo revisamos"  # not sent yet
    assert _inbound(rt, ids["recent_msg"]).body == "no aparezco en la lista"
    assert _inbound(rt, ids["open_msg"]).body == "me cobraron 200 lempiras"
    assert _inbound(rt, ids["unlinked_open"]).body == "hola"
    assert _inbound(rt, ids["reopened_msg"]).body == "sigo sin cobrar"
    with rt.sessions() as session:
        cases = {c.id: c for c in session.scalars(select(Case))}
        evidence = session.scalars(select(CaseEvidence.url)).all()
        purge_events = session.scalars(select(CaseEvent.case_id).where(CaseEvent.kind == "retention_purged")).all()
    assert (cases[ids["old_case"]].description, cases[ids["old_case"]].public_update) == ("", "")
    assert cases[ids["old_case"]].state == "closed" and cases[ids["old_case"]].category_code  # metadata stays
    assert cases[ids["recent_case"]].description and cases[ids["recent_case"]].public_update
    assert cases[ids["reopened_case"]].description
    assert evidence == [""]
    assert purge_events == [ids["old_case"]]  # the change is in the case's log
    assert report.counts["case_texts"] == 1 and report.counts["evidence_links"] == 1
    assert report.trackers is None and report.trackers_error  # Redis down is reported, not fatal


def test_a_dry_run_changes_nothing_and_counts_what_the_real_run_then_removes(
    rt: Runtime, settings_no_redis: Settings
) -> None:
    _mixed_history(rt)
    contact_only, lone_contact = receive(rt, "cuando me toca cobrar", "+50431100009")
    _processed(rt, contact_only)
    _reply(rt, contact_only, "El 15 de marzo")
    with rt.sessions() as session, session.begin():
        session.add(LoginFailure(email="x@sedesol.gob.hn", address="10.0.0.1", at=rt.now()))
        session.add(
            IdentityAttempt(contact_id=lone_contact, inbound_id=contact_only, outcome="mismatch", created_at=rt.now())
        )
        session.add(ComplaintDraft(contact_id=lone_contact, media=[], updated_at=rt.now()))
    later = rt.now() + 400 * DAY
    before = _bodies(rt)

    dry = _run(rt, settings_no_redis, later, dry_run=True)
    assert _bodies(rt) == before
    with rt.sessions() as session:
        assert plan(session, settings_no_redis, later).counts == dry.counts

    real = _run(rt, settings_no_redis, later)
    assert dry.dry_run and not real.dry_run
    assert real.counts == dry.counts
    assert all(real.counts[kind] >= 1 for kind in real.counts), real.counts
    assert _bodies(rt) != before


def test_the_public_tallys_counts_are_the_same_after_a_purge(rt: Runtime, settings_no_redis: Settings) -> None:
    rng = random.Random(5)
    for i in range(40):
        case = file(rt, category=rng.choice(["pago_no_recibido", "maltrato"]), phone=f"+504322{i:05d}")
        message, _ = receive(rt, "no me pagaron", f"+504322{i:05d}")
        _processed(rt, message, case.source_inbound_id, case_id=case.id)
        if i % 3:
            _close(rt, case.id, rt.now() + DAY)
        if i % 5 == 0:
            with rt.sessions() as session, session.begin():
                session.get_one(Case, case.id).satisfaction = 4
    later = rt.now() + 400 * DAY

    def figures() -> tuple[list, list]:
        with rt.sessions() as session, session.begin():
            snapshot_id = take_snapshot(session, later)
        return snapshot_figures(rt, snapshot_id)

    before = figures()
    report = _run(rt, settings_no_redis, later, batch_size=7)
    assert report.counts["case_inbound"] >= 26 and report.counts["case_texts"] >= 26
    assert figures() == before
    assert any(value for *_, value in before[0])  # the snapshot published something to compare


def test_a_contact_without_cases_has_its_old_bodies_purged(rt: Runtime, settings_no_redis: Settings) -> None:
    old, _ = receive(rt, "cuando me toca cobrar", "+50431200001", media=1)
    _processed(rt, old)
    old_reply = _reply(rt, old, "Su próximo pago es el 15 de marzo")
    recent, _ = receive(rt, "donde cobro", "+50431200002")
    _processed(rt, recent)
    busy, busy_contact = receive(rt, "quiero hablar con alguien", "+50431200003")
    _processed(rt, busy)
    later = rt.now() + 91 * DAY
    with rt.sessions() as session, session.begin():
        session.execute(update(InboundMessage).where(InboundMessage.id == recent).values(received_at=later - 10 * DAY))
        session.add(PersonRequest(contact_id=busy_contact, created_at=rt.now()))  # still waiting for a person

    report = _run(rt, settings_no_redis, later)

    assert _inbound(rt, old).body == "" and _inbound(rt, old).media == []
    assert _outbound(rt, old_reply).body == ""
    assert _inbound(rt, recent).body == "donde cobro"
    assert _inbound(rt, busy).body == "quiero hablar con alguien"
    assert (report.counts["contact_inbound"], report.counts["contact_outbound"]) == (1, 1)
    with rt.sessions() as session:
        assert session.scalar(select(InboundMessage.id).where(InboundMessage.id == old)) == old  # the row stays


def test_running_twice_purges_nothing_the_second_time(rt: Runtime, settings_no_redis: Settings) -> None:
    _mixed_history(rt)
    lone, _ = receive(rt, "hola", "+50431300001")
    _processed(rt, lone)
    later = rt.now() + 400 * DAY
    first = _run(rt, settings_no_redis, later)
    after_first = _bodies(rt)

    second = _run(rt, settings_no_redis, later + DAY)

    assert sum(first.counts.values()) > 0
    assert all(n == 0 for n in second.counts.values()), second.counts
    assert _bodies(rt) == after_first  # not even a second "retention_purged" event


@pytest.fixture
def trackers() -> Iterator[redis.Redis]:
    # The trackers' own database on the test Redis server, as Settings derives it from REDIS_URL.
    client = redis.Redis.from_url(tracker_url(TEST_REDIS_URL))
    written: list[str] = []
    client.written = written  # type: ignore[attr-defined]
    yield client
    if written:
        client.delete(*written)
    client.close()


def test_tracker_keys_of_contacts_quiet_for_longer_than_the_period_are_deleted_and_recent_ones_kept(
    rt: Runtime, trackers: redis.Redis
) -> None:
    settings = dataclasses.replace(rt.settings, tracker_redis_url=tracker_url(TEST_REDIS_URL))
    _, quiet = receive(rt, "hola", "+50431400001")
    recent_msg, recent = receive(rt, "hola", "+50431400002")
    later = rt.now() + 2 * DAY
    with rt.sessions() as session, session.begin():
        session.execute(
            update(InboundMessage).where(InboundMessage.id == recent_msg).values(received_at=later - timedelta(hours=3))
        )
        names = dict(session.execute(select(Contact.id, Contact.pseudonym)).all())
    # A random suffix: the sqlite and postgresql runs of this test share the Redis server.
    orphan = "c_orphan" + random.randbytes(8).hex()
    keys = {
        who: f"{TRACKER_PREFIX}{p}"
        for who, p in (("quiet", names[quiet]), ("recent", names[recent]), ("orphan", orphan))
    }
    other = "linea:lock:test-" + orphan  # not a tracker: never touched
    for key in [*keys.values(), other]:
        trackers.set(key, "{}")
        trackers.written.append(key)  # type: ignore[attr-defined]

    with rt.sessions() as session:
        assert plan(session, settings, later).trackers >= 2
    report = _run(rt, settings, later)

    assert trackers.exists(keys["quiet"]) == 0
    assert trackers.exists(keys["orphan"]) == 0
    assert trackers.exists(keys["recent"]) == 1
    assert trackers.exists(other) == 1
    assert report.trackers is not None and report.trackers >= 2 and report.trackers_error is None


def test_the_cli_prints_counts_per_kind_and_a_dry_run_removes_nothing(app: Flask, rt: Runtime) -> None:
    lone, _ = receive(rt, "mi dni es 0801199912345", "+50431500001")
    _processed(rt, lone)
    with rt.sessions() as session, session.begin():
        session.execute(update(InboundMessage).values(received_at=rt.now() - 100 * DAY))

    result = app.test_cli_runner().invoke(args=["retention", "purge", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "would remove 1 inbound message bodies of contacts without a case" in result.output
    assert "0801199912345" not in result.output and "+50431500001" not in result.output
    assert _inbound(rt, lone).body == "mi dni es 0801199912345"
    result = app.test_cli_runner().invoke(args=["retention", "purge"])
    assert "removed 1 inbound message bodies of contacts without a case" in result.output
    assert _inbound(rt, lone).body == ""


def test_periods_shorter_than_the_reopen_window_are_refused() -> None:
    with pytest.raises(SettingsError, match="RETENTION_CASE_MESSAGES_DAYS"):
        Settings.from_env(base_env(RETENTION_CASE_MESSAGES_DAYS="10"))
    with pytest.raises(SettingsError, match="RETENTION_TRACKERS_DAYS"):
        Settings.from_env(base_env(RETENTION_TRACKERS_DAYS="0"))
    assert Settings.from_env(base_env()).retention_case_messages_days == 365
