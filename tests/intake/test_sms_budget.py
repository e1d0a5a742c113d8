"""Every fixed text the line sends fits its SMS budget in GSM-7, placeholders filled with their longest values.

A budget is a number of billed segments (160 GSM-7 characters alone, 153 each when split). Every
text gets one segment unless BUDGETS grants more; a text that grows past its budget fails here,
before it costs two or three times as much on every send.
"""

from __future__ import annotations

import re
from datetime import timedelta

import actions.texts as texts
from intake import consent
from intake.case_states import NAMES as STATE_NAMES
from intake.cases import change_state
from intake.conversation import APOLOGY, SURVEY_THANKS
from intake.dead_letters import APOLOGY as DEAD_APOLOGY
from intake.geography import departments
from intake.models import Case
from intake.nontext import REPLIES as NONTEXT_REPLIES
from intake.nontext import VOICE_IN_FORM
from intake.place_names import shared_names
from intake.places import department_menu
from intake.reply_templates import TYPE_IT, department_question, which_question
from intake.runtime import Runtime
from intake.sms_text import sms_cost, to_gsm7
from stack.rasa_yaml import domain_responses
from tests.intake.case_helpers import file

DEFAULT_BUDGET = 1
# Texts allowed more than one segment, and why: menus and a form's summary are read whole.
BUDGETS = {
    "domain.utter_menu": 2,  # ten numbered options
    "domain.utter_program_info": 2,
    "actions.texts.ASK_CONFIDENTIALITY": 2,  # three options, each explained
    "actions.texts.DNI_MISMATCH": 2,  # what to do, and the way out
    "actions.texts.SUMMARY": 2,  # the whole form, to confirm
    "actions.texts.CONFIRM_MENU": 2,
    "actions.texts.PLACE_QUESTIONS[municipality_ambiguous]": 2,  # lists the municipalities it could be
    "actions.texts.PLACE_QUESTIONS[municipality_department]": 2,  # a department's municipalities
    "case_notice.closed": 2,  # the state, the survey and how to reopen
}
# The longest value each placeholder takes (in the worker's or the actions' own words).
LONGEST = {
    "attempts_left": "2",
    "minutes": "30",
    "kind": "solicitud de cambio de datos",
    "lines": (
        "Tipo: Problema en el lugar de pago (cerrado, sin efectivo, filas) (según lo que nos contó)\n"
        "Municipio: San Marcos de Colón, Choluteca\n"
        "Mes del pago: septiembre\nLo que pasó: recibido\nPresentada: confidencial"
    ),
    "changes": "".join(texts.CHANGE_LINES.values()),
    # The place questions, at their longest over every department and every shared name.
    "lista_municipios": max(
        (department_question(d, department_menu(d)) for d in departments()), key=lambda t: sms_cost(t).segments
    ),
    "lista_departamentos": max(
        (which_question(list(ms)) for ms in shared_names().values()), key=lambda t: sms_cost(t).segments
    ),
    "escriba_municipio": TYPE_IT.format(department="Francisco Morazán"),
    "name": "Problema en el lugar de pago (cerrado, sin efectivo, filas)",  # the longest category name
}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _fixed_texts() -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in vars(texts).items():
        if name.startswith("_"):
            continue
        if isinstance(value, str) and name.isupper():
            out[f"actions.texts.{name}"] = value
        elif isinstance(value, dict):
            out.update({f"actions.texts.{name}[{k}]": v for k, v in value.items() if isinstance(v, str)})
    out.update({f"consent.{k}": v for k, v in consent.REPLIES.items()})
    out.update({f"nontext.{k}": v for k, v in NONTEXT_REPLIES.items()})
    out |= {"apology": APOLOGY, "dead_letter": DEAD_APOLOGY, "survey_thanks": SURVEY_THANKS, "voice": VOICE_IN_FORM}
    return out


def _domain_texts() -> dict[str, str]:
    return {f"domain.{name}": text for name, variants in domain_responses().items() for text in variants}


def _filled(text: str) -> str:
    return PLACEHOLDER.sub(lambda m: LONGEST.get(m.group(1), m.group(0)), text)


def _over_budget(found: dict[str, str]) -> list[str]:
    over = []
    for name, text in sorted(found.items()):
        cost = sms_cost(to_gsm7(_filled(text)))
        budget = BUDGETS.get(name, BUDGETS.get(name.split("[")[0], DEFAULT_BUDGET))
        if cost.encoding != "GSM-7" or cost.segments > budget:
            over.append(f"{name}: {cost.segments} {cost.encoding} segments, budget {budget}")
    return over


def test_every_fixed_text_of_the_actions_and_the_worker_fits_its_budget() -> None:
    found = _fixed_texts()
    assert len(found) > 40  # the catalogue was read
    assert _over_budget(found) == []


def test_every_response_of_the_domain_fits_its_budget() -> None:
    found = _domain_texts()
    assert "domain.utter_menu" in found
    assert _over_budget(found) == []


def test_a_case_notice_fits_its_budget_for_every_state(rt: Runtime) -> None:
    case = file(rt)
    found = {}
    with rt.sessions() as session, session.begin():
        row = session.get_one(Case, case.id)
        for n, state in enumerate(STATE_NAMES):
            # With the longest staff update the public page allows, on the closing notice.
            update = "Se verificó su pago con el banco; cobre en la agencia de siempre." if state == "closed" else ""
            message = change_state(session, row, state, "test", rt.now() + timedelta(seconds=n), update)
            assert message is not None
            closing = state in ("closed", "resolved", "rejected")
            found["case_notice.closed" if closing else f"case_notice.{state}"] = message.body
    assert _over_budget(found) == []


def test_the_budget_check_can_fail() -> None:
    # A text one character past one segment is reported; a single accent outside GSM-7 would be too.
    assert _over_budget({"x": "a" * 161}) == ["x: 2 GSM-7 segments, budget 1"]
    assert sms_cost("a" * 160).segments == 1 and sms_cost("a" * 307).segments == 3
    assert sms_cost("á" * 70) == sms_cost("ú" * 70) and sms_cost("á" * 71).segments == 2
    assert sms_cost("€" * 80).segments == 1 and sms_cost("€" * 81).segments == 2
