"""intake's internal API (intake/web_internal.py) on a local port: its routes, bodies and status codes, and faults."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "test-internal-token-0123456789"
# The menus as intake seeds them (intake/migrations/versions/0002_cases_routing_and_drafts.py):
# code, name, needs_cycle, in the menu's order.
CATEGORIES = {
    "grievance": [
        ("pago_no_recibido", "No recibí mi pago", True),
        ("monto_incorrecto", "Me pagaron un monto equivocado", True),
        ("punto_de_pago", "Problema en el lugar de pago (cerrado, sin efectivo, filas)", False),
        ("maltrato", "Maltrato de personal del programa", False),
        ("cobro_indebido", "Cobro, soborno o extorsión", False),
    ],
    "data_update": [("cambio_telefono", "Cambio de número de teléfono", False)],
    "appeal": [("apelacion_suspension", "Apelación de una suspensión", False)],
    "information": [("solicitud_informacion", "Solicitud de información", False)],
}
MUNICIPALITIES = {"0501", "0801", "1501"}
TYPE_NAMES = {
    "grievance": "queja",
    "information": "solicitud de información",
    "data_update": "actualización de datos",
    "appeal": "apelación",
}
CONTACT = re.compile(r"^/internal/v1/contacts/(?P<pseudonym>[^/]+)(?P<rest>/.*)$")


@dataclass(frozen=True)
class Received:
    """One request as intake saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    authorization: str
    body: Any  # the JSON sent, None without a body

    @property
    def route(self) -> str:
        """The path with the contact's pseudonym and numbers written as placeholders."""
        route = re.sub(r"^/internal/v1/contacts/[^/]+", "/contacts/<pseudonym>", self.path)
        route = re.sub(r"/inbound/\d+/", "/inbound/<id>/", route)
        return route.removeprefix("/internal/v1")


@dataclass
class FakeIntake:
    """What the tests set: the contacts intake knows, how it reads the message being answered
    (`reading`), and faults of the filing and of the question "was a case filed from it?"."""

    contacts: set[str]
    # answer_slot's result for the message being answered: {'value', 'display'} or {'error'}.
    reading: dict[str, Any] = field(default_factory=lambda: {"error": "confirm_unknown"})
    # The category intake reads in an opening story (case-form/start), {} when there is none.
    story_category: dict[str, Any] = field(default_factory=dict)
    story_opening: bool = False
    # None, or how filing goes wrong: "crash" (500, nothing filed), "crash_after_commit" (filed, then
    # 500), "drop_after_commit" (filed, then the connection closes without an answer).
    filing_fault: str | None = None
    # The lookup after an unclear filing answers 500.
    lookup_fault: bool = False
    # Set: a filing waits until it is set (5 s at most), as one waiting for SQLite's write lock does.
    filing_held: threading.Event | None = None
    # A case filed from this message must not be filed again: inbound id -> public status.
    cases: dict[int, dict[str, Any]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    # (route, status) of every answer intake gave, in order; None when it closed without one.
    answered: list[tuple[str, int | None]] = field(default_factory=list)

    def requests_to(self, route: str) -> list[Received]:
        return [r for r in self.received if r.route == route]

    # --- the API ---

    def handle(self, method: str, target: str, authorization: str, body: Any) -> tuple[int, Any] | None:
        url = urlsplit(target)
        request = Received(method, url.path, parse_qs(url.query), authorization, body)
        self.received.append(request)
        answer = self._answer(request)
        self.answered.append((request.route, answer[0] if answer else None))
        return answer

    def _answer(self, request: Received) -> tuple[int, Any] | None:
        if request.authorization.removeprefix("Bearer ").strip() != TOKEN:
            return 401, {"error": "unauthorized", "status": 401}
        if request.method == "GET" and request.path == "/internal/v1/case-categories":
            case_type = request.query.get("type", ["grievance"])[0]
            menu = CATEGORIES.get(case_type, [])
            return 200, [
                {"number": n, "code": code, "name": name, "needs_cycle": cycle}
                for n, (code, name, cycle) in enumerate(menu, start=1)
            ]
        match = CONTACT.match(request.path)
        if match is None:
            return 404, {"error": "not_found", "status": 404}
        if match["pseudonym"] not in self.contacts:
            return 404, {"error": "not_found", "status": 404}  # web_internal._contact
        return self._contact_route(request.method, match["rest"], request.body or {})

    def _contact_route(self, method: str, rest: str, body: dict[str, Any]) -> tuple[int, Any] | None:
        if method == "POST" and rest == "/case-form/start":
            return 200, {"ok": True, "opening": self.story_opening, "category": self.story_category}
        if method == "POST" and rest in ("/case-form/await-description", "/case-form/discard"):
            return 200, {"ok": True}
        if method == "POST" and rest == "/case-form/answer":
            return 200, self.reading
        if method == "POST" and rest == "/cases":
            if self.filing_held is not None:
                self.filing_held.wait(5)
            return self._file(body)
        lookup = re.fullmatch(r"/inbound/(\d+)/case", rest)
        if method == "GET" and lookup:
            if self.lookup_fault:
                return 500, {"error": "internal_server_error", "status": 500}
            status = self.cases.get(int(lookup[1]))
            return (200, status) if status else (404, {"error": "not_found"})
        return 404, {"error": "not_found", "status": 404}

    def _file(self, body: dict[str, Any]) -> tuple[int, Any] | None:
        """web_internal.file_a_case: one case per confirming message, refused once the action stopped waiting."""
        for key in ("case_type", "category", "municipality"):
            if key not in body:
                return 400, {"error": f"missing '{key}'"}
        if self.filing_fault == "crash":
            return 500, {"error": "internal_server_error", "status": 500}
        inbound_id = body.get("inbound_id")
        if inbound_id is None:
            inbound_id = -1  # intake files from the message being answered
        if inbound_id in self.cases:
            return 200, self.cases[inbound_id]
        codes = {code for code, _, _ in CATEGORIES.get(str(body["case_type"]), [])}
        if str(body["category"]) not in codes:
            return 422, {"error": f"unknown category {str(body['category'])!r} for {body['case_type']}"}
        if str(body["municipality"]) not in MUNICIPALITIES:
            return 422, {"error": f"unknown municipality {str(body['municipality'])!r}"}
        if body.get("not_after") is not None and time.time() > float(body["not_after"]):
            return 409, {"error": "too_late"}
        self.cases[inbound_id] = {
            "reference": f"BVM-7K3Q{len(self.cases) + 1}",
            "type": TYPE_NAMES[str(body["case_type"])],
            "state": "new",
            "state_name": "Recibida",
            "public_update": "",
            "deadline": "2026-04-15T05:59:59+00:00",
            "deadline_date": "2026-04-14",
            "closed": False,
        }
        if self.filing_fault == "crash_after_commit":
            return 500, {"error": "internal_server_error", "status": 500}
        if self.filing_fault == "drop_after_commit":
            return None
        return 201, self.cases[inbound_id]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        answer = self.server.fake.handle(self.command, self.path, self.headers.get("Authorization", ""), body)
        if answer is None:
            self.close_connection = True  # no status line at all: the client sees the connection drop
            return
        status, payload = answer
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the tests assert on FakeIntake.received instead


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeIntake) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class Listener:
    """A FakeIntake served on an ephemeral loopback port until stop()."""

    def __init__(self, fake: FakeIntake) -> None:
        self.server = _Server(fake)
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-intake", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Listener:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
