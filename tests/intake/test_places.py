"""The place reader: departments alone get their list, shared names ask the department, and a fuzzy
match never crosses from a department to a municipality of another department."""

from __future__ import annotations

import csv
import unicodedata

import pytest

from intake.form_answers import plain
from intake.geography import departments, municipalities
from intake.place_names import MAX_WORDS, read_place, shared_names
from intake.places import (
    ASK_DEPARTMENT_LIST,
    ASK_TYPE_IT,
    ASK_WHICH,
    MENU_SIZE,
    answer_place,
    department_menu,
    population,
)
from intake.reply_templates import department_question
from intake.sms_text import sms_cost, to_gsm7
from stack.paths import ROOT


def _named(text: str) -> tuple[str, str] | None:
    found = read_place(text).municipality
    return (found.name, found.department) if found else None


def test_every_municipality_has_a_population_and_every_town_a_real_municipality() -> None:
    codes = {m.code for m in municipalities()}
    assert set(population()) == codes and all(n > 0 for n in population().values())
    with (ROOT / "intake" / "data" / "lugares.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 50 and all(row["code"] in codes for row in rows)


@pytest.mark.parametrize("department", departments())
def test_a_department_alone_is_a_department_written_any_way(department: str) -> None:
    bare = "".join(c for c in unicodedata.normalize("NFKD", department) if not unicodedata.combining(c))
    for text in (department, bare.lower(), bare.upper(), f"departamento de {bare}", f"en {bare}"):
        reading = read_place(text)
        assert (reading.department, reading.municipality) == (department, None), text


@pytest.mark.parametrize("department", departments())
def test_a_misspelt_department_never_becomes_a_municipality_of_another_department(department: str) -> None:
    word = plain(department)
    # Every one-letter slip a thumb makes: a letter dropped, doubled or swapped for its neighbour.
    slips = {word[:i] + word[i + 1 :] for i in range(len(word))}
    slips |= {word[:i] + word[i] + word[i:] for i in range(len(word))}
    slips |= {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}
    crossed = []
    for slip in sorted(slips):
        reading = read_place(slip)
        places = [reading.municipality] if reading.municipality else list(reading.candidates)
        crossed += [f"{slip} -> {m.name}, {m.department}" for m in places if m.department != department]
    assert crossed == []


def test_olancho_is_a_list_of_olancho_most_populous_first_never_olanchito() -> None:
    assert read_place("Olancho").department == "Olancho"
    assert read_place("olanco").department == "Olancho"
    menu = department_menu("Olancho")
    assert [m.name for m in menu[:2]] == ["Juticalpa", "Catacamas"] and len(menu) == MENU_SIZE
    assert all(m.department == "Olancho" for m in menu)
    people = population()
    assert [people[m.code] for m in menu] == sorted((people[m.code] for m in menu), reverse=True)
    assert _named("Olanchito") == ("Olanchito", "Yoro")  # the municipality itself, written as such


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Juticalpa", ("Juticalpa", "Olancho")),
        ("sps", ("San Pedro Sula", "Cortés")),
        ("tegus", ("Distrito Central", "Francisco Morazán")),
        ("Comayagüela", ("Distrito Central", "Francisco Morazán")),
        ("zamorano", ("San Antonio de Oriente", "Francisco Morazán")),
        ("aqui en Choloma", ("Choloma", "Cortés")),
        ("santa rosa de copam", ("Santa Rosa de Copán", "Copán")),
        ("Danli El Paraiso", ("Danlí", "El Paraíso")),
        ("San Francisco, Lempira", ("San Francisco", "Lempira")),
        ("Concepcion intibuca", ("Concepción", "Intibucá")),
        ("San José, Comayagua", ("San José de Comayagua", "Comayagua")),
        ("en la aldea de mi mama en Yoro, municipio de Morazan", ("Morazán", "Yoro")),
        ("municipio de Yoro", ("Yoro", "Yoro")),
        ("La Paz, La Paz", ("La Paz", "La Paz")),
        ("El Paraiso, Copan", ("El Paraíso", "Copán")),
        ("puerto lempira", ("Puerto Lempira", "Gracias a Dios")),
        ("san marcos de colon", ("San Marcos de Colón", "Choluteca")),
    ],
)
def test_municipalities_towns_and_abbreviations_name_their_municipality(text: str, expected: tuple[str, str]) -> None:
    assert _named(text) == expected


def test_a_name_several_departments_share_asks_which_and_the_department_answers() -> None:
    assert {"san francisco", "concepcion", "la union", "santa rita"} <= set(shared_names())
    step = answer_place("San Francisco", [], None)
    assert step.ask == ASK_WHICH and [m.department for m in step.options] == ["Atlántida", "Lempira"]
    assert answer_place("2", list(step.options), None).chosen == step.options[1]
    chosen = answer_place("Lempira", list(step.options), None).chosen
    assert chosen is not None and (chosen.name, chosen.department) == ("San Francisco", "Lempira")


def test_a_municipality_and_a_department_that_disagree_trust_the_department() -> None:
    # "Juticalpa, Yoro": the department routes the case, so its list is offered rather than a guess.
    assert read_place("Juticalpa, Yoro").department == "Yoro"


def test_a_department_list_is_answered_by_number_or_other_then_the_name_is_read_there() -> None:
    step = answer_place("Olancho", [], None)
    assert step.ask == ASK_DEPARTMENT_LIST and step.department == "Olancho"
    options = list(step.options)
    second = answer_place("2", options, "Olancho").chosen
    assert second is not None and second.name == "Catacamas"
    other = answer_place(str(len(options) + 1), options, "Olancho")
    assert other.ask == ASK_TYPE_IT and other.department == "Olancho"
    assert answer_place("otro", options, "Olancho").ask == ASK_TYPE_IT
    typed = answer_place("el rosario", [], "Olancho").chosen  # El Rosario is in Comayagua too
    assert typed is not None and (typed.name, typed.department) == ("El Rosario", "Olancho")
    # A number past the list, or "²", is not an answer: the same question comes back.
    assert answer_place("12", options, "Olancho").chosen is None
    assert answer_place("²", options, "Olancho").chosen is None


def test_a_small_department_is_listed_whole_without_other() -> None:
    menu = department_menu("Islas de la Bahía")
    assert len(menu) == 4 and menu[0].name == "Roatán"
    assert "Otro" not in department_question("Islas de la Bahía", menu)
    assert "9. Otro" in department_question("Olancho", department_menu("Olancho"))


def test_every_department_question_fits_two_sms_segments() -> None:
    costs = {d: sms_cost(to_gsm7(department_question(d, department_menu(d)))) for d in departments()}
    assert all(c.encoding == "GSM-7" and c.segments <= 2 for c in costs.values()), costs


@pytest.mark.parametrize("text", ["", "²", "nose", "marzo", "1", "x" * 5000, "ñ" * 300])
def test_nonsense_is_no_place(text: str) -> None:
    assert not read_place(text).found


def test_a_5000_character_answer_is_read_on_its_first_words_only() -> None:
    # The fuzzy search is bounded by MAX_WORDS, whatever the message's length.
    assert read_place("juticalpa olancho " + "bla " * 2000).municipality is not None
    assert not read_place("bla " * MAX_WORDS + "juticalpa").found
