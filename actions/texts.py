"""What the assistant says from custom actions (Spanish, usted, short lines for SMS).

Responses used by rules live in bot/domain.yml; these are only ever sent by actions, and keeping
them here keeps `rasa data validate` free of "utterance not used in any story" warnings.
Nothing here carries a personal value: amounts, dates, places, reasons, case references and staff
updates are sent as placeholders (`{{name}}`) that the worker fills in (intake/reply_templates.py),
so Rasa's tracker never holds them.
"""

from __future__ import annotations

BAD_OPTION = "Escriba solo un número del 0 al 9, o MENU para ver las opciones."
ASK_DNI = "Para proteger sus datos, escriba el número de identidad (DNI) de la persona titular del bono: 13 números, por ejemplo 0801-1990-12345."
DNI_MALFORMED = "El número de identidad tiene 13 números. Revíselo y escríbalo de nuevo, por ejemplo 0801-1990-12345."
DNI_MISMATCH = "Ese número no coincide con el registrado para este teléfono. Revíselo y escríbalo de nuevo. Le quedan {attempts_left} intentos.\nSi cambió de teléfono, escriba 5 para hablar con una persona."
LOCKED = "Por seguridad, las consultas desde este teléfono están bloqueadas por {minutes} minutos. Si necesita ayuda, escriba 5 para hablar con una persona."
IDENTITY_VERIFIED = "Gracias, verificamos su identidad."
# Said instead of an answer when intake cannot be reached: never sent. The worker undoes the turn in
# Rasa's tracker and answers the same message again later (intake/conversation.py UNDO_TURN), so an
# outage in the middle of a form loses no answer; after a few tries it apologises instead.
UNDO_TURN = "{{deshacer_turno}}"
PERSON_REQUESTED = "Listo, registramos su solicitud. Una persona del programa le escribirá por este mismo medio en horario de oficina (lunes a viernes, 8:00 a 16:00)."

# --- cases ---
CASE_START = {
    "grievance": "Vamos a registrar su queja. Sus datos están protegidos. Puede escribir CANCELAR en cualquier momento.",
    "data_update": "Vamos a registrar su solicitud de cambio de datos. Puede escribir CANCELAR en cualquier momento.",
    "appeal": "Vamos a registrar su apelación. Puede escribir CANCELAR en cualquier momento.",
    "information": "Vamos a registrar su solicitud de información. Puede escribir CANCELAR en cualquier momento.",
}
ASK_CATEGORY = {
    "grievance": "¿Sobre qué es su queja? Escriba el número:",
    "data_update": "¿Qué dato quiere cambiar? Escriba el número:",
}
# The category read from the story, when the classifier is unsure: a yes/no question.
CONFIRM_CATEGORY = {
    "grievance": "¿Su queja es sobre {name}?\n1. Sí\n2. Ver la lista",
    "data_update": "¿Su solicitud es sobre {name}?\n1. Sí\n2. Ver la lista",
}
# After the category in the summary when it was read from the story, not chosen from the list.
FROM_STORY = " (según lo que nos contó)"
ASK_MUNICIPALITY = "¿En qué municipio pasó? Escriba el municipio y el departamento, por ejemplo: Juticalpa, Olancho."
ASK_CYCLE = "¿De qué mes es el pago? Por ejemplo: marzo. Si no se acuerda, escriba NO SE."
ASK_DESCRIPTION = {
    "grievance": "Cuéntenos en un mensaje qué pasó: cuándo, dónde y quién. No escriba su número de identidad aquí.",
    "data_update": "Escriba el dato nuevo y el motivo del cambio (por ejemplo, su número de teléfono nuevo).",
    "appeal": "Escriba por qué pide que revisen la suspensión.",
    "information": "Escriba qué información necesita.",
}
ASK_CONFIDENTIALITY = (
    "¿Cómo quiere presentar su queja?\n1. Con mi nombre\n2. Confidencial: solo la Unidad de Integridad ve mis datos"
    "\n3. Anónima: no guardamos su nombre; solo podrá consultarla con el código"
)
CONFIDENTIALITY_HINT = "Por ser un tema delicado, le recomendamos la opción 2 o 3."
SUMMARY = "Revise su {kind}:\n{lines}"
CONFIRM_MENU = "Escriba:\n1. Enviar\n{changes}7. Cancelar"
CHANGE_LINES = {
    "category": "2. Cambiar el tipo\n",
    "municipality": "3. Cambiar el municipio\n",
    "cycle": "4. Cambiar el mes del pago\n",
    "description": "5. Escribir de nuevo lo que pasó\n",
    "confidentiality": "6. Cambiar cómo la presenta\n",
}
INVALID = {
    "category_unknown": "No le entendí. Escriba solo el número de la lista.",
    "municipality_unknown": "No encontré ese municipio. Escríbalo con el departamento, por ejemplo: Juticalpa, Olancho.",
    "cycle_unknown": "No le entendí el mes. Escriba el nombre del mes, por ejemplo: marzo, o NO SE.",
    "description_missing": "Por favor cuéntenos en un mensaje qué pasó.",
    "confidentiality_unknown": "Escriba 1, 2 o 3.",
    "confirm_unknown": "Escriba un número del 1 al 7.",
}
# The place questions that replace "¿En qué municipio pasó?" when the answer needs one more step.
# The worker writes the numbered lists from the draft (intake.reply_templates): no place in Rasa.
PLACE_QUESTIONS = {
    "municipality_department": "{{lista_municipios}}",
    "municipality_ambiguous": "{{lista_departamentos}}",
    "municipality_type_it": "{{escriba_municipio}}",
}
CASE_CANCELLED = "Cancelamos el trámite. No se guardó nada."
CASE_FAILED = "Disculpe, no pudimos registrar su trámite. Intente de nuevo en unos minutos."
# The filing's outcome is unknown (intake did not answer): it may be registered, so no "try again".
CASE_UNCONFIRMED = (
    "Disculpe, no pudimos confirmar si su trámite quedó registrado. "
    "En unos minutos escriba ESTADO para consultarlo antes de presentarlo otra vez."
)
MEDIA_ATTACHED = "Recibimos su foto o archivo. Lo adjuntamos como prueba."
MEDIA_OUTSIDE_FORM = (
    "Por ahora solo puedo leer mensajes de texto. Si es una prueba para una queja, escriba QUEJA primero."
)
CASE_NOT_FOUND = "No encontramos una queja con ese código para este teléfono. Revise el código, por ejemplo BVM-7K3Q9."
CASE_ASK_REFERENCE = "Escriba ESTADO y el código de su queja, por ejemplo: ESTADO BVM-7K3Q9."
