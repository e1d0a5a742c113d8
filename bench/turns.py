"""Whole turns: beneficiaries' conversations at rising rates, through the line or straight to Rasa's REST channel.

A conversation is a short script (ask when to collect and give the DNI, use the menu, ask about
the programme, file a complaint, ask how a complaint goes). Conversations start open loop at a
pace that offers the step's rate in messages per second; inside one, the beneficiary writes the
next message a second after the answer, as a person on a phone would (they wait for the answer).
A turn's latency runs from the webhook's send to the first reply the stand-in accepts for that
phone (the line), or to the REST channel's answer (Rasa alone).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp

from bench.footprint import cores_used
from bench.openloop import quantile
from bench.stack_run import Progress, Replies, Stack, post_webhook

# The story (its category read from it), the department, the municipality's number, "con mi nombre",
# and the last "1" confirms the summary: the case is filed on that message.
COMPLAINT = ["me cobraron 200 lempiras en la alcaldia para darme el bono", "Choluteca", "1", "1", "1"]
# (kind, share of conversations): payment questions dominate, as the line's pilot logs did.
MIX = (("payment", 0.45), ("menu", 0.20), ("info", 0.15), ("complaint", 0.15), ("status", 0.05))
TURN_TIMEOUT_S = 30.0
THINK_S = 1.0
HOLD_P99_S = 5.0


def script(kind: str, household: dict[str, str]) -> list[str]:
    dni = household["dni"]
    return {
        "payment": ["cuando me toca cobrar", dni],
        "menu": ["hola", "2", dni],
        "info": ["hola buenas", "que es el bono vida mejor", "muchas gracias"],
        "complaint": COMPLAINT,
        "status": ["como va mi queja"],
    }[kind]


def mean_turns() -> float:
    fake = {"dni": "0801-1990-00001"}
    return sum(share * len(script(kind, fake)) for kind, share in MIX)


class Talker(Protocol):
    name: str

    async def turn(self, who: str, body: str) -> float | None:
        """Send one message; the seconds until its answer, or None if none came in time."""
        ...


class LineTalker:
    """Through the line: a signed webhook, then the first reply the stand-in takes for that phone."""

    name = "line"

    def __init__(self, stack: Stack, session: aiohttp.ClientSession) -> None:
        self.stack, self.session = stack, session
        self.replies = Replies(stack.standin)
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.seen: dict[str, list[float]] = {}  # every reply's time, for the phones being watched
        self.errors: dict[str, int] = {}

    async def poll(self) -> None:
        while True:
            for to, at in self.replies.new():
                if to in self.seen:
                    self.seen[to].append(at)
                future = self.waiting.pop(to, None)
                if future is not None and not future.done():
                    future.set_result(at)
            await asyncio.sleep(0.01)

    async def turn(self, who: str, body: str) -> float | None:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[who] = future
        sent = time.time()
        try:
            status = await post_webhook(self.session, self.stack, who, body)
        except aiohttp.ClientError as error:
            status = type(error).__name__  # type: ignore[assignment]
        if status != 200:
            self.errors[str(status)] = self.errors.get(str(status), 0) + 1
            self.waiting.pop(who, None)
            return None
        try:
            return await asyncio.wait_for(future, TURN_TIMEOUT_S) - sent
        except TimeoutError:
            self.waiting.pop(who, None)
            return None


class RestTalker:
    """Straight to Rasa's REST channel: the turn is the HTTP call (Rasa answers with the replies)."""

    name = "rasa-rest"

    def __init__(self, rasa_url: str, session: aiohttp.ClientSession) -> None:
        self.url, self.session = f"{rasa_url}/webhooks/rest/webhook", session
        self.errors: dict[str, int] = {}

    async def turn(self, who: str, body: str) -> float | None:
        sent = time.time()
        try:
            timeout = aiohttp.ClientTimeout(total=TURN_TIMEOUT_S)
            async with self.session.post(self.url, json={"sender": who, "message": body}, timeout=timeout) as r:
                await r.read()
                status = r.status
        except (aiohttp.ClientError, TimeoutError) as error:
            self.errors[type(error).__name__] = self.errors.get(type(error).__name__, 0) + 1
            return None
        if status != 200:
            self.errors[f"HTTP {status}"] = self.errors.get(f"HTTP {status}", 0) + 1
            return None
        return time.time() - sent


@dataclass
class Step:
    rate: float
    seconds: float
    started: float = 0.0
    latencies: list[float] = field(default_factory=list)
    unanswered: int = 0
    backlog: list[tuple[float, int, int]] = field(default_factory=list)  # (s into the step, stored, queued)
    cores: dict[str, float] = field(default_factory=dict)  # cores each part kept busy during the step

    def quantile(self, q: float) -> float | None:
        return quantile(self.latencies, self.unanswered, q)

    def backlog_grew(self) -> bool:
        """The stored, unanswered messages of the step's last third above its first third's by more
        than one second of the offered rate: work arriving faster than it is done."""
        if len(self.backlog) < 6:
            return False
        third = len(self.backlog) // 3
        first = statistics.fmean(b[1] for b in self.backlog[:third])
        last = statistics.fmean(b[1] for b in self.backlog[-third:])
        return last > first + self.rate

    def holds(self) -> bool:
        p99 = self.quantile(0.99)
        return self.unanswered == 0 and p99 is not None and p99 < HOLD_P99_S and not self.backlog_grew()

    def summary(self, system: str) -> dict[str, object]:
        sent = len(self.latencies) + self.unanswered

        def ms(q: float) -> float | None:
            value = self.quantile(q)
            return None if value is None else round(value * 1000, 1)

        return {
            "system": system,
            "rate": self.rate,
            "seconds": self.seconds,
            "sent": sent,
            "achieved_per_s": round(sent / self.seconds, 2),
            "unanswered": self.unanswered,
            "p50_ms": ms(0.5),
            "p90_ms": ms(0.9),
            "p99_ms": ms(0.99),
            "backlog_max": max((b[1] for b in self.backlog), default=None),
            "backlog_end": self.backlog[-1][1] if self.backlog else None,
            "backlog_grew": self.backlog_grew(),
            "holds": self.holds(),
            "cores": self.cores,
        }


async def ramp(
    talker: Talker,
    households: list[dict[str, str]],
    rates: list[float],
    step_s: float,
    progress: Progress,
    backlog: Callable[[], tuple[int, int]] | None = None,
    during: Callable[[float], None] | None = None,
    cpu: Callable[[], dict[str, float]] | None = None,
    who: Callable[[int, dict[str, str]], str] = lambda n, h: h["phone"],
    stop_after_failure: bool = True,
) -> list[Step]:
    """Offer each rate for `step_s` in turn (no pause between), conversations open loop; `during(rate)`
    runs in a thread at each step's start (a profiler). After a step that does not hold, higher rates
    would only pile on work: the ramp stops there unless told otherwise."""
    steps = [Step(rate, step_s) for rate in rates]
    kinds = random.Random(16)
    pool = iter(enumerate(households))
    tasks: list[asyncio.Task[None]] = []

    def step_at(at: float) -> Step:
        for step in reversed(steps):
            if step.started and at >= step.started:
                return step
        return steps[0]

    async def conversation(n: int, household: dict[str, str], kind: str) -> None:
        for body in script(kind, household):
            sent = time.time()
            latency = await talker.turn(who(n, household), body)
            step = step_at(sent)
            if latency is None:
                step.unanswered += 1
                return  # a beneficiary with no answer gives up
            step.latencies.append(latency)
            await asyncio.sleep(THINK_S)

    async def sample(step: Step) -> None:
        while backlog is not None:
            stored, queued = await asyncio.to_thread(backlog)
            step.backlog.append((round(time.time() - step.started, 1), stored, queued))
            await asyncio.sleep(1.0)

    per_turn = mean_turns()
    for step in steps:
        step.started = time.time()
        used = cpu() if cpu else {}
        sampler = asyncio.create_task(sample(step))
        if during is not None:
            asyncio.get_running_loop().run_in_executor(None, during, step.rate)
        interval = per_turn / step.rate
        clock = time.perf_counter()
        count = 0
        while time.perf_counter() - clock < step_s:
            taken = next(pool, None)
            if taken is None:
                raise RuntimeError("the ramp ran out of fresh households: give the bench more")
            n, household = taken
            kind = kinds.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
            tasks.append(asyncio.create_task(conversation(n, household, kind)))
            count += 1
            await asyncio.sleep(max(0.0, clock + count * interval - time.perf_counter()))
        sampler.cancel()
        if cpu:
            step.cores = cores_used(used, cpu(), time.time() - step.started)
        s = step.summary(talker.name)
        progress(
            f"{talker.name} {step.rate:g} msg/s for {step_s:.0f} s: p50 {s['p50_ms']} ms p99 {s['p99_ms']} ms, "
            f"{s['unanswered']} unanswered so far, backlog end {s['backlog_end']}"
            + (f"; cores busy: {', '.join(f'{k} {v:g}' for k, v in step.cores.items())}" if step.cores else "")
        )
        if stop_after_failure and not step.holds():
            steps = steps[: steps.index(step) + 1]
            progress(f"{talker.name} does not hold {step.rate:g} msg/s: higher rates not offered")
            break
    await asyncio.wait(tasks, timeout=TURN_TIMEOUT_S * 6)
    return steps


async def same_sender(
    talker: Talker, whos: list[str], bodies: list[str], gap_s: float, stagger_s: float
) -> list[list[float]]:
    """Each `who` writes `bodies` `gap_s` apart without waiting; the answers' times, per who, from the first send.

    Through the line, an answer is a reply the stand-in took for that phone (LineTalker.seen)."""
    line = talker if isinstance(talker, LineTalker) else None
    answers: list[list[float]] = []

    async def one(index: int, who: str) -> None:
        await asyncio.sleep(index * stagger_s)
        start = time.time()
        if line is not None:
            line.seen[who] = []
            for body in bodies:
                await post_webhook(line.session, line.stack, who, body)
                await asyncio.sleep(gap_s)
            deadline = time.time() + TURN_TIMEOUT_S * 2
            while len(line.seen[who]) < len(bodies) and time.time() < deadline:
                await asyncio.sleep(0.05)
            answers.append([at - start for at in line.seen[who]])
        else:
            done: list[float] = []

            async def send(delay: float, body: str) -> None:
                await asyncio.sleep(delay)
                if await talker.turn(who, body) is not None:
                    done.append(time.time() - start)

            await asyncio.gather(*(send(k * gap_s, body) for k, body in enumerate(bodies)))
            answers.append(sorted(done))

    await asyncio.gather(*(one(i, who) for i, who in enumerate(whos)))
    return answers
