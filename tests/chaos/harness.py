"""The chaos suite's load driver (contacts writing as Twilio delivers), queue sampler and per-fault accounting."""

from __future__ import annotations

import itertools
import json
import random
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import redis
import requests
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from intake.db import session_factory
from intake.models import Case, InboundMessage, OutboundMessage
from stack.twilio_standin import TwilioStandIn

LINE_NUMBER = "+50422220000"
TWILIO_TIMEOUT_S = 15  # Twilio gives a webhook 15 s, then calls the Fallback URL
COMPLAINT = [
    "quiero poner una queja",
    "1",
    "san pedro sula",
    "marzo",
    "fui tres veces al banco y no habia pisto",
    "1",
    "1",
]
# Short messages the model answers fast; the DNI makes the worker check identity and the action
# server look up the registry through intake's internal API.
PAYMENT = ["hola", "cuando me toca cobrar", "{dni}", "y donde cobro"]
QUEUE_SLACK = 5  # conversation tasks allowed beyond one per waiting contact (a sweep in flight, a redelivery)
WAIT_MEMORY_S = 5.0  # how long a contact answered counts as waiting for the queue's bound (QueueSampler.over_bound)


@dataclass
class Sent:
    """One message as Twilio would have delivered it, and what became of the delivery."""

    phase: str
    phone: str
    seq: int
    sid: str
    body: str
    at: float
    via: str = ""  # "web", "fallback" (web answered non-200 or nothing), or "" (both failed: lost at the edge)
    web_status: int | None = None
    cut: bool = False  # the web worker holding the request died before answering


@dataclass
class CutDelivery:
    """A webhook request sent but for its last byte, on its own socket."""

    record: Sent
    form: dict[str, str]
    conn: socket.socket
    last_byte: bytes


@dataclass
class Contact_:
    phone: str
    script: list[str]
    complaint: bool


@dataclass
class Driver:
    """Sends each contact's messages like a person: the next one after the reply, or after a few seconds."""

    web: str
    fallback: str
    public_base_url: str
    auth_token: str
    account_sid: str
    twilio: TwilioStandIn
    sent: list[Sent] = field(default_factory=list)
    edge_errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _count: int = 0

    def _sid(self) -> str:
        with self._lock:
            self._count += 1
            return f"SMCHAOS{int(time.time()):010d}{self._count:015d}"

    def _post(self, url: str, path: str, form: dict[str, str]) -> requests.Response:
        signature = RequestValidator(self.auth_token).compute_signature(self.public_base_url + path, form)
        return requests.post(url + path, data=form, headers={"X-Twilio-Signature": signature}, timeout=TWILIO_TIMEOUT_S)

    def _form(self, phone: str, body: str) -> dict[str, str]:
        return {
            "MessageSid": self._sid(),
            "AccountSid": self.account_sid,
            "From": phone,
            "To": LINE_NUMBER,
            "Body": body,
            "NumMedia": "0",
        }

    def deliver(self, phase: str, phone: str, seq: int, body: str) -> Sent:
        """Twilio's way: the webhook; on an error status, a timeout or no answer at all, the Fallback URL once."""
        form = self._form(phone, body)
        record = Sent(phase, phone, seq, form["MessageSid"], body, time.time())
        try:
            response = self._post(self.web, "/twilio/inbound", form)
            record.web_status = response.status_code
            if response.status_code == 200:
                record.via = "web"
        except requests.RequestException as exc:
            with self._lock:
                self.edge_errors[type(exc).__name__] += 1
        self._finish(record, form)
        return record

    def start_cut(self, phase: str, phone: str, body: str) -> CutDelivery:
        """Begin a webhook delivery and stop one byte short of its body: a web worker holds it, mid-request."""
        form = self._form(phone, body)
        payload = urlencode(form).encode()
        signature = RequestValidator(self.auth_token).compute_signature(self.public_base_url + "/twilio/inbound", form)
        parts = urlsplit(self.web)
        conn = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=TWILIO_TIMEOUT_S)
        head = (
            f"POST /twilio/inbound HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(payload)}\r\nX-Twilio-Signature: {signature}\r\nConnection: close\r\n\r\n"
        )
        conn.sendall(head.encode() + payload[:-1])
        return CutDelivery(Sent(phase, phone, 0, form["MessageSid"], body, time.time()), form, conn, payload[-1:])

    def end_cut(self, cut: CutDelivery, grace_s: float = 3.0) -> Sent:
        """After the kill: a connection closed with no answer is cut (then the Fallback URL, as Twilio does);
        one still open was never taken by a worker, so it gets its last byte and is answered normally."""
        record, conn = cut.record, cut.conn
        conn.settimeout(grace_s)
        try:
            answer = conn.recv(4096)
            record.cut = answer == b""
        except TimeoutError:
            answer = b""
            conn.settimeout(TWILIO_TIMEOUT_S)
            try:
                conn.sendall(cut.last_byte)
                answer = conn.recv(4096)
            except OSError:
                pass
        except OSError:  # reset by the dying worker's kernel socket
            answer, record.cut = b"", True
        finally:
            conn.close()
        if answer.startswith(b"HTTP/1.1 "):
            record.web_status = int(answer[9:12])
            if record.web_status == 200:
                record.via = "web"
        self._finish(record, cut.form)
        return record

    def _finish(self, record: Sent, form: dict[str, str]) -> None:
        if not record.via:
            try:
                if self._post(self.fallback, "/twilio/fallback", form).status_code == 200:
                    record.via = "fallback"
            except requests.RequestException:
                pass
        with self._lock:
            self.sent.append(record)

    def converse(self, phase: str, contact: Contact_, rng: random.Random, start: int = 0) -> None:
        """Write the contact's messages from `start` on (the ones before went another way, just now)."""
        if start:
            self._read_reply(contact.phone, 0, rng)
        for seq, body in enumerate(contact.script):
            if seq < start:
                continue
            before = len(self.twilio.bodies_to(contact.phone))
            self.deliver(phase, contact.phone, seq, body)
            self._read_reply(contact.phone, before, rng)

    def _read_reply(self, phone: str, before: int, rng: random.Random) -> None:
        """A person reads the reply, then writes; with no reply they write again after a while."""
        deadline = time.monotonic() + rng.uniform(3, 5)
        while time.monotonic() < deadline and len(self.twilio.bodies_to(phone)) <= before:
            time.sleep(0.2)
        time.sleep(rng.uniform(0.3, 1.0))

    def _later(self, phase: str, contact: Contact_, delay_s: float, seed: float) -> None:
        time.sleep(delay_s)
        self.converse(phase, contact, random.Random(seed))

    def run(self, phase: str, contacts: list[Contact_], stagger_s: float, seed: int) -> list[threading.Thread]:
        """Start every contact's conversation, spread over `stagger_s`; returns the threads to join."""
        rng = random.Random(seed)
        threads = []
        for n, contact in enumerate(contacts):
            delay = stagger_s * n / max(len(contacts), 1)
            thread = threading.Thread(target=self._later, args=(phase, contact, delay, rng.random()), daemon=True)
            thread.start()
            threads.append(thread)
        return threads


def contacts_for(households: list[dict[str, str]], complaint_every: int = 3) -> list[Contact_]:
    """Payment questions and complaint starts mixed: every `complaint_every`-th contact files a complaint."""
    out = []
    for n, household in enumerate(households):
        complaint = n % complaint_every == complaint_every - 1
        script = COMPLAINT if complaint else [m.format(dni=household["dni"]) for m in PAYMENT]
        out.append(Contact_(household["phone"], list(script), complaint))
    return out


@dataclass
class QueueSampler:
    """Every half second: conversation tasks in Celery's Redis list, and contacts with a message waiting."""

    redis_url: str
    database_url: str
    samples: list[dict[str, Any]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _one(self) -> dict[str, Any]:
        sample: dict[str, Any] = {"at": time.time()}
        try:
            client = redis.Redis.from_url(self.redis_url, socket_timeout=1, socket_connect_timeout=1)
            raw = client.lrange("celery", 0, -1)
            names = [json.loads(item).get("headers", {}).get("task", "") for item in raw]
            sample["celery"] = len(names)
            sample["turns"] = sum(1 for name in names if name == "conversation.process_inbound")
        except redis.RedisError:
            pass
        try:
            with session_factory(self.database_url)() as session:
                waiting = select(func.count(func.distinct(InboundMessage.contact_id))).where(
                    InboundMessage.status == "received"
                )
                sample["waiting_contacts"] = session.scalar(waiting)
                pending = select(func.count()).select_from(InboundMessage).where(InboundMessage.status == "received")
                sample["pending"] = session.scalar(pending)
        except Exception:  # the database is one of the faults
            pass
        return sample

    def start(self) -> QueueSampler:
        def loop() -> None:
            while not self._stop.is_set():
                self.samples.append(self._one())
                self._stop.wait(0.5)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> list[dict[str, Any]]:
        self._stop.set()
        if self._thread:
            self._thread.join()
        return self.samples

    def over_bound(self) -> list[dict[str, Any]]:
        """Samples where more conversation tasks were queued than contacts waiting + QUEUE_SLACK.

        A queued task belongs to a contact that was waiting when it was queued, and it stays in the
        queue until a worker takes it, even when an earlier turn has answered that contact in the
        meantime: so the contacts are those waiting at any sample of the last WAIT_MEMORY_S, not
        only at this one. On a slow box the worker takes seconds to reach such a task, and the
        bound must not count that lag as growth. It still catches what it is for: a queue that
        grows with messages or sweeps rather than with contacts."""
        out = []
        for n, s in enumerate(self.samples):
            if "turns" not in s:
                continue
            recent = [
                r["waiting_contacts"]
                for r in self.samples[: n + 1]
                if "waiting_contacts" in r and s["at"] - r["at"] <= WAIT_MEMORY_S
            ]
            if recent and s["turns"] > max(recent) + QUEUE_SLACK:
                out.append(s)
        return out


@dataclass
class PhaseReport:
    fault: str
    window: str
    contacts: int
    messages_sent: int
    via_fallback: int
    cut_mid_request: int
    lost_at_edge: int
    stored: int
    answered: int
    lost: int
    duplicated: int
    out_of_order: int
    dead: int
    complaints: int
    cases: int
    duplicate_cases: int
    references_delivered: int
    peak_celery_queue: int
    peak_turns_queued: int
    peak_waiting_contacts: int
    queue_over_bound: int
    drain_s: float
    notes: list[str] = field(default_factory=list)


def leftovers(database_url: str) -> dict[str, int]:
    """Anything, in the whole database, still received, sending or unknown."""
    with session_factory(database_url)() as session:
        inbound = session.scalar(
            select(func.count()).select_from(InboundMessage).where(InboundMessage.status == "received")
        )
        outbound = dict(
            session.execute(
                select(OutboundMessage.status, func.count())
                .where(OutboundMessage.status.in_(["queued", "sending", "unknown"]))
                .group_by(OutboundMessage.status)
            ).all()
        )
    return {"received": inbound or 0, **outbound}


def wait_drained(database_url: str, sids: list[str], timeout_s: float, poke: Callable[[], None] | None = None) -> float:
    """Seconds until every message in `sids` is stored and answered and nothing is left in flight."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        try:
            with session_factory(database_url)() as session:
                stored = session.scalar(
                    select(func.count())
                    .select_from(InboundMessage)
                    .where(InboundMessage.message_sid.in_(sids), InboundMessage.status != "received")
                )
            if stored == len(sids) and not any(leftovers(database_url).values()):
                return time.monotonic() - start
        except Exception:
            pass
        if poke:
            poke()
        time.sleep(1)
    return -1.0


def account(
    fault: str,
    window: str,
    database_url: str,
    twilio: TwilioStandIn,
    sent: list[Sent],
    contacts: list[Contact_],
    samples: QueueSampler,
    drain_s: float,
) -> PhaseReport:
    """What happened to every message of one phase, from the database and the Twilio stand-in."""
    by_sid = {s.sid: s for s in sent}
    notes: list[str] = []
    with session_factory(database_url)() as session:
        rows = session.scalars(select(InboundMessage).where(InboundMessage.message_sid.in_(list(by_sid)))).all()
        inbound = {row.message_sid: row for row in rows}
        ids = [row.id for row in rows]
        replies = session.scalars(
            select(OutboundMessage).where(OutboundMessage.inbound_id.in_(ids)).order_by(OutboundMessage.id)
        ).all()
        by_contact_outbound: dict[int, list[OutboundMessage]] = defaultdict(list)
        for row in session.scalars(
            select(OutboundMessage).where(OutboundMessage.contact_id.in_({r.contact_id for r in rows}))
        ).all():
            by_contact_outbound[row.contact_id].append(row)
        cases = session.scalars(select(Case).where(Case.contact_id.in_({r.contact_id for r in rows}))).all()
    replies_of: dict[int, list[OutboundMessage]] = defaultdict(list)
    for reply in replies:
        replies_of[reply.inbound_id or 0].append(reply)
    delivered = {"sent", "delivered", "read"}
    answered = lost = dead = 0
    for sid in by_sid:
        row = inbound.get(sid)
        if row is None:
            lost += 1
            continue
        if row.status == "dead":
            dead += 1
        own = replies_of.get(row.id, [])
        if own and all(r.status in delivered for r in own):
            answered += 1
        else:
            lost += 1
    # Duplicates: anything Twilio was asked to send more often than the line recorded sending it.
    duplicated = 0
    phone_of_contact = {row.contact_id: row.from_address for row in rows}
    for contact_id, outbound in by_contact_outbound.items():
        at_twilio = len(twilio.bodies_to(phone_of_contact[contact_id]))
        recorded = sum(1 for r in outbound if r.status in delivered)
        duplicated += max(at_twilio - recorded, 0)
        bodies = [r.key for r in outbound]
        duplicated += len(bodies) - len(set(bodies))
    # Order: per contact, the first reply to each message must follow the first reply to the one before.
    out_of_order = 0
    by_phone: dict[str, list[Sent]] = defaultdict(list)
    for s in sent:
        by_phone[s.phone].append(s)
    for messages in by_phone.values():
        firsts = []
        for s in sorted(messages, key=lambda m: m.seq):
            row = inbound.get(s.sid)
            own = replies_of.get(row.id, []) if row else []
            if own:
                firsts.append((min(r.id for r in own), s))
        for (a, sa), (b, sb) in itertools.pairwise(firsts):
            if b < a:
                out_of_order += 1
                via = "/".join(sorted({sa.via, sb.via}))
                notes.append(f"…{sb.phone[-4:]}: #{sb.seq} answered before #{sa.seq} ({via})")
    complaint_phones = {c.phone for c in contacts if c.complaint}
    cases_per_contact: dict[int, int] = defaultdict(int)
    references = 0
    for case in cases:
        cases_per_contact[case.contact_id] += 1
        phone = phone_of_contact.get(case.contact_id, "")
        if any(case.reference in body for body in twilio.bodies_to(phone)):
            references += 1
    duplicate_cases = sum(n - 1 for n in cases_per_contact.values() if n > 1)
    turns = [s["turns"] for s in samples.samples if "turns" in s]
    return PhaseReport(
        fault=fault,
        window=window,
        contacts=len(contacts),
        messages_sent=len(sent),
        via_fallback=sum(1 for s in sent if s.via == "fallback"),
        cut_mid_request=sum(1 for s in sent if s.cut),
        lost_at_edge=sum(1 for s in sent if not s.via),
        stored=len(inbound),
        answered=answered,
        lost=lost,
        duplicated=duplicated,
        out_of_order=out_of_order,
        dead=dead,
        complaints=len(complaint_phones),
        cases=len(cases),
        duplicate_cases=duplicate_cases,
        references_delivered=references,
        peak_celery_queue=max((s["celery"] for s in samples.samples if "celery" in s), default=0),
        peak_turns_queued=max(turns, default=0),
        peak_waiting_contacts=max(
            (s["waiting_contacts"] for s in samples.samples if "waiting_contacts" in s), default=0
        ),
        queue_over_bound=len(samples.over_bound()),
        drain_s=round(drain_s, 1),
        notes=notes,
    )


def assert_whole(report: PhaseReport) -> None:
    """The promises, after any fault: nothing lost, doubled, dead or out of order, one case per complaint."""
    assert report.lost_at_edge == 0, report
    assert report.drain_s >= 0, f"not drained in time: {report}"
    assert report.stored == report.messages_sent, report
    assert (report.lost, report.duplicated, report.dead) == (0, 0, 0), report
    assert report.answered == report.messages_sent, report
    assert report.out_of_order == 0, report
    assert report.duplicate_cases == 0, report
    assert report.cases == report.complaints == report.references_delivered, report
    assert report.queue_over_bound == 0, report
