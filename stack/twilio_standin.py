"""A local stand-in for Twilio's Messages API (tests, benchmarks), checked against Twilio's OpenAPI description."""

from __future__ import annotations

import base64
import functools
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date
from email.utils import formatdate, parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from stack.paths import ROOT

# The Messages part of Twilio's OpenAPI description, kept in the repository with its licence
# (scripts/extract-twilio-messages cuts it from Twilio's full description).
SPEC_PATH = ROOT / "tests" / "contracts" / "twilio" / "twilio_messages_v2010.json"
WHATSAPP_WINDOW_S = 24 * 3600
MESSAGES_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages.json"


@functools.cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return spec


def message_create_schema() -> dict[str, Any]:
    body = _spec()["paths"][MESSAGES_PATH]["post"]["requestBody"]["content"]
    schema: dict[str, Any] = body["application/x-www-form-urlencoded"]["schema"]
    return schema


def message_resource_schema() -> dict[str, Any]:
    schema: dict[str, Any] = _spec()["components"]["schemas"]["api.v2010.account.message"]
    return schema


def list_query_parameters() -> set[str]:
    """The query parameters Twilio defines for listing messages (To, From, DateSent<, PageSize, ...)."""
    parameters = _spec()["paths"][MESSAGES_PATH]["get"]["parameters"]
    return {p["name"] for p in parameters if p["in"] == "query"}


def _matches(resource: dict[str, Any], query: dict[str, str]) -> bool:
    """Twilio's list filters: exact To and From; DateSent on, before (<) or after (>) a GMT day, inclusive."""
    if any(name in query and resource.get(name.lower()) != query[name] for name in ("To", "From")):
        return False
    bounds = {name: query[name] for name in ("DateSent", "DateSent<", "DateSent>") if name in query}
    if not bounds:
        return True
    if not resource.get("date_sent"):
        return False  # not sent yet (still in Twilio's queue): no DateSent filter matches it
    sent = parsedate_to_datetime(resource["date_sent"]).astimezone(UTC).date()
    for name, raw in bounds.items():
        day = date.fromisoformat(raw.lstrip("<>=")[:10])
        if (name == "DateSent" and sent != day) or (name == "DateSent<" and sent > day):
            return False
        if name == "DateSent>" and sent < day:
            return False
    return True


@dataclass
class TwilioStandIn:
    account_sid: str
    auth_token: str
    messages: list[dict[str, str]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    # Scripted failures for the next requests: ("status", HTTP status), ("code", a Twilio error code,
    # answered as a 400 with that code, as Twilio answers 21610 or 21211), or ("delay", seconds).
    script: list[tuple[str, float]] = field(default_factory=list)
    # WhatsApp's 24-hour window, enforced when asked: 63016 for a Body to a WhatsApp user whose
    # last message (wrote_on_whatsapp) is older than 24 hours, as Twilio answers since April 2025.
    enforce_whatsapp_window: bool = False
    whatsapp_inbound: dict[str, float] = field(default_factory=dict)
    # What GET Messages.json lists, oldest first: every message POSTed (as sent at once), and any
    # resource a test adds (an inbound message, one Twilio took while our side crashed).
    listed: list[dict[str, Any]] = field(default_factory=list)
    # When each message of `messages` came (time.time()), for measuring a pace.
    received_at: list[float] = field(default_factory=list)
    # Every request waits this long before it is answered: Twilio's real round trip from Honduras
    # is of this order (make bench sets 150 ms), which a client that waits for it pays per message.
    latency_s: float = 0.0
    port: int = 0
    _server: Any = None

    def __post_init__(self) -> None:
        schema = message_create_schema()
        self._allowed = set(schema["properties"])
        self._required = set(schema.get("required", []))

    def _reject(self, status: int, code: int, why: str) -> Response:
        self.rejected.append(why)
        body = {"code": code, "message": why, "status": status}
        return Response(json.dumps(body), status=status, mimetype="application/json")

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._handle(request)
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        if self.latency_s:
            time.sleep(self.latency_s)
        if self.script:
            kind, value = self.script.pop(0)
            if kind == "delay":
                time.sleep(value)
            elif kind == "status":
                return self._reject(int(value), 20500 if value >= 500 else 20429, "scripted failure")
            elif kind == "code":
                return self._reject(400, int(value), "scripted failure")
        expected_path = MESSAGES_PATH.replace("{AccountSid}", self.account_sid)
        if request.method not in ("GET", "POST") or request.path != expected_path:
            return self._reject(404, 20404, f"unknown resource {request.method} {request.path}")
        auth = request.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if auth != expected:
            return self._reject(401, 20003, "authentication failed")
        if request.method == "GET":
            return self._list(request, expected_path)
        form = request.form.to_dict()
        unknown = set(form) - self._allowed
        if unknown:
            return self._reject(400, 21601, f"parameters not in Twilio's API: {sorted(unknown)}")
        if not self._required <= set(form):
            return self._reject(400, 21604, "a required parameter is missing")
        if "From" not in form and "MessagingServiceSid" not in form:
            return self._reject(400, 21603, "From or MessagingServiceSid is required")
        if not form.get("Body") and "MediaUrl" not in form and "ContentSid" not in form:
            return self._reject(400, 21602, "Body, MediaUrl or ContentSid is required")
        if len(form.get("Body", "")) > 1600:
            return self._reject(400, 21617, "Body exceeds 1600 characters")
        if self._outside_window(form):
            return self._reject(400, 63016, "outside the allowed window: use a template (ContentSid)")
        sid = "SM" + secrets.token_hex(16)
        self.messages.append({**form, "sid": sid})
        self.received_at.append(time.time())
        now = formatdate(usegmt=True)
        resource: dict[str, Any] = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": form["To"],
            "from": form.get("From"),
            "body": form.get("Body", ""),
            "status": "queued",
            "num_segments": "1",
            "num_media": "0",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "messaging_service_sid": None,
            "uri": f"{expected_path[:-5]}/{sid}.json",
            "subresource_uris": {},
        }
        # Twilio answers "queued"; the stand-in hands it on at once, so the list shows it sent.
        self.listed.append({**resource, "status": "sent", "date_sent": now})
        return Response(json.dumps(resource), status=201, mimetype="application/json")

    def wrote_on_whatsapp(self, address: str, at: float | None = None) -> None:
        """The person at `address` ("whatsapp:+504…") wrote to the line at `at` (epoch seconds; now)."""
        self.whatsapp_inbound[address] = time.time() if at is None else at

    def _outside_window(self, form: dict[str, str]) -> bool:
        # WhatsApp's rule, when enforced: free text (Body) to a WhatsApp user only within 24 hours
        # of their last message; a template (ContentSid) at any time.
        to = form.get("To", "")
        if not self.enforce_whatsapp_window or not to.startswith("whatsapp:") or "ContentSid" in form:
            return False
        last = self.whatsapp_inbound.get(to)
        return last is None or time.time() - last > WHATSAPP_WINDOW_S

    def _list(self, request: Request, path: str) -> Response:
        """GET Messages.json: newest first, filtered by To, From and DateSent (GMT days), paged."""
        query = request.args.to_dict()
        unknown = set(query) - list_query_parameters()
        if unknown:
            return self._reject(400, 21601, f"parameters not in Twilio's API: {sorted(unknown)}")
        try:
            size = min(int(query.get("PageSize", "50")), 1000)
            page = int(query.get("Page", "0"))
            start = int(query.get("PageToken", "PA0")[2:])  # our token is the offset; Twilio's is opaque
            found = [m for m in reversed(self.listed) if _matches(m, query)]
        except ValueError:
            return self._reject(400, 20001, "a parameter has a value Twilio does not accept")
        filters = {k: v for k, v in query.items() if k not in ("PageSize", "Page", "PageToken")}

        def page_uri(number: int, offset: int) -> str:
            token = {"PageToken": f"PA{offset}"} if offset else {}
            return f"{path}?{urlencode({**filters, 'PageSize': size, 'Page': number, **token})}"

        chunk = found[start : start + size]
        more = start + size < len(found)
        body = {
            "messages": chunk,
            "page": page,
            "page_size": size,
            "start": start,
            "end": start + max(len(chunk) - 1, 0),
            "uri": page_uri(page, start),
            "first_page_uri": page_uri(0, 0),
            "next_page_uri": page_uri(page + 1, start + size) if more else None,
            "previous_page_uri": page_uri(page - 1, max(start - size, 0)) if page else None,
        }
        return Response(json.dumps(body), status=200, mimetype="application/json")

    def start(self) -> TwilioStandIn:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is noise here
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def bodies_to(self, address: str) -> list[str]:
        return [m["Body"] for m in self.messages if m["To"] == address]

    def receive(self, sender: str, to: str, body: str, seconds_ago: float = 0.0) -> str:
        """A message Twilio took from `sender` for the line (GET lists it), whatever became of its webhook."""
        sid = "SM" + secrets.token_hex(16)
        when = formatdate(time.time() - seconds_ago, usegmt=True)
        path = MESSAGES_PATH.replace("{AccountSid}", self.account_sid)
        self.listed.append(
            {
                "sid": sid,
                "account_sid": self.account_sid,
                "to": to,
                "from": sender,
                "body": body,
                "status": "received",
                "num_segments": "1",
                "num_media": "0",
                "direction": "inbound",
                "api_version": "2010-04-01",
                "price": None,
                "price_unit": "USD",
                "error_code": None,
                "error_message": None,
                "date_created": when,
                "date_updated": when,
                "date_sent": when,
                "messaging_service_sid": None,
                "uri": f"{path[:-5]}/{sid}.json",
                "subresource_uris": {},
            }
        )
        return sid
