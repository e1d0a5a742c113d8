"""Filing through the internal API keyed by the confirming message: once, only the contact's own, never late."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from intake import create_internal_app
from intake.demo_staff import create_demo_staff
from intake.models import Case, CaseEvent, Contact, InboundMessage
from intake.runtime import Runtime
from tests.intake.case_helpers import receive
from tests.intake.webhooks import queued_tasks

FIELDS = {
    "case_type": "grievance",
    "category": "pago_no_recibido",
    "municipality": "0501",
    "cycle": "2026-03",
    "confidentiality": "identified",
}


def _client(rt: Runtime) -> FlaskClient:
    return create_internal_app(rt.settings).test_client()


def _headers(rt: Runtime) -> dict[str, Any]:
    return {
        "headers": {"Authorization": f"Bearer {rt.settings.internal_api_token}"},
        "environ_base": {"REMOTE_ADDR": "127.0.0.1"},
    }


def _pseudonym(rt: Runtime, contact_id: int) -> str:
    with rt.sessions() as session:
        return session.get_one(Contact, contact_id).pseudonym


def _file(rt: Runtime, pseudonym: str, **extra: Any) -> Any:
    return _client(rt).post(f"/internal/v1/contacts/{pseudonym}/cases", json={**FIELDS, **extra}, **_headers(rt))


def _cases(rt: Runtime) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(Case)) or 0


def test_filing_twice_with_the_same_message_files_once_and_the_second_answer_is_that_case(rt: Runtime) -> None:
    inbound_id, contact_id = receive(rt)
    pseudonym = _pseudonym(rt, contact_id)
    first = _file(rt, pseudonym, inbound_id=inbound_id, not_after=time.time() + 30)
    again = _file(rt, pseudonym, inbound_id=inbound_id, not_after=time.time() + 30)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["reference"] == again.json["reference"] and _cases(rt) == 1
    found = _client(rt).get(f"/internal/v1/contacts/{pseudonym}/inbound/{inbound_id}/case", **_headers(rt))
    assert found.status_code == 200 and found.json["reference"] == first.json["reference"]


def test_the_key_names_the_message_even_when_an_older_one_is_still_pending(rt: Runtime) -> None:
    older, contact_id = receive(rt, "hola")
    confirming, _ = receive(rt, "1")
    assert _file(rt, _pseudonym(rt, contact_id), inbound_id=confirming).status_code == 201
    with rt.sessions() as session:
        assert session.scalars(select(Case.source_inbound_id)).one() == confirming != older


def test_a_filing_keyed_by_another_contacts_message_is_refused(rt: Runtime) -> None:
    theirs, _ = receive(rt, "1", phone="+50499000001")
    _, mine = receive(rt, "1", phone="+50499000002")
    response = _file(rt, _pseudonym(rt, mine), inbound_id=theirs)
    assert response.status_code == 403 and _cases(rt) == 0
    # Nor can it learn whether their message filed a case.
    _file(rt, _pseudonym(rt, _contact_of(rt, theirs)), inbound_id=theirs)
    asked = _client(rt).get(f"/internal/v1/contacts/{_pseudonym(rt, mine)}/inbound/{theirs}/case", **_headers(rt))
    assert asked.status_code == 404


def _contact_of(rt: Runtime, inbound_id: int) -> int:
    with rt.sessions() as session:
        return session.get_one(InboundMessage, inbound_id).contact_id


def test_a_filing_that_arrives_after_the_action_stopped_waiting_is_not_committed(rt: Runtime) -> None:
    inbound_id, contact_id = receive(rt)
    pseudonym = _pseudonym(rt, contact_id)
    response = _file(rt, pseudonym, inbound_id=inbound_id, not_after=time.time() - 1)
    assert response.status_code == 409 and _cases(rt) == 0
    # So the action's question "was it filed?" has a final answer.
    asked = _client(rt).get(f"/internal/v1/contacts/{pseudonym}/inbound/{inbound_id}/case", **_headers(rt))
    assert asked.status_code == 404


def test_a_message_already_answered_without_a_case_files_nothing(rt: Runtime) -> None:
    inbound_id, contact_id = receive(rt)
    with rt.sessions() as session, session.begin():
        session.execute(update(InboundMessage).where(InboundMessage.id == inbound_id).values(status="processed"))
    assert _file(rt, _pseudonym(rt, contact_id), inbound_id=inbound_id).status_code == 409
    assert _cases(rt) == 0


def _routing_tasks(rt: Runtime) -> list[str]:
    return [json.loads(raw)["headers"]["task"] for raw in queued_tasks(rt) if b"cases.route" in raw]


def test_a_filed_case_is_assigned_before_the_api_answers(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        create_demo_staff(session)
    inbound_id, contact_id = receive(rt)
    before = len(_routing_tasks(rt))
    assert _file(rt, _pseudonym(rt, contact_id), inbound_id=inbound_id).status_code == 201
    with rt.sessions() as session:
        case = session.scalars(select(Case)).one()
        kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
    assert case.assignee_id is not None and kinds.count("assigned") == 1
    assert len(_routing_tasks(rt)) == before  # nothing left for a worker to do


def test_with_no_staff_yet_the_case_is_left_to_the_routing_task(rt: Runtime) -> None:
    inbound_id, contact_id = receive(rt)
    before = len(_routing_tasks(rt))
    assert _file(rt, _pseudonym(rt, contact_id), inbound_id=inbound_id).status_code == 201
    with rt.sessions() as session:
        assert session.scalars(select(Case.assignee_id)).one() is None
    assert _routing_tasks(rt)[before:] == ["cases.route"]


def test_a_routing_error_at_filing_still_answers_filed_and_leaves_the_case_to_the_task(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> str:
        raise RuntimeError("a bug in routing")

    monkeypatch.setattr("intake.web_internal.route", broken)
    inbound_id, contact_id = receive(rt)
    before = len(_routing_tasks(rt))
    assert _file(rt, _pseudonym(rt, contact_id), inbound_id=inbound_id).status_code == 201  # filed is filed
    assert _cases(rt) == 1 and _routing_tasks(rt)[before:] == ["cases.route"]
