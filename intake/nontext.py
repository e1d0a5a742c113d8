"""Messages without text (voice notes, stickers, photos, locations): what they are, and the kind reply."""

from __future__ import annotations

from typing import Any

MENU_HINT = "Escriba MENU para ver las opciones."
REPLIES = {
    "voice": "Disculpe, no puedo escuchar notas de voz. Por favor escríbame su consulta en un mensaje. " + MENU_HINT,
    "sticker": "¡Gracias por su mensaje! Para ayudarle necesito que me escriba su consulta. " + MENU_HINT,
    "location": "Recibí su ubicación, pero solo puedo leer texto. Por favor escríbame su consulta. " + MENU_HINT,
    "contact": "Recibí un contacto, pero solo puedo leer texto. Por favor escríbame su consulta. " + MENU_HINT,
    # A photo or a document outside a complaint: it may be meant as proof, so say how to send it.
    "file": (
        "Recibí su foto o archivo, pero solo leo texto. Si es prueba de una queja, "
        "escriba QUEJA y se la pido en el momento. " + MENU_HINT
    ),
}
# Inside a complaint the file is kept as evidence; a voice note is kept too, but the form still
# needs the answer in writing.
VOICE_IN_FORM = "Guardamos su nota de voz con su queja, pero no puedo escucharla: por favor escriba su respuesta."


def kind_of(media: list[dict[str, Any]], location: dict[str, Any] | None) -> str:
    """voice | sticker | location | contact | file, from what Twilio sent with an empty body."""
    if location:
        return "location"
    types = [str(item.get("content_type", "")).lower() for item in media]
    if any(t.startswith("audio/") for t in types):
        return "voice"
    if types and all(t == "image/webp" for t in types):  # WhatsApp stickers
        return "sticker"
    if any(t in ("text/vcard", "text/x-vcard") for t in types):
        return "contact"
    return "file"


def location_as_evidence(inbound_id: int, location: dict[str, Any]) -> dict[str, Any]:
    """A location in a complaint's evidence list, next to photos: a geo: link staff can open."""
    return {
        "inbound_id": inbound_id,
        "url": f"geo:{location['Latitude']},{location['Longitude']}",
        "content_type": "location",
    }
