"""A request said at the start decides the intent; a very long message is classified on its beginning."""

from __future__ import annotations

import pytest

from intake.openers import FIRST_SENTENCES, explicit_request, for_classifier, story_of

BANK = " Fui al banco el lunes y no me pagaron, me dijeron que no salia en el sistema y que volviera otro dia."


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("quiero poner una queja." + BANK * 10, "file_complaint"),
        ("Buenas tardes, quiero hacer una denuncia: la guia nos cobra 100", "file_complaint"),
        ("KIERO PONER UNA KEJA", None),  # misspelt: left to the classifier, which knows typos
        ("hola quiero denunciar al promotor" + BANK, "file_complaint"),
        ("quiero hablar con una persona, es que" + BANK, "talk_to_person"),
        ("estado BVM-7K3Q9, ya paso un mes y nada" + BANK, "check_case_status"),
        ("no me han pagado" + BANK, None),
        ("quiero saber cuando me pagan", None),
        ("quiero reclamar mi pago de marzo", None),  # a claim for a payment, not a complaint
        ("estado de mi queja", None),  # no reference: the assistant asks for it
        ("²", None),
    ],
)
def test_an_explicit_request_at_the_start_decides(text: str, intent: str | None) -> None:
    found = explicit_request(text)
    assert (found.intent if found else None) == intent


def test_a_status_request_carries_its_reference() -> None:
    found = explicit_request("estado bvm7k3q9 porfa")
    assert found is not None and found.reference == "BVM-7K3Q9"


def test_the_story_is_what_follows_the_request() -> None:
    assert story_of("Quiero poner una queja: la guia me cobro 100") == "la guia me cobro 100"
    assert story_of("la guia me cobro 100") == "la guia me cobro 100"
    assert story_of("quiero poner una queja") == ""


def test_a_very_long_message_is_classified_on_its_first_sentences() -> None:
    text = "Quiero poner una queja por la guia de mi aldea." + BANK * 20
    head = for_classifier(text)
    assert head.startswith("Quiero poner una queja por la guia") and len(head) <= FIRST_SENTENCES
    assert for_classifier("no me han pagado") == "no me han pagado"
    one_sentence = "palabra " * 400  # no punctuation at all
    assert 0 < len(for_classifier(one_sentence)) <= FIRST_SENTENCES
