"""Figures 3 to 8 of `make bench`: whole turns through the running system, and what they cost.

One system (bench/stack_run.py: every process, a fresh database with a demo registry, the Twilio
stand-in answering after 150 ms) serves, in order:

- complaint routed: beneficiaries walked to the complaint's confirmation (not timed), then the
  confirming messages at 10/s; received -> case assigned, read from the database (figure 6);
- the same sender writing fast: 5 messages 200 ms apart from each of 100 phones (figure 5),
  beside the same through Rasa's REST channel, which locks each conversation;
- sustained end to end: the mix of bench/turns.py at rising rates, until a rate does not hold
  (p99 under 5 s, every turn answered, no backlog growth), with py-spy profiles of the worker
  and the web process and the memory of every process (figures 3, 7, 8); then the same mix
  straight to Rasa's REST channel (its ceiling on this box);
- the payment-day burst: 20,000 messages from 10,000 senders offered in 60 s, drained (figure 4).

    .venv/bin/python -m bench.endtoend [--database sqlite|postgresql] [--rates 5,10,20,30,40,60] [--step-seconds 100]
                                       [--repeats 3]

Each figure runs `--repeats` times on the same system; the report gives the median and the spread.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
from sqlalchemy import func, select

from bench import footprint, turns
from bench.case_latency import wait_assigned
from bench.openloop import offer, quantile
from bench.repeats import combine
from bench.stack_run import Progress, Stack, post_form, start
from intake.db import engine_for
from intake.models import InboundMessage, OutboundMessage
from stack.processes import worker_concurrency

SAME_SENDER_BODIES = ["hola", "que es el bono vida mejor", "muchas gracias", "adios", "como va mi queja"]


def _quantiles(values: list[float]) -> dict[str, float | None]:
    def ms(q: float) -> float | None:
        value = quantile(values, 0, q)
        return None if value is None else round(value * 1000, 1)

    return {"count": len(values), "p50_ms": ms(0.5), "p90_ms": ms(0.9), "p99_ms": ms(0.99), "max_ms": ms(1.0)}


def drain(stack: Stack, limit_s: float, progress: Progress) -> list[tuple[float, int, int, int]]:
    """Sample every second until every stored message is answered, every reply handed to Twilio and
    the fallback's spool imported (or `limit_s`): (seconds, unanswered, tasks queued, replies unsent)."""
    started, curve = time.time(), []
    while True:
        stored, queued = stack.backlog()
        unsent = stack.unsent()
        curve.append((round(time.time() - started, 1), stored, queued, unsent))
        if (stored == 0 and unsent == 0 and not stack.spooled()) or time.time() - started > limit_s:
            return curve
        if len(curve) % 30 == 0:
            progress(f"draining: {stored} messages unanswered, {unsent} replies unsent, {queued} tasks queued")
        time.sleep(1.0)


async def _with_session(body: Any) -> Any:
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(connector=connector) as session:
        return await body(session)


def complaint_routed(stack: Stack, count: int, rate: float, progress: Progress) -> dict[str, Any]:
    households = stack.take(count)
    phones = [h["phone"] for h in households]

    async def walk(session: aiohttp.ClientSession) -> list[str]:
        talker = turns.LineTalker(stack, session)
        poller = asyncio.create_task(talker.poll())
        gate = asyncio.Semaphore(40)  # the walk is set-up, not measured: kept well inside capacity

        async def one(phone: str, body: str) -> None:
            async with gate:
                if await talker.turn(phone, body) is None:
                    astray.add(phone)  # no reply in time, or the webhook failed: not at the confirmation

        for body in turns.COMPLAINT[:-1]:
            await asyncio.gather(*(one(phone, body) for phone in phones if phone not in astray))
        sids, posts = [], []
        start_at = time.perf_counter()
        for n, phone in enumerate(p for p in phones if p not in astray):
            await asyncio.sleep(max(0.0, start_at + n / rate - time.perf_counter()))
            fields, headers = stack.form(phone, turns.COMPLAINT[-1])
            sids.append(fields["MessageSid"])
            posts.append(asyncio.create_task(post_form(session, stack, fields, headers)))
        await asyncio.gather(*posts)
        poller.cancel()
        return sids

    progress(f"complaint routed: walking {count} beneficiaries to the confirmation")
    astray: set[str] = set()
    sids = asyncio.run(_with_session(walk))
    if astray:
        progress(f"complaint routed: {len(astray)} of {count} did not reach the confirmation; measured without them")
    latencies = wait_assigned(stack.database_url, sids, timeout_s=300)
    figure = {"rate": rate, "walk_failed": len(astray), **_quantiles(latencies)}
    progress(f"complaint routed at {rate:g}/s: p50 {figure['p50_ms']} ms, p99 {figure['p99_ms']} ms")
    return figure


def same_sender(stack: Stack, phones: int, progress: Progress) -> dict[str, Any]:
    households = stack.take(phones)

    async def both(session: aiohttp.ClientSession) -> dict[str, list[list[float]]]:
        line = turns.LineTalker(stack, session)
        poller = asyncio.create_task(line.poll())
        ours = await turns.same_sender(line, [h["phone"] for h in households], SAME_SENDER_BODIES, 0.2, 0.2)
        poller.cancel()
        rest = turns.RestTalker(stack.rasa_url, session)
        theirs = await turns.same_sender(rest, [f"bench-same-{n}" for n in range(phones)], SAME_SENDER_BODIES, 0.2, 0.2)
        return {"line": ours, "rasa-rest": theirs}

    progress(f"same sender: {phones} phones, {len(SAME_SENDER_BODIES)} messages 200 ms apart")
    answers = asyncio.run(_with_session(both))
    figure: dict[str, Any] = {}
    for system, per_phone in answers.items():
        gaps = [b - a for times in per_phone for a, b in itertools.pairwise(times)]
        figure[system] = {
            "phones": len(per_phone),
            "all_answered": sum(len(t) >= len(SAME_SENDER_BODIES) for t in per_phone),
            "answers": sum(len(t) for t in per_phone),
            "first_answer": _quantiles([t[0] for t in per_phone if t]),
            "gap_after_previous": _quantiles(gaps),
        }
        gap = figure[system]["gap_after_previous"]
        progress(f"same sender, {system}: answer after the previous one p50 {gap['p50_ms']} ms, p99 {gap['p99_ms']} ms")
    return figure


def sustained(stack: Stack, rates: list[float], step_s: float, profile_s: float, progress: Progress) -> dict[str, Any]:
    sampler = footprint.MemorySampler(stack.pids).start()
    profiles: dict[str, Path] = {}
    profilers: list[threading.Thread] = []
    middle = rates[min(len(rates) - 1, 1)]  # profiled at the second step: loaded, and a rate the line holds
    # Enough fresh households for every step, with room: conversations start open loop.
    households = stack.take(int(sum(rates) * step_s / turns.mean_turns() * 1.2) + 100)

    def cpu() -> dict[str, float]:
        # The bench's own process too: the load generator and the stand-in share the two cores.
        return footprint.cpu_seconds({**stack.pids_by_name(), "bench": [os.getpid()]})

    def during(rate: float) -> None:
        if rate != middle or profile_s <= 0:
            return
        for name in ("worker", "web"):  # both at once: the same seconds of load
            profiles[name] = stack.directory / f"profile-{name}.txt"
            args = (stack.pid_of(name), profile_s, profiles[name])
            profilers.append(threading.Thread(target=footprint.profile, args=args, name=f"py-spy {name}"))
            profilers[-1].start()

    async def line_ramp(session: aiohttp.ClientSession) -> list[turns.Step]:
        talker = turns.LineTalker(stack, session)
        poller = asyncio.create_task(talker.poll())
        steps = await turns.ramp(talker, households, rates, step_s, progress, stack.backlog, during, cpu)
        poller.cancel()
        return steps

    progress(f"sustained, the line: {', '.join(f'{r:g}' for r in rates)} msg/s, {step_s:.0f} s each")
    line_steps = asyncio.run(_with_session(line_ramp))
    sampler.stop()
    for thread in profilers:
        thread.join()
    drain(stack, 600, progress)

    async def rest_ramp(session: aiohttp.ClientSession) -> list[turns.Step]:
        talker = turns.RestTalker(stack.rasa_url, session)
        return await turns.ramp(
            talker, stack.households, rates, step_s, progress, cpu=cpu, who=lambda n, h: f"bench-rest-{n}"
        )

    progress("sustained, Rasa's REST channel alone: the same mix and rates")
    rest_steps = asyncio.run(_with_session(rest_ramp))
    result: dict[str, Any] = {
        "step_seconds": step_s,
        "mix": dict(turns.MIX),
        "steps": [s.summary("line") for s in line_steps] + [s.summary("rasa-rest") for s in rest_steps],
        "backlog": {str(s.rate): s.backlog for s in line_steps},
        "memory_under_load": {"peak_rss": sampler.peak_rss, "peak_pss": sampler.peak_pss},
        "profiled_rate": middle,
        "profiles": {name: footprint.top_functions(path) for name, path in profiles.items() if path.exists()},
    }
    for system in ("line", "rasa-rest"):
        held = [s["rate"] for s in result["steps"] if s["system"] == system and s["holds"]]
        result[f"{system}_held"] = max(held, default=0.0)
    return result


def sustained_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Repetitions of the ramp, whose steps differ in number: the rates held are the runs' medians,
    each run's beside them; steps, backlog and profiles are the run whose line held the median
    rate; memory is the highest peak of any run."""
    held = [(run["line_held"], run["rasa-rest_held"]) for run in runs]
    line = statistics.median_low([h[0] for h in held])
    shown = next(run for run in runs if run["line_held"] == line)
    profiled = next((run for run in runs if run.get("profiles")), shown)
    return {
        **shown,
        "line_held": line,
        "rasa-rest_held": statistics.median_low([h[1] for h in held]),
        "held_each_run": [{"line": h[0], "rasa-rest": h[1]} for h in held],
        "repetitions": len(runs),
        "memory_under_load": {
            key: max(run["memory_under_load"][key] for run in runs) for key in ("peak_rss", "peak_pss")
        },
        "profiles": profiled.get("profiles", {}),
        "profiled_rate": profiled.get("profiled_rate"),
    }


def burst(stack: Stack, senders: int, messages: int, seconds: float, progress: Progress) -> dict[str, Any]:
    households = stack.take(senders)
    engine = engine_for(stack.database_url)
    with engine.connect() as conn:
        before = conn.execute(select(func.max(InboundMessage.id))).scalar_one() or 0
    sent_before = len(stack.standin.messages)

    def request(n: int) -> tuple[str, dict[str, str], dict[str, str]]:
        body = "hola" if n < senders else "cuando me toca cobrar"  # each sender twice, 30 s apart
        fields, headers = stack.form(households[n % senders]["phone"], body)
        return "/twilio/inbound", fields, headers

    progress(f"payment-day burst: {messages:,} messages from {senders:,} senders in {seconds:.0f} s")
    started = time.time()
    # Twilio takes a webhook the line did not acknowledge within 15 s to the Fallback URL: so does this.
    outcome = offer(stack.web_url, request, messages / seconds, seconds, fallback=stack.fallback)
    curve = drain(stack, 20 * 60, progress)
    drained_s = time.time() - started
    with engine.connect() as conn:
        mine = InboundMessage.id > before
        stored = conn.execute(select(func.count()).where(mine)).scalar_one()
        answered = conn.execute(select(func.count()).where(mine, InboundMessage.status == "processed")).scalar_one()
        replied = conn.execute(
            select(func.count(func.distinct(OutboundMessage.inbound_id))).where(OutboundMessage.inbound_id > before)
        ).scalar_one()
    posts = stack.standin.messages[sent_before:]
    callbacks = Counter(parse_qs(urlparse(m.get("StatusCallback", "")).query).get("o", [""])[0] for m in posts)
    figure = {
        "offered": messages,
        "senders": senders,
        "seconds": seconds,
        "acknowledged": len(outcome.latencies_s),
        "webhook_errors": outcome.errors,
        "via_fallback": len(outcome.via_fallback_s),
        "fallback_errors": outcome.fallback_errors,
        "unacknowledged": messages - len(outcome.latencies_s) - len(outcome.via_fallback_s),
        "ack": outcome.summary(),
        "stored": stored,
        "answered": answered,
        "with_reply": replied,
        "lost": messages - answered,
        "sent_twice": sum(1 for key, n in callbacks.items() if key and n > 1),
        "drained_s": round(drained_s, 1),
        "drained": bool(curve) and curve[-1][1] == 0 and curve[-1][3] == 0,
        "unsent_at_end": curve[-1][3] if curve else None,
        "curve": [(round(t + seconds, 1), s, q, u) for t, s, q, u in curve],
    }
    progress(
        f"burst: {figure['acknowledged']:,} acknowledged, {figure['via_fallback']:,} through the Fallback URL; "
        f"{stored:,} stored, {answered:,} answered, {figure['lost']} lost, {figure['sent_twice']} sent twice, "
        f"drained after {drained_s:.0f} s"
    )
    return figure


def _repeated(
    stack: Stack, repeats: int, measure: Callable[[], dict[str, Any]], drain_s: float, progress: Progress
) -> list[dict[str, Any]]:
    """`measure` `repeats` times, the system drained after each run."""
    runs = []
    for _ in range(repeats):
        runs.append(measure())
        drain(stack, drain_s, progress)
    return runs


def households_needed(args: argparse.Namespace, skip: set[str]) -> int:
    """Fresh households for every run of every part (a phone used once has a conversation's state)."""
    rates = [float(r) for r in args.rates.split(",")]
    per_run = {
        "complaint": args.complaints,
        "same": args.same_phones,
        "sustained": int(sum(rates) * args.step_seconds / turns.mean_turns() * 1.2) + 100,
        "burst": args.burst_senders,
    }
    return args.repeats * sum(n for part, n in per_run.items() if part not in skip) + 100


def main(argv: list[str] | None = None, progress: Progress = print) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rates", default="5,10,20,30,40,60", help="the sustained steps, messages per second")
    parser.add_argument("--step-seconds", type=float, default=100.0)
    parser.add_argument("--profile-seconds", type=float, default=30.0)
    parser.add_argument("--complaints", type=int, default=200)
    parser.add_argument("--complaint-rate", type=float, default=10.0)
    parser.add_argument("--same-phones", type=int, default=100)
    parser.add_argument("--burst-senders", type=int, default=10_000)
    parser.add_argument("--burst-messages", type=int, default=20_000)
    parser.add_argument("--burst-seconds", type=float, default=60.0)
    parser.add_argument("--households", type=int, default=30_000)
    parser.add_argument("--twilio-latency-ms", type=float, default=150.0)
    parser.add_argument("--workers", type=int, default=None, help="Celery worker concurrency (WORKER_CONCURRENCY)")
    parser.add_argument("--skip", default="", help="phases to leave out: complaint,same,sustained,burst")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each figure: the median and the spread")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    households = max(args.households, households_needed(args, skip))
    stack = start(args.database, households, args.twilio_latency_ms / 1000, args.workers, progress)
    if args.workers:
        stack.env["WORKER_CONCURRENCY"] = str(args.workers)  # what it ran with, for the report
    results: dict[str, Any] = {"database": args.database, "worker_concurrency": worker_concurrency(stack.env)}
    try:
        time.sleep(10)  # idle: every process loaded, nothing offered
        rss, pss = footprint.memory_of(stack.pids())
        results["memory_idle"] = {"rss": rss, "pss": pss, "processes": len(stack.pids())}
        if "complaint" not in skip:
            measure = partial(complaint_routed, stack, args.complaints, args.complaint_rate, progress)
            results["complaint_routed"] = combine(_repeated(stack, args.repeats, measure, 300, progress))
        if "same" not in skip:
            measure = partial(same_sender, stack, args.same_phones, progress)
            results["same_sender"] = combine(_repeated(stack, args.repeats, measure, 300, progress))
        if "sustained" not in skip:
            rates = [float(r) for r in args.rates.split(",")]
            runs = []
            for n in range(args.repeats):  # profiled once: py-spy's own CPU would weigh on the other runs too
                profile_s = args.profile_seconds if n == 0 else 0.0
                runs.append(sustained(stack, rates, args.step_seconds, profile_s, progress))
                drain(stack, 600, progress)
            results["sustained"] = sustained_of(runs)
        if "burst" not in skip:
            measure = partial(burst, stack, args.burst_senders, args.burst_messages, args.burst_seconds, progress)
            results["burst"] = combine(_repeated(stack, args.repeats, measure, 600, progress))
    finally:
        stack.stop()
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=1, default=str))
