"""Payment-day campaigns (intake/notices.py): who gets a notice, exactly once, at the pace, within the hours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from intake import consent, notice_campaigns, notice_progress, notice_recipients, notice_ticks, notices
from intake.models import Contact, NoticeCampaign, NoticeCampaignEvent, OutboundMessage, Payment
from intake.outbound import ConsoleSender, send_one
from intake.runtime import Runtime
from intake.sms_text import sms_cost
from tests.intake.case_helpers import receive
from tests.intake.notice_helpers import CHANNELS, CYCLE, MORNING, PAY_DAY, SMS_FROM, household, make, run_tick, start


def phone_of(n: int) -> str:
    return f"+5049{n:07d}"


def rows(rt: Runtime, campaign_id: int) -> list[OutboundMessage]:
    with rt.sessions() as session:
        return list(
            session.scalars(
                select(OutboundMessage).where(OutboundMessage.campaign_id == campaign_id).order_by(OutboundMessage.id)
            )
        )


def mark_sent(rt: Runtime, ids: list[int]) -> None:
    with rt.sessions() as session, session.begin():
        session.execute(
            update(OutboundMessage).where(OutboundMessage.id.in_(ids)).values(status="sent", sent_at=MORNING)
        )


@pytest.fixture
def forty(rt: Runtime) -> Iterator[Runtime]:
    for n in range(1, 41):
        household(rt, n)
    yield rt


def test_a_notice_fits_one_gsm7_segment_even_with_a_long_place() -> None:
    text, variables = notices.notice_text(
        PAY_DAY, "Centro de pago comunitario, alcaldía de " + "San Marcos de Colón " * 9
    )
    assert sms_cost(text).segments == 1 and sms_cost(text).encoding == "GSM-7", text
    assert text.startswith("Bono Vida Mejor: su pago es el martes 15 de diciembre en Centro de pago")
    assert variables["2"].endswith("...") and "BAJA" in text
    short, kept = notices.notice_text(PAY_DAY, "Banrural, agencia Ocotepeque")
    assert kept["2"] == "Banrural, agencia Ocotepeque" and "Ocotepeque. Para no recibir" in short


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cycle": "2026-13"}, "cycle"),
        ({"cycle": "2027-01"}, "cycle"),  # no payment scheduled in it
        ({"department": "Atlántida"}, "department"),
        ({"rate_per_s": 25}, "rate"),
        ({"rate_per_s": 0}, "rate"),
        ({"hours": (18, 8)}, "hours"),
    ],
)
def test_a_campaign_that_makes_no_sense_is_refused_with_the_option_at_fault(
    rt: Runtime, changes: dict[str, object], field: str
) -> None:
    household(rt, 1)
    args: dict[str, object] = {"cycle": CYCLE, "department": "", "rate_per_s": 5, "hours": (8, 18)}
    args.update(changes)
    with rt.sessions() as session, session.begin(), pytest.raises(notices.CampaignError) as raised:
        notice_campaigns.create(session, max_rate_per_s=20, actor="test", now=MORNING, **args)  # type: ignore[arg-type]
    assert raised.value.field == field
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(NoticeCampaign)) == 0


def test_the_same_campaign_twice_is_refused(rt: Runtime) -> None:
    household(rt, 1)
    make(rt)
    with pytest.raises(notices.CampaignError, match="already covers"):
        make(rt)


def test_only_active_households_with_a_scheduled_payment_get_a_row_each_and_skips_keep_their_reason(
    rt: Runtime,
) -> None:
    for n in range(1, 6):
        household(rt, n)
    household(rt, 6, status="suspended")
    household(rt, 7, payment="withheld")
    household(rt, 8, payment="paid")
    # Household 2 said BAJA; household 3's number failed for good and they never wrote since.
    _, opted = receive(rt, "baja", phone_of(2))
    with rt.sessions() as session, session.begin():
        consent.record(session, opted, "sms", consent.OPTED_OUT, "keyword", MORNING, keyword="BAJA")
    with rt.sessions() as session, session.begin():
        contact = session.scalar(select(Contact).where(Contact.phone == phone_of(3)))
        assert contact is None  # never wrote: the campaign makes the contact
    campaign_id = make(rt)
    token = start(rt, campaign_id)
    run_tick(rt, campaign_id, token, MORNING)
    made = rows(rt, campaign_id)
    assert sorted(r.key for r in made) == [f"notice:{CYCLE}:HH{n:05d}" for n in range(1, 6)]
    by_key = {r.key.rsplit(":", 1)[1]: r for r in made}
    assert (by_key["HH00002"].status, by_key["HH00002"].error_class) == ("skipped", "optout")
    assert all(by_key[h].status == "scheduled" for h in ("HH00001", "HH00003", "HH00004", "HH00005"))
    sms = by_key["HH00001"]
    assert (sms.to_address, sms.from_address, sms.kind, sms.encoding, sms.segments) == (
        phone_of(1),
        SMS_FROM,
        "notice",
        "GSM-7",
        1,
    )
    assert "15 de diciembre" in sms.body and "2500" not in sms.body and "Persona" not in sms.body
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Contact).where(Contact.phone == phone_of(3))) == 1


def test_a_person_who_wrote_on_whatsapp_gets_the_template_from_the_number_they_wrote_to(rt: Runtime) -> None:
    household(rt, 1)
    household(rt, 2)
    with rt.sessions() as session, session.begin():
        session.execute(update(Payment).values(collection_point="Alcaldía de Colón"))
    receive(rt, "hola", f"whatsapp:{phone_of(1)}")
    channels = notices.Channels(SMS_FROM, {"payment_day": "HX" + "1" * 32})
    campaign_id = make(rt)
    token = start(rt, campaign_id, channels=channels)
    run_tick(rt, campaign_id, token, MORNING, channels)
    first, second = rows(rt, campaign_id)
    assert (first.to_address, first.from_address, first.template) == (
        f"whatsapp:{phone_of(1)}",
        "+50422220000",  # what receive() writes to
        "payment_day",
    )
    assert '"1": "martes 15 de diciembre"' in first.template_vars and "Alcaldía de Colón" in first.template_vars
    assert "en Alcaldía de Colón." in first.body  # WhatsApp keeps the accents; SMS is GSM-7
    assert (second.to_address, second.template, second.template_vars) == (phone_of(2), "", "")
    assert "en Alcaldia de Colon." in second.body and second.encoding == "GSM-7"


def test_without_an_approved_template_whatsapp_people_get_the_sms(rt: Runtime) -> None:
    household(rt, 1)
    receive(rt, "hola", f"whatsapp:{phone_of(1)}")
    campaign_id = make(rt)
    run_tick(rt, campaign_id, start(rt, campaign_id), MORNING)
    (row,) = rows(rt, campaign_id)
    assert row.to_address == phone_of(1)


def test_a_number_that_failed_for_good_is_skipped_until_the_person_writes_again(rt: Runtime) -> None:
    household(rt, 1)
    household(rt, 2)
    _, contact_id = receive(rt, "hola", phone_of(1))
    with rt.sessions() as session, session.begin():
        session.add(
            OutboundMessage(
                key="old",
                contact_id=contact_id,
                from_address=SMS_FROM,
                to_address=phone_of(1),
                body="x",
                status="failed",
                error_code=30006,
                error_class="permanent",
                created_at=MORNING + timedelta(minutes=1),
            )
        )
    campaign_id = make(rt)
    run_tick(rt, campaign_id, start(rt, campaign_id), MORNING)
    assert [(r.status, r.error_class) for r in rows(rt, campaign_id)] == [("skipped", "permanent"), ("scheduled", "")]


def test_a_rerun_or_a_second_campaign_for_the_cycle_adds_no_row(forty: Runtime) -> None:
    rt = forty
    campaign_id = make(rt, department="")
    token = start(rt, campaign_id)
    run_tick(rt, campaign_id, token, MORNING)
    assert len(rows(rt, campaign_id)) == 40
    # A crash after the rows but before the cursor moved: the chunk is made again, adding nothing.
    with rt.sessions() as session, session.begin():
        session.execute(update(NoticeCampaign).values(cursor="", materialized=False))
        made = notice_recipients.materialize(
            session, session.get_one(NoticeCampaign, campaign_id), CHANNELS, rt.settings.pseudonym_key, MORNING
        )
    assert made == 0
    # Another campaign for the same cycle (one department) finds every household's notice made.
    other = make(rt, department="Cortés")
    run_tick(rt, other, start(rt, other), MORNING)
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 40
        assert (
            session.scalar(
                select(func.count()).select_from(OutboundMessage).where(OutboundMessage.campaign_id == other)
            )
            == 0
        )


def test_the_pace_queues_rate_per_second_and_never_more_than_two_seconds_waiting(forty: Runtime) -> None:
    rt = forty
    campaign_id = make(rt, rate=10)
    token = start(rt, campaign_id)
    step = run_tick(rt, campaign_id, token, MORNING)
    assert step.queued == [] and step.after_s == notices.TICK_S  # nothing is owed at the start
    step = run_tick(rt, campaign_id, step.token, MORNING + timedelta(seconds=1))
    mark_sent(rt, step.queued)
    # A tick 1.5 s after the last queues 15: the half second is not lost.
    step = run_tick(rt, campaign_id, step.token, MORNING + timedelta(seconds=2.5))
    assert len(step.queued) == 15
    # Fifteen wait to be sent and the room is two seconds of pace (20): five more, then none.
    step = run_tick(rt, campaign_id, step.token, MORNING + timedelta(seconds=3.5))
    assert len(step.queued) == 5
    step = run_tick(rt, campaign_id, step.token, MORNING + timedelta(seconds=4.5))
    assert step.queued == []
    statuses = [r.status for r in rows(rt, campaign_id)]
    assert statuses[:10] == ["sent"] * 10 and statuses[10:30] == ["queued"] * 20  # household order
    assert statuses[30:] == ["scheduled"] * 10


def test_a_late_tick_catches_up_two_seconds_worth_at_most(rt: Runtime) -> None:
    for n in range(1, 101):
        household(rt, n)
    campaign_id = make(rt, rate=10)
    step = run_tick(rt, campaign_id, start(rt, campaign_id), MORNING)
    step = run_tick(rt, campaign_id, step.token, MORNING + timedelta(seconds=30))
    assert len(step.queued) == 20


def test_a_tick_with_a_spent_token_or_on_a_paused_campaign_does_nothing(forty: Runtime) -> None:
    rt = forty
    campaign_id = make(rt)
    first = start(rt, campaign_id)
    step = run_tick(rt, campaign_id, first, MORNING)
    # The same tick delivered twice (a redelivery after a crash): the second stops at once.
    again = run_tick(rt, campaign_id, first, MORNING + timedelta(seconds=1))
    assert again == notice_ticks.Tick([], "", 0.0)
    with rt.sessions() as session, session.begin():
        notice_campaigns.pause(session, session.get_one(NoticeCampaign, campaign_id), "supervisora", MORNING)
    assert run_tick(rt, campaign_id, step.token, MORNING + timedelta(seconds=9)) == notice_ticks.Tick([], "", 0.0)
    assert all(r.status == "scheduled" for r in rows(rt, campaign_id))
    with rt.sessions() as session, session.begin():
        token = notice_campaigns.resume(
            session, session.get_one(NoticeCampaign, campaign_id), CHANNELS, "supervisora", MORNING
        )
    assert len(run_tick(rt, campaign_id, token, MORNING + timedelta(seconds=1)).queued) == 10
    with rt.sessions() as session:
        actions = session.scalars(select(NoticeCampaignEvent.action).order_by(NoticeCampaignEvent.id)).all()
    assert actions == ["create", "start", "pause", "resume"]


def test_nothing_is_queued_at_night_and_the_tick_keeps_its_heartbeat(forty: Runtime) -> None:
    rt = forty
    night = datetime(2026, 12, 11, 3, 0, tzinfo=timezone.utc)  # 21:00 in Honduras
    campaign_id = make(rt)
    token = start(rt, campaign_id, at=night)
    step = run_tick(rt, campaign_id, token, night + timedelta(seconds=5))
    assert step.queued == [] and step.token and step.after_s == notices.CLOSED_TICK_S
    with rt.sessions() as session:
        campaign = session.get_one(NoticeCampaign, campaign_id)
        assert campaign.pause_reason == "fuera de horario" and campaign.status == "running"
        assert notice_ticks.seconds_to_opening(campaign, night) == 11 * 3600  # 08:00 next morning
    morning = datetime(2026, 12, 11, 14, 0, 1, tzinfo=timezone.utc)  # 08:00:01
    step = run_tick(rt, campaign_id, step.token, morning)
    step = run_tick(rt, campaign_id, step.token, morning + timedelta(seconds=1))
    assert len(step.queued) == 10


def test_the_campaign_completes_when_every_row_has_been_queued(rt: Runtime) -> None:
    for n in range(1, 4):
        household(rt, n)
    campaign_id = make(rt, rate=10)
    step = run_tick(rt, campaign_id, start(rt, campaign_id), MORNING)
    last = run_tick(rt, campaign_id, step.token, MORNING + timedelta(seconds=1))
    # The last rows are handed over by the tick that ends the chain.
    assert len(last.queued) == 3 and last.token == ""
    assert run_tick(rt, campaign_id, step.token, MORNING + timedelta(seconds=2)) == notice_ticks.Tick([], "", 0.0)
    with rt.sessions() as session:
        campaign = session.get_one(NoticeCampaign, campaign_id)
        assert campaign.status == "completed" and campaign.finished_at is not None


def test_an_opt_out_after_the_row_was_made_stops_the_notice_at_the_send(forty: Runtime) -> None:
    rt = forty
    campaign_id = make(rt)
    step = run_tick(rt, campaign_id, start(rt, campaign_id), MORNING)
    step = run_tick(rt, campaign_id, step.token, MORNING + timedelta(seconds=1))
    first = rows(rt, campaign_id)[0]
    with rt.sessions() as session, session.begin():
        consent.record(session, first.contact_id, "sms", consent.OPTED_OUT, "keyword", MORNING, keyword="BAJA")
    assert send_one(rt.sessions, first.id, ConsoleSender(), lambda: MORNING) == "skipped"
    assert send_one(rt.sessions, rows(rt, campaign_id)[1].id, ConsoleSender(), lambda: MORNING) == "recorded"
    assert (rows(rt, campaign_id)[0].status, rows(rt, campaign_id)[0].error_class) == ("skipped", "optout")


def test_a_wrong_template_setting_pauses_the_campaign_after_ten_failures(forty: Runtime) -> None:
    rt = forty
    campaign_id = make(rt)
    step = run_tick(rt, campaign_id, start(rt, campaign_id), MORNING)

    def fail(ids: list[int], at: datetime) -> None:
        with rt.sessions() as session, session.begin():
            session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id.in_(ids))
                .values(status="failed", error_code=63027, error_class="config", sent_at=at)
            )

    ids = [r.id for r in rows(rt, campaign_id)]
    fail(ids[:9], MORNING + timedelta(seconds=1))
    step = run_tick(rt, campaign_id, step.token, MORNING + timedelta(seconds=2))
    assert step.token  # nine: it goes on
    fail(ids[9:10], MORNING + timedelta(seconds=2))
    assert run_tick(rt, campaign_id, step.token, MORNING + timedelta(seconds=3)) == notice_ticks.Tick([], "", 0.0)
    with rt.sessions() as session:
        campaign = session.get_one(NoticeCampaign, campaign_id)
        assert (campaign.status, campaign.pause_reason) == ("paused", "error de configuración")
    # Someone fixes the setting and resumes: the old failures do not pause it again.
    later = MORNING + timedelta(minutes=5)
    with rt.sessions() as session, session.begin():
        token = notice_campaigns.resume(session, session.get_one(NoticeCampaign, campaign_id), CHANNELS, "admin", later)
    assert run_tick(rt, campaign_id, token, later + timedelta(seconds=1)).token


def test_a_stopped_dispatcher_is_started_again_with_a_new_token(forty: Runtime) -> None:
    rt = forty
    campaign_id = make(rt)
    old = start(rt, campaign_id)
    later = MORNING + timedelta(seconds=notices.STALE_S + 1)
    with rt.sessions() as session, session.begin():
        assert notice_campaigns.restart_stale(session, MORNING + timedelta(seconds=10)) == []
        ((found, token),) = notice_campaigns.restart_stale(session, later)
    assert found == campaign_id and token != old
    assert run_tick(rt, campaign_id, old, later) == notice_ticks.Tick([], "", 0.0)
    assert run_tick(rt, campaign_id, token, later).token


def test_preview_counts_what_start_would_send_and_writes_nothing(rt: Runtime) -> None:
    for n in range(1, 6):
        household(rt, n)
    _, opted = receive(rt, "baja", phone_of(5))
    with rt.sessions() as session, session.begin():
        consent.record(session, opted, "sms", consent.OPTED_OUT, "keyword", MORNING, keyword="BAJA")
    campaign_id = make(rt)
    with rt.sessions() as session:
        seen = notice_campaigns.preview(session, session.get_one(NoticeCampaign, campaign_id), CHANNELS)
        contacts = session.scalar(select(func.count()).select_from(Contact))
    assert (seen.households, seen.sms, seen.whatsapp, seen.skipped_optout, seen.segments) == (5, 4, 0, 1, 4)
    assert seen.sample.startswith("Bono Vida Mejor: su pago es el martes 15 de diciembre")
    assert contacts == 1 and rows(rt, campaign_id) == []


def test_cancel_skips_what_was_not_queued(forty: Runtime) -> None:
    rt = forty
    campaign_id = make(rt)
    step = run_tick(rt, campaign_id, start(rt, campaign_id), MORNING)
    run_tick(rt, campaign_id, step.token, MORNING + timedelta(seconds=1))
    with rt.sessions() as session, session.begin():
        dropped = notice_campaigns.cancel(session, session.get_one(NoticeCampaign, campaign_id), "supervisora", MORNING)
    assert dropped == 30
    with rt.sessions() as session:
        seen = notice_progress.progress(session, session.get_one(NoticeCampaign, campaign_id), MORNING)
    assert seen.counts == {"scheduled": 0, "queued": 10, "sent": 0, "delivered": 0, "failed": 0, "skipped": 30}
    assert seen.reasons == {"cancelled": 30} and seen.total == 40


def test_progress_counts_households_once_whatever_their_follow_ups(rt: Runtime) -> None:
    from intake.failure_actions import after_failure

    for n in range(1, 4):
        household(rt, n)
    receive(rt, "hola", f"whatsapp:{phone_of(1)}")
    channels = notices.Channels(SMS_FROM, {"payment_day": "HX" + "1" * 32})
    campaign_id = make(rt)
    run_tick(rt, campaign_id, start(rt, campaign_id, channels=channels), MORNING, channels)
    first, second, _ = rows(rt, campaign_id)
    with rt.sessions() as session, session.begin():
        for row, code in ((first, 63024), (second, 30003)):
            failed = session.get_one(OutboundMessage, row.id)
            failed.status, failed.error_class = "failed", "permanent" if code == 63024 else "temporary"
            after_failure(session, failed, code, MORNING, SMS_FROM)
    with rt.sessions() as session:
        seen = notice_progress.progress(session, session.get_one(NoticeCampaign, campaign_id), MORNING)
    assert seen.total == 3 and seen.sms_fallbacks == 1
    # The SMS instead goes now (queued); the second try waits for its hour (scheduled).
    assert seen.counts == {"scheduled": 2, "queued": 1, "sent": 0, "delivered": 0, "failed": 2, "skipped": 0}
