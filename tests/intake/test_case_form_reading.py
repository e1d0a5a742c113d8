"""The form reads a story's category and a place through intake: taken, proposed or listed; a
department's list, which department, "otro" and the name, with the list kept on the draft."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from intake import create_internal_app
from intake.models import ComplaintDraft, Contact, InboundMessage
from intake.reply_templates import Context, fill
from intake.runtime import Runtime
from tests.intake.assistant_fakes import POLICY
from tests.intake.case_helpers import receive

PHONE = "+50499112233"


class Person:
    """One contact talking to the form through the internal API, one pending message at a time."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.client = create_internal_app(rt.settings).test_client()
        self.inbound_id, self.contact_id = receive(rt, "hola", PHONE)
        with rt.sessions() as session:
            self.pseudonym = session.get_one(Contact, self.contact_id).pseudonym

    def says(self, text: str) -> None:
        with self.rt.sessions() as session, session.begin():
            session.execute(
                update(InboundMessage)
                .where(InboundMessage.contact_id == self.contact_id, InboundMessage.status == "received")
                .values(status="processed")
            )
        self.inbound_id, _ = receive(self.rt, text, PHONE)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(
            f"/internal/v1/contacts/{self.pseudonym}/case-form/{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.rt.settings.internal_api_token}"},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
        assert response.status_code == 200, response.data
        return dict(response.get_json())

    def start(self, text: str, case_type: str = "grievance") -> dict[str, Any]:
        self.says(text)
        return self._post("start", {"narrative": True, "case_type": case_type})

    def answer(self, slot: str, text: str, guess: str | None = None, case_type: str = "grievance") -> dict[str, Any]:
        self.says(text)
        return self._post("answer", {"slot": slot, "case_type": case_type, **({"guess": guess} if guess else {})})

    def question(self, template: str) -> str:
        """What the worker writes in place of the form's placeholder, from the draft."""
        with self.rt.sessions() as session:
            contact = session.get_one(Contact, self.contact_id)
            return fill(template, Context(session, contact, self.inbound_id, "", self.rt.now(), POLICY))


@pytest.fixture
def person(rt: Runtime) -> Person:
    return Person(rt)


def test_a_bribe_story_names_its_category_and_a_bare_request_names_none(person: Person) -> None:
    started = person.start("Un señor de la municipalidad me pidió 300 lempiras para inscribirme")
    assert started["opening"] is True
    assert (started["category"]["decision"], started["category"]["value"]) == ("take", "cobro_indebido")
    assert person.start("quiero poner una queja") == {"ok": True, "opening": False, "category": {}}
    moved = person.start("me mude a otro municipio", case_type="data_update")
    assert (moved["category"]["decision"], moved["category"]["value"]) == ("take", "cambio_direccion")


def test_words_that_sound_like_one_category_are_proposed_and_answered_yes_or_list(person: Person) -> None:
    person.start("quiero poner una queja")
    assert person.answer("category", "me trataron mal")["value"] == "maltrato"
    proposed = person.answer("category", "por un cobro")
    assert proposed == {"error": "category_confirm", "guess": "cobro_indebido"}
    assert person.answer("category", "1", guess="cobro_indebido")["value"] == "cobro_indebido"
    assert person.answer("category", "si", guess="cobro_indebido")["value"] == "cobro_indebido"
    assert person.answer("category", "2", guess="cobro_indebido") == {"error": "category_show_list"}
    assert person.answer("category", "ver la lista", guess="cobro_indebido") == {"error": "category_show_list"}
    assert person.answer("category", "6")["value"] == "cobro_indebido"  # the list's number
    assert person.answer("category", "12") == {"error": "category_unknown"}


def test_a_department_gets_its_list_then_a_number_or_other_and_a_name(person: Person) -> None:
    person.start("quiero poner una queja")
    assert person.answer("municipality", "Olancho") == {"error": "municipality_department"}
    listed = person.question("{{lista_municipios}}")
    assert listed.startswith("¿En qué municipio de Olancho? Escriba el número:\n1. Juticalpa\n2. Catacamas\n")
    assert listed.endswith("\n9. Otro (escriba el nombre)") and "Olanchito" not in listed
    assert person.answer("municipality", "2") == {"value": "1503", "display": "Catacamas, Olancho"}
    with person.rt.sessions() as session:  # the list is spent
        draft = session.get_one(ComplaintDraft, person.contact_id)
        assert (draft.place_options, draft.place_department) == ([], None)

    person.answer("municipality", "olancho")
    assert person.answer("municipality", "9") == {"error": "municipality_type_it"}
    assert person.question("{{escriba_municipio}}") == "Escriba el nombre del municipio de Olancho."
    # El Rosario is a municipality of Comayagua and of Olancho: read in Olancho, as they said.
    assert person.answer("municipality", "el rosario")["display"] == "El Rosario, Olancho"


def test_a_shared_name_asks_which_department(person: Person) -> None:
    person.start("quiero poner una queja")
    assert person.answer("municipality", "San Francisco") == {"error": "municipality_ambiguous"}
    asked = person.question("{{lista_departamentos}}")
    assert asked == (
        "Hay varios municipios San Francisco. ¿Cuál es? Escriba el número:\n"
        "1. San Francisco, Atlántida\n2. San Francisco, Lempira"
    )
    assert person.answer("municipality", "Lempira")["display"] == "San Francisco, Lempira"


def test_an_unreadable_place_asks_again_and_changes_nothing(person: Person) -> None:
    person.start("quiero poner una queja")
    person.answer("municipality", "Olancho")
    assert person.answer("municipality", "²") == {"error": "municipality_unknown"}
    # The list still stands: a number from it still answers.
    assert person.answer("municipality", "1")["display"] == "Juticalpa, Olancho"


def test_a_new_form_forgets_the_list_an_unfinished_one_offered(person: Person) -> None:
    person.start("quiero poner una queja")
    person.answer("municipality", "Olancho")
    person.start("quiero poner una queja")
    # "2" is no longer Catacamas: no list stands in the new form.
    assert person.answer("municipality", "2") == {"error": "municipality_unknown"}
