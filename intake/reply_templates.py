"""Personal values in the assistant's replies, filled in by the worker so that Rasa's tracker never holds them.

The custom actions decide *which* answer applies and dispatch a placeholder instead of the
values: `{{name}}`, or `{{name:code}}` with an opaque code (a municipality code). The worker
replaces each placeholder in Rasa's reply texts, and only there, from intake's database for the
contact and the message being answered. Rasa's tracker (every BotUttered event) therefore holds
template names and codes, never an amount, a date, a collection point, a reason, a case
reference or a staff update. A beneficiary cannot trigger a placeholder: what they type never
reaches a bot reply (the tracker gets intents and codes only), and user text is never expanded.
A placeholder that cannot be filled says something safe instead of failing the turn.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.cases import TYPE_NAMES, case_for_contact, latest_case, public_status
from intake.drafts import find_draft
from intake.form_answers import MONTH_NAMES
from intake.geography import Municipality, municipalities
from intake.identity import Policy, current_state
from intake.models import Case, Contact
from intake.places import by_codes, offers_other
from intake.references import find_reference
from intake.statements import statement

PLACEHOLDER = re.compile(r"\{\{([a-z_]+)(?::([A-Za-z0-9_-]{1,40}))?\}\}")

# --- what the beneficiary reads (Spanish, usted, short lines) ---------------------------------
NEXT_PAYMENT = "Su próximo pago es de L {amount}, programado para el {date}.\nLugar de cobro: {point}."
NO_NEXT_PAYMENT = "Por ahora no hay un pago programado para su hogar."
HOUSEHOLD_SUSPENDED = "Su hogar está suspendido en el programa. Escriba 3 para saber el motivo."
HOUSEHOLD_EXITED = (
    "Su hogar ya no forma parte del programa. Si cree que es un error, escriba 5 para hablar con una persona."
)
LAST_PAYMENT = "Su último pago ({month}): {status}."
COLLECTION_POINT = "Usted cobra en: {point}.\nLleve su tarjeta de identidad original."
NO_COLLECTION_POINT = "Aún no tiene lugar de cobro asignado. Escriba 5 para hablar con una persona."
WITHHELD_REASON = "El pago de {month} fue {status}.\nMotivo: {reason}"
ADVICE_SCHOOL = (
    "Pida en la escuela la constancia de matrícula o de asistencia y llévela a la oficina del programa en su municipio."
)
ADVICE_HEALTH = "Lleve a los menores a su control en la unidad de salud y pida la constancia."
ADVICE_OTHER = "Para aclararlo, escriba 5 para hablar con una persona."
NO_WITHHELD = "Sus pagos recientes no tienen retenciones ni suspensiones."
NOT_VERIFIED = "Para proteger sus datos, escriba otra vez el número de identidad (DNI) de la persona titular del bono."
CASE_FILED = (
    "Listo. Su {kind} quedó registrada con el código {reference}. Guárdelo.\n"
    "Le responderemos a más tardar el {deadline}.\nPara saber cómo va, escriba: ESTADO {reference}"
)
CASE_FILED_ANONYMOUS = "No guardamos su nombre: este código es la única forma de consultarla."
CASE_FILED_UNKNOWN = "Listo. Su trámite quedó registrado. Para saber cómo va, escriba: ESTADO"
CASE_STATUS = "Su {kind} {reference} está {state}."
CASE_STATUS_UPDATE = "Última novedad: {update}"
CASE_NOT_FOUND = "No encontramos una queja con ese código para este teléfono. Revise el código, por ejemplo BVM-7K3Q9."
CASE_ASK_REFERENCE = "Escriba ESTADO y el código de su queja, por ejemplo: ESTADO BVM-7K3Q9."
CASE_REOPENED = "Reabrimos su {kind} {reference}. La persona encargada la revisará de nuevo."
CASE_NOT_REOPENABLE = "Su {kind} {reference} está {state} y ya no se puede reabrir. Si quiere, ponga una queja nueva."
MUNICIPALITY_UNKNOWN = "-"
# The place questions (intake/places.py): short lines, a numbered list, "Otro" to type it.
DEPARTMENT_LIST = "¿En qué municipio de {department}? Escriba el número:"
OTHER_LINE = "Otro (escriba el nombre)"
WHICH_DEPARTMENT = "Hay varios municipios {name}. ¿Cuál es? Escriba el número:"
TYPE_IT = "Escriba el nombre del municipio de {department}."
PLACE_AGAIN = "Escriba el municipio y el departamento, por ejemplo: Juticalpa, Olancho."
UNAVAILABLE = "Disculpe, ahora no podemos consultar sus datos. Intente de nuevo en unos minutos."

# The word a filed case is called by ("Su queja quedó registrada"), feminine like the sentence.
FILED_KIND = {"grievance": "queja", "data_update": "solicitud", "appeal": "apelación", "information": "solicitud"}
STATUS_WORDS = {"paid": "pagado", "scheduled": "programado", "withheld": "retenido", "suspended": "suspendido"}


@dataclass(frozen=True)
class Context:
    """What a placeholder is filled from: the contact, and the message whose reply it is."""

    session: Session
    contact: Contact
    inbound_id: int
    body: str
    now: datetime
    policy: Policy


def long_date(day: date) -> str:
    """date(2026, 12, 15) -> '15 de diciembre de 2026'."""
    return f"{day.day} de {MONTH_NAMES[day.month - 1]} de {day.year}"


def cycle_name(cycle: str) -> str:
    """'2026-06' -> 'junio de 2026'."""
    year, month = cycle.split("-")
    return f"{MONTH_NAMES[int(month) - 1]} de {year}"


def lempiras(amount: str) -> str:
    """'2500.00' -> '2,500.00' (Honduras writes thousands with commas)."""
    return f"{Decimal(amount):,.2f}"


def _statement(ctx: Context) -> dict[str, Any] | None:
    # Checked again here: the action saw a verified identity, but the values are only read now.
    state = current_state(ctx.session, ctx.contact, ctx.now, ctx.policy)
    if state.state != "verified" or state.household_id is None:
        return None
    return statement(ctx.session, state.household_id, ctx.now.date())


def _next_payment(ctx: Context, _: str) -> str:
    found = _statement(ctx)
    if found is None:
        return NOT_VERIFIED
    upcoming, last = found["next"], found["last"]
    if upcoming:
        lines = [
            NEXT_PAYMENT.format(
                amount=lempiras(upcoming["amount_lps"]),
                date=long_date(date.fromisoformat(upcoming["scheduled_date"])),
                point=upcoming["collection_point"],
            )
        ]
    elif found["household_status"] == "suspended":
        lines = [HOUSEHOLD_SUSPENDED]
    elif found["household_status"] == "exited":
        lines = [HOUSEHOLD_EXITED]
    else:
        lines = [NO_NEXT_PAYMENT]
    if last:
        status = STATUS_WORDS.get(last["status"], last["status"])
        lines.append(LAST_PAYMENT.format(month=cycle_name(last["cycle"]), status=status))
    return "\n\n".join(lines)


def _collection_point(ctx: Context, _: str) -> str:
    found = _statement(ctx)
    if found is None:
        return NOT_VERIFIED
    payment = found["next"] or found["last"]
    return COLLECTION_POINT.format(point=payment["collection_point"]) if payment else NO_COLLECTION_POINT


def _advice(reason: str) -> str:
    lowered = reason.lower()
    if "escolar" in lowered or "escuela" in lowered or "matr" in lowered:
        return ADVICE_SCHOOL
    if "salud" in lowered:
        return ADVICE_HEALTH
    return ADVICE_OTHER


def _withheld_reason(ctx: Context, _: str) -> str:
    found = _statement(ctx)
    if found is None:
        return NOT_VERIFIED
    if not found["problems"]:
        return NO_WITHHELD
    latest = found["problems"][0]
    reason = latest["reason"] or "no registrado"
    status = STATUS_WORDS.get(latest["status"], latest["status"])
    said = WITHHELD_REASON.format(month=cycle_name(latest["cycle"]), status=status, reason=reason)
    return f"{said}\n\n{_advice(reason)}"


def _filed_case(ctx: Context, _: str) -> str:
    # The case filed from this very message (filing is keyed by the confirming message).
    case = ctx.session.scalar(select(Case).where(Case.source_inbound_id == ctx.inbound_id))
    if case is None:
        return CASE_FILED_UNKNOWN
    status = public_status(case)
    said = CASE_FILED.format(
        kind=FILED_KIND.get(case.case_type, "solicitud"),
        reference=case.reference,
        deadline=long_date(date.fromisoformat(status["deadline_date"])),
    )
    return f"{said}\n\n{CASE_FILED_ANONYMOUS}" if case.confidentiality == "anonymous" else said


def _named_case(ctx: Context) -> tuple[str | None, Case | None]:
    """The case named in the message being answered, if this contact may read it."""
    reference = find_reference(ctx.body)
    if reference is None:
        return None, None
    household_id = current_state(ctx.session, ctx.contact, ctx.now, ctx.policy).household_id
    return reference, case_for_contact(ctx.session, ctx.contact, reference, household_id)


def _case_status(ctx: Context, _: str) -> str:
    reference, case = _named_case(ctx)
    if reference is None:
        case = latest_case(ctx.session, ctx.contact)
    if case is None:
        return CASE_NOT_FOUND if reference else CASE_ASK_REFERENCE
    status = public_status(case)
    said = CASE_STATUS.format(kind=status["type"], reference=case.reference, state=status["state_name"])
    update = status["public_update"]
    return f"{said}\n\n{CASE_STATUS_UPDATE.format(update=update)}" if update else said


def _reopened(ctx: Context, _: str) -> str:
    case = _named_case(ctx)[1]
    if case is None:
        return CASE_NOT_FOUND
    return CASE_REOPENED.format(kind=TYPE_NAMES[case.case_type], reference=case.reference)


def _not_reopenable(ctx: Context, _: str) -> str:
    case = _named_case(ctx)[1]
    if case is None:
        return CASE_NOT_FOUND
    status = public_status(case)
    return CASE_NOT_REOPENABLE.format(kind=status["type"], reference=case.reference, state=status["state_name"])


def _municipality(ctx: Context, code: str) -> str:
    found = next((m for m in municipalities() if m.code == code), None)
    return f"{found.name}, {found.department}" if found else MUNICIPALITY_UNKNOWN


def _offered(ctx: Context) -> tuple[list[Municipality], str | None]:
    """The list the form just offered, as intake.case_form kept it on the draft."""
    draft = find_draft(ctx.session, ctx.contact.id)
    if draft is None:
        return [], None
    return by_codes(draft.place_options or []), draft.place_department


def department_question(department: str, options: list[Municipality]) -> str:
    """'¿En qué municipio de Olancho? Escriba el número:' and the numbered list, 'Otro' last."""
    lines = [DEPARTMENT_LIST.format(department=department)]
    lines += [f"{n}. {m.name}" for n, m in enumerate(options, start=1)]
    if offers_other(department, len(options)):
        lines.append(f"{len(options) + 1}. {OTHER_LINE}")
    return "\n".join(lines)


def which_question(options: list[Municipality]) -> str:
    """One name, several departments: the numbered list of them."""
    lines = [WHICH_DEPARTMENT.format(name=options[0].name)]
    lines += [f"{n}. {m.name}, {m.department}" for n, m in enumerate(options, start=1)]
    return "\n".join(lines)


def _department_list(ctx: Context, _: str) -> str:
    options, department = _offered(ctx)
    return department_question(department, options) if options and department else PLACE_AGAIN


def _which_department(ctx: Context, _: str) -> str:
    options, _department = _offered(ctx)
    return which_question(options) if options else PLACE_AGAIN


def _type_it(ctx: Context, _: str) -> str:
    _options, department = _offered(ctx)
    return TYPE_IT.format(department=department) if department else PLACE_AGAIN


FILLERS: dict[str, Callable[[Context, str], str]] = {
    "pago_proximo": _next_payment,
    "lugar_cobro": _collection_point,
    "motivo_retencion": _withheld_reason,
    "caso_registrado": _filed_case,
    "estado_caso": _case_status,
    "caso_reabierto": _reopened,
    "caso_no_reabrible": _not_reopenable,
    "municipio": _municipality,
    "lista_municipios": _department_list,
    "lista_departamentos": _which_department,
    "escriba_municipio": _type_it,
}


def fill(text: str, ctx: Context) -> str:
    """`text` (a reply from Rasa) with every placeholder replaced; an unknown name says UNAVAILABLE."""

    def replace(match: re.Match[str]) -> str:
        filler = FILLERS.get(match.group(1))
        return filler(ctx, match.group(2) or "") if filler else UNAVAILABLE

    return PLACEHOLDER.sub(replace, text)


def has_placeholder(texts: list[str]) -> bool:
    return any(PLACEHOLDER.search(text) for text in texts)
