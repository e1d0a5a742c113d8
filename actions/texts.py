"""What the assistant says from custom actions (Spanish, usted, short lines for SMS).

Responses used by rules live in bot/domain.yml; these are only ever sent by actions, and keeping
them here keeps `rasa data validate` free of "utterance not used in any story" warnings.
"""

from __future__ import annotations

BAD_OPTION = "Escriba solo un número del 0 al 9, o MENU para ver las opciones."
ASK_DNI = "Para proteger sus datos, escriba el número de identidad (DNI) de la persona titular del bono: 13 números, por ejemplo 0801-1990-12345."
DNI_MALFORMED = "El número de identidad tiene 13 números. Revíselo y escríbalo de nuevo, por ejemplo 0801-1990-12345."
DNI_MISMATCH = "Ese número no coincide con el registrado para este teléfono. Revíselo y escríbalo de nuevo. Le quedan {attempts_left} intentos.\nSi cambió de teléfono, escriba 5 para hablar con una persona."
LOCKED = "Por seguridad, las consultas desde este teléfono están bloqueadas por {minutes} minutos. Si necesita ayuda, escriba 5 para hablar con una persona."
IDENTITY_VERIFIED = "Gracias, verificamos su identidad."
SERVICE_DOWN = "Disculpe, ahora no podemos consultar sus datos. Intente de nuevo en unos minutos."
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
    "municipality_ambiguous": "Hay varios municipios con ese nombre: {candidates}. Escriba también el departamento.",
    "cycle_unknown": "No le entendí el mes. Escriba el nombre del mes, por ejemplo: marzo, o NO SE.",
    "description_missing": "Por favor cuéntenos en un mensaje qué pasó.",
    "confidentiality_unknown": "Escriba 1, 2 o 3.",
    "confirm_unknown": "Escriba un número del 1 al 7.",
}
CASE_FILED = (
    "Listo. Su {kind} quedó registrada con el código {reference}. Guárdelo.\n"
    "Le responderemos a más tardar el {deadline}.\nPara saber cómo va, escriba: ESTADO {reference}"
)
CASE_FILED_ANONYMOUS = "No guardamos su nombre: este código es la única forma de consultarla."
CASE_CANCELLED = "Cancelamos el trámite. No se guardó nada."
CASE_FAILED = "Disculpe, no pudimos registrar su trámite. Intente de nuevo en unos minutos."
MEDIA_ATTACHED = "Recibimos su foto o archivo. Lo adjuntamos como prueba."
MEDIA_OUTSIDE_FORM = (
    "Por ahora solo puedo leer mensajes de texto. Si es una prueba para una queja, escriba QUEJA primero."
)
CASE_STATUS = "Su {kind} {reference} está {state}."
CASE_STATUS_UPDATE = "Última novedad: {update}"
CASE_NOT_FOUND = "No encontramos una queja con ese código para este teléfono. Revise el código, por ejemplo BVM-7K3Q9."
CASE_ASK_REFERENCE = "Escriba ESTADO y el código de su queja, por ejemplo: ESTADO BVM-7K3Q9."
CASE_REOPENED = "Reabrimos su {kind} {reference}. La persona encargada la revisará de nuevo."
CASE_NOT_REOPENABLE = "Su {kind} {reference} está {state} y ya no se puede reabrir. Si quiere, ponga una queja nueva."
