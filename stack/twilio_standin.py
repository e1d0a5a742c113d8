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
from email.utils import formatdate
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from stack.paths import ROOT

# The Messages part of Twilio's OpenAPI description, kept in the repository with its licence
# (scripts/extract-twilio-messages cuts it from Twilio's full description).
SPEC_PATH = ROOT / "tests" / "contracts" / "twilio" / "twilio_messages_v2010.json"
MESSAGES_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages.json"


@functools.cache
def _spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text())


def message_create_schema() -> dict[str, Any]:
    body = _spec()["paths"][MESSAGES_PATH]["post"]["requestBody"]["content"]
    return body["application/x-www-form-urlencoded"]["schema"]


def message_resource_schema() -> dict[str, Any]:
    return _spec()["components"]["schemas"]["api.v2010.account.message"]


@dataclass
class TwilioStandIn:
    account_sid: str
    auth_token: str
    messages: list[dict[str, str]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    # Scripted failures for the next requests: ("status", code) or ("delay", seconds).
    script: list[tuple[str, float]] = field(default_factory=list)
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
        if self.script:
            kind, value = self.script.pop(0)
            if kind == "delay":
                time.sleep(value)
            elif kind == "status":
                return self._reject(int(value), 20500 if value >= 500 else 20429, "scripted failure")
        expected_path = MESSAGES_PATH.replace("{AccountSid}", self.account_sid)
        if request.method != "POST" or request.path != expected_path:
            return self._reject(404, 20404, f"unknown resource {request.method} {request.path}")
        auth = request.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if auth != expected:
            return self._reject(401, 20003, "authentication failed")
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
        sid = "SM" + secrets.token_hex(16)
        self.messages.append({**form, "sid": sid})
        now = formatdate(usegmt=True)
        resource = {
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
        return Response(json.dumps(resource), status=201, mimetype="application/json")

    def start(self) -> TwilioStandIn:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is noise here
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def bodies_to(self, address: str) -> list[str]:
        return [m["Body"] for m in self.messages if m["To"] == address]
