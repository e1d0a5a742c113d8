"""What the assistant says from custom actions (Spanish, usted, short lines for SMS).

Responses used by rules live in bot/domain.yml; these are only ever sent by actions, and keeping
them here keeps `rasa data validate` free of "utterance not used in any story" warnings.
"""

from __future__ import annotations

BAD_OPTION = "Escriba solo un número del 1 al 5."
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
