"""DNI and phone parsing, and what the assistant may see of a message."""

from __future__ import annotations

import pytest

from intake.identifiers import address_phone, channel_of, normalize_dni, normalize_phone
from intake.redaction import DNI_INTENT, NUMBER_PLACEHOLDER, prepare_for_assistant


@pytest.mark.parametrize("raw", ["0801-1990-12345", "0801 1990 12345", "0801199012345", " 0801199012345 "])
def test_it_reads_a_dni_in_any_common_style(raw: str) -> None:
    assert normalize_dni(raw) == "0801199012345"


@pytest.mark.parametrize("raw", ["0801-1990-1234", "08011990123456", "0801-199O-12345", ""])
def test_it_rejects_what_is_not_a_dni(raw: str) -> None:
    assert normalize_dni(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("99887766", "+50499887766"),
        ("+50499887766", "+50499887766"),
        ("504 9988-7766", "+50499887766"),
        ("1234", None),
        ("abc", None),
    ],
)
def test_it_normalises_phones_to_e164(raw: str, expected: str | None) -> None:
    assert normalize_phone(raw) == expected


def test_it_reads_whatsapp_addresses() -> None:
    assert address_phone("whatsapp:+50499887766") == "+50499887766"
    assert channel_of("whatsapp:+50499887766") == "whatsapp"
    assert channel_of("+50499887766") == "sms"


@pytest.mark.parametrize(
    "body",
    [
        "0801-1990-12345",
        "mi identidad es 0801 1990 12345 gracias",
        "dni:0801199012345",
        "0801 - 1990 - 12345",
        "0801.1990.12345",
        "mi numero 0801- 1990 -12345",
        "0801  1990  12345",
        "ID 08011990 12345.",
        "0801–1990–12345",
        "0801_1990_12345",
    ],
)
def test_a_message_with_a_dni_reaches_the_assistant_as_an_intent_only(body: str) -> None:
    prepared = prepare_for_assistant(body)
    assert prepared.text == DNI_INTENT
    assert prepared.dni == "0801199012345"
    assert "0801" not in prepared.text


def test_a_mistyped_dni_is_flagged_and_hidden() -> None:
    prepared = prepare_for_assistant("mi dni es 0801-1990-1234")
    assert prepared.text == DNI_INTENT
    assert prepared.dni is None and prepared.dni_malformed


def test_a_date_stays_readable_for_the_assistant() -> None:
    assert prepare_for_assistant("me pagaron el 15/03/2026 y nada mas").text == "me pagaron el 15/03/2026 y nada mas"


def test_phone_numbers_are_blanked_out_of_text_for_the_assistant() -> None:
    prepared = prepare_for_assistant("llamenme al 9988-7766 o al +504 3322 1100 porfa")
    assert "9988" not in prepared.text and "3322" not in prepared.text
    assert prepared.text.count(NUMBER_PLACEHOLDER) == 2
    assert prepared.dni is None and not prepared.dni_malformed


def test_ordinary_text_is_passed_as_written() -> None:
    body = "¡Hola! cuando me toca cobrar el bono de 2500?"
    assert prepare_for_assistant(body).text == body
