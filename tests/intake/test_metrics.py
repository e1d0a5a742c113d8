"""GET /metrics on the internal listener shows what the database holds; the alert rules name only its metrics."""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import redis
import yaml
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from intake import create_internal_app
from intake.metrics import record_sweep
from intake.models import Case, InboundMessage, OutboundMessage
from intake.runtime import Runtime, set_runtime
from intake.settings import ROOT, Settings
from stack.processes import free_port
from tests.env import TEST_REDIS_URL, base_env
from tests.intake.case_helpers import file, receive

ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
HALF_SECOND = timedelta(seconds=0.5)
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def internal(database_url: str) -> FlaskClient:
    # Rasa and the action server are nowhere: their availability must read 0.
    nothing = f"http://127.0.0.1:{free_port()}"
    settings = Settings.from_env(base_env(DATABASE_URL=database_url, RASA_URL=nothing, ACTION_SERVER_URL=nothing))
    app: Flask = create_internal_app(settings)
    yield app.test_client()
    set_runtime(None)


def _scrape(client: FlaskClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def _set_inbound(rt: Runtime, inbound_id: int, **values: object) -> None:
    with rt.sessions() as session, session.begin():
        session.execute(update(InboundMessage).where(InboundMessage.id == inbound_id).values(**values))


def _outbound(rt: Runtime, status: str, contact_id: int, **values: object) -> None:
    with rt.sessions() as session, session.begin():
        session.add(
            OutboundMessage(
                key=secrets.token_hex(8),
                contact_id=contact_id,
                from_address="+50422220000",
                to_address="+50499887766",
                body="hola",
                status=status,
                **values,
            )
        )


def _populate(rt: Runtime) -> None:
    """3 pending (oldest 10 minutes), 1 dead, 4 answered; 2 sent, 1 failed, 1 stuck sending; 1 breached case."""
    now = rt.now()
    breached = file(rt, at=now - timedelta(days=60))
    closed = file(rt, at=now - timedelta(days=60))
    fresh = file(rt)
    with rt.sessions() as session, session.begin():
        session.execute(update(Case).where(Case.id == closed.id).values(state="closed", closed_at=now))
    answered = now - timedelta(minutes=30)
    for case in (breached, closed, fresh):  # each was filed by a message answered in 0.5 s
        _set_inbound(
            rt, case.source_inbound_id, status="processed", received_at=answered, processed_at=answered + HALF_SECOND
        )
    slow, contact_id = receive(rt, "cuando me toca")  # answered in 40 s
    _set_inbound(rt, slow, status="processed", received_at=answered, processed_at=answered + timedelta(seconds=40))
    oldest, _ = receive(rt, "hola")
    _set_inbound(rt, oldest, received_at=now - timedelta(minutes=10))
    receive(rt, "1")
    receive(rt, "2")
    dead, _ = receive(rt, "x")
    _set_inbound(rt, dead, status="dead")
    _outbound(rt, "sent", contact_id)
    _outbound(rt, "sent", contact_id)
    _outbound(rt, "failed", contact_id, error_code=21610, error_class="optout")
    _outbound(rt, "sending", contact_id, sent_at=now - timedelta(minutes=10))
    _outbound(rt, "sending", contact_id, sent_at=now)  # in flight: not stuck


def test_metrics_show_what_the_database_holds(internal: FlaskClient) -> None:
    from intake.runtime import runtime

    rt = runtime()
    _populate(rt)
    record_sweep(redis.Redis.from_url(TEST_REDIS_URL), "outbound.reconcile", rt.now())

    samples = _scrape(internal)

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert value("lc_database_up") == 1
    assert value("lc_inbound_pending") == 3
    assert 600 <= value("lc_inbound_oldest_pending_age_seconds") < 700
    assert value("lc_inbound_dead") == 1
    assert value("lc_inbound_messages", status="dead") == 1
    assert value("lc_inbound_received_total") == 8
    assert value("lc_inbound_answered_total") == 4
    assert value("lc_turn_latency_seconds_count") == 4
    assert value("lc_turn_latency_seconds_bucket", le="1.0") == 3
    assert value("lc_turn_latency_seconds_bucket", le="30.0") == 3
    assert value("lc_turn_latency_seconds_bucket", le="60.0") == 4
    assert value("lc_turn_latency_seconds_sum") == pytest.approx(41.5, abs=0.01)
    assert value("lc_outbound_messages", status="sent") == 2
    assert value("lc_outbound_messages", status="sending") == 2
    assert value("lc_outbound_messages", status="unknown") == 0
    assert value("lc_outbound_failed_total") == 1
    assert value("lc_outbound_failed_by_class_total", error_class="optout") == 1
    assert value("lc_outbound_stuck") == 1
    assert value("lc_cases_past_deadline") == 1
    assert value("lc_dependency_up", dependency="rasa") == 0
    assert value("lc_dependency_up", dependency="actions") == 0
    assert value("lc_dependency_up", dependency="database") == 1
    assert value("lc_sweep_last_run_timestamp_seconds", sweep="outbound.reconcile") == pytest.approx(
        rt.now().timestamp(), abs=60
    )
    assert value("lc_celery_queue_length") >= 0
    assert value("lc_replies_queue_length") >= 0


def test_the_public_app_has_no_metrics(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 404


def test_metrics_answer_only_the_private_network(internal: FlaskClient) -> None:
    assert internal.get("/metrics", environ_base={"REMOTE_ADDR": "8.8.8.8"}).status_code == 403
    assert internal.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200


def test_metrics_report_a_database_that_does_not_answer(tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'lc.db'}"
    app = create_internal_app(Settings.from_env(base_env(DATABASE_URL=missing)))
    try:
        samples = _scrape(app.test_client())
    finally:
        set_runtime(None)
    assert samples[("lc_database_up", ())] == 0
    assert ("lc_inbound_pending", ()) not in samples


def _alert_rules() -> dict[str, str]:
    """alert name -> expr, as Prometheus reads the rules file."""
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}


def test_each_alert_names_only_metrics_that_metrics_exposes(internal: FlaskClient) -> None:
    from intake.runtime import runtime

    record_sweep(redis.Redis.from_url(TEST_REDIS_URL), "outbound.reconcile", runtime().now())
    samples = _scrape(internal)
    exposed = {name for name, _ in samples}
    rules = _alert_rules()
    assert {
        "MessagesWaiting",
        "DeadLetters",
        "NoInboundInOfficeHours",
        "OutboundFailures",
        "RasaDown",
    } <= set(rules)
    assert len(rules) == ALERTS.read_text().count("- alert:")
    for alert, expr in rules.items():
        names = set(re.findall(r"\blc_[a-z0-9_]+", expr))
        assert names, f"{alert} names no metric of ours"
        assert names <= exposed, f"{alert}: {sorted(names - exposed)} not in /metrics"
    # The labels the rules select on are there too.
    for labels in ((("dependency", "rasa"),), (("dependency", "actions"),)):
        assert ("lc_dependency_up", labels) in samples
    assert ("lc_sweep_last_run_timestamp_seconds", (("sweep", "outbound.reconcile"),)) in samples


def test_every_alert_rule_has_what_prometheus_and_the_on_call_person_need() -> None:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) == ALERTS.read_text(encoding="utf-8").count("- alert:")
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert isinstance(rule["expr"], str) and rule["expr"].strip(), rule["alert"]
        assert rule["labels"]["severity"] in ("page", "ticket"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
    promtool = shutil.which("promtool")
    if promtool:
        subprocess.run([promtool, "check", "rules", str(ALERTS)], check=True, capture_output=True)
