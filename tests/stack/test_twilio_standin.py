"""The local Twilio stand-in speaks Twilio's Messages API as Twilio's own OpenAPI description defines it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from stack.twilio_standin import SPEC_PATH, TwilioStandIn, message_create_schema, message_resource_schema

SID = "AC" + "3" * 32
TOKEN = "standin-contract-token"


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    standin = TwilioStandIn(SID, TOKEN).start()
    yield standin
    standin.stop()


def _post(twilio: TwilioStandIn, form: dict[str, str]) -> requests.Response:
    url = f"{twilio.url}/2010-04-01/Accounts/{SID}/Messages.json"
    return requests.post(url, data=form, auth=(SID, TOKEN), timeout=5)


def test_the_description_is_kept_in_the_repository_with_its_licence() -> None:
    folder = SPEC_PATH.parent
    assert "MIT License" in (folder / "LICENSE").read_text()
    assert "twilio/twilio-oai" in (folder / "README.md").read_text()
    spec = json.loads(SPEC_PATH.read_text())
    assert spec["openapi"].startswith("3.")
    # Only the Messages resource is kept, and every schema it references is there.
    assert all("/Messages" in path for path in spec["paths"])
    refs = {ref.split("/")[-1] for ref in _refs(spec["paths"]) | _refs(spec["components"]["schemas"])}
    assert refs <= set(spec["components"]["schemas"])


def _refs(node: object) -> set[str]:
    if isinstance(node, dict):
        own = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return own.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node))
    return set()


def test_a_created_message_has_only_the_fields_twilio_defines(twilio: TwilioStandIn) -> None:
    response = _post(twilio, {"To": "+50499887766", "From": "+50422220000", "Body": "Hola"})
    assert response.status_code == 201
    fields = set(message_resource_schema()["properties"])
    body = response.json()
    assert set(body) <= fields, sorted(set(body) - fields)
    status_schema = message_resource_schema()["properties"]["status"]["$ref"].split("/")[-1]
    spec = json.loads(SPEC_PATH.read_text())
    assert body["status"] in spec["components"]["schemas"][status_schema]["enum"]


def test_a_parameter_twilio_does_not_define_is_refused(twilio: TwilioStandIn) -> None:
    assert "Mensaje" not in message_create_schema()["properties"]
    response = _post(twilio, {"To": "+50499887766", "From": "+50422220000", "Body": "Hola", "Mensaje": "x"})
    assert response.status_code == 400
    assert response.json()["code"] == 21601
    assert twilio.messages == []


def test_a_received_message_is_listed_as_twilio_lists_it(twilio: TwilioStandIn) -> None:
    sid = twilio.receive("whatsapp:+50499887766", "whatsapp:+50422220000", "hola", seconds_ago=60)
    _post(twilio, {"To": "+50499887766", "From": "+50422220000", "Body": "respuesta"})
    url = f"{twilio.url}/2010-04-01/Accounts/{SID}/Messages.json"
    params = {"To": "whatsapp:+50422220000", "DateSent>": "2020-01-01", "PageSize": "10"}
    response = requests.get(url, params=params, auth=(SID, TOKEN), timeout=5)
    assert response.status_code == 200
    list_schema = json.loads(SPEC_PATH.read_text())["paths"]["/2010-04-01/Accounts/{AccountSid}/Messages.json"]
    page_fields = set(list_schema["get"]["responses"]["200"]["content"]["application/json"]["schema"]["properties"])
    assert set(response.json()) <= page_fields
    [listed] = response.json()["messages"]
    assert set(listed) <= set(message_resource_schema()["properties"])
    assert (listed["sid"], listed["direction"], listed["status"]) == (sid, "inbound", "received")
    assert requests.get(url, params={"DateSent<": "2020-01-01"}, auth=(SID, TOKEN), timeout=5).json()["messages"] == []
