"""Acknowledgement to Twilio and the saturation of ingestion: the line's webhook beside Rasa's own Twilio channel.

Both run here, on one box, from the same trained model, answering the same signed Twilio
webhooks ("hola" from many phones), with the Twilio stand-in answering every reply after
`--twilio-latency-ms` (150 ms by default, about a real round trip to Twilio's API):

- the line: its web process (gunicorn, WEB_WORKERS x WEB_THREADS) stores the message and answers
  Twilio; the turn happens later, in a worker (figure 3 measures turns end to end), so no worker
  runs here and the figure is the acknowledgement alone;
- the peer: Rasa 3.6's `twilio` channel (bench/rasa_twilio_peer.py: only its Twilio client's
  address changed), which runs the turn and posts each reply to Twilio before it answers.

Open loop (bench/openloop.py): each request leaves at its time whatever the server does, and its
latency runs from that time. Each rate runs `--repeats` times; the figure is the median run,
with the spread of the repeats beside it. The peer is measured until it stops surviving a rate
(more than 1 % errors: Twilio gives a webhook 15 s), after which higher rates only pile up work.

    .venv/bin/python -m bench.channels [--rates 5,10,20,50,100,200,300,500] [--repeats 3] [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis
import yaml
from twilio.request_validator import RequestValidator

from bench.common import BROKER, LINE_NUMBER, PUBLIC, SECRETS, TOKEN, TRACKERS, fresh_database
from bench.openloop import Outcome, Request, offer
from intake.migrations_runner import upgrade
from stack.paths import MODEL, ROOT, rasa_bin
from stack.processes import Process, free_port, named, rasa_env, system_processes
from stack.twilio_standin import TwilioStandIn

ACCOUNT = "AC" + "b" * 32
SURVIVES = 0.01  # a rate the peer "survives": at most 1 % of webhooks fail or time out
SENDERS = 2_000


@dataclass
class RateFigure:
    system: str
    rate: float
    runs: list[Outcome] = field(default_factory=list)

    def median_run(self) -> Outcome:
        ordered = sorted(self.runs, key=lambda o: (o.error_count, o.percentile_ms(0.99) or float("inf")))
        return ordered[len(ordered) // 2]

    def spread(self, q: float) -> tuple[float | None, float | None]:
        values = [v for o in self.runs if (v := o.percentile_ms(q)) is not None]
        return (min(values), max(values)) if values else (None, None)

    def survived(self) -> bool:
        run = self.median_run()
        return run.error_count <= SURVIVES * run.sent

    def as_dict(self) -> dict[str, object]:
        median = self.median_run()
        return {
            "system": self.system,
            "rate": self.rate,
            "median_run": median.summary(),
            "p50_spread_ms": self.spread(0.5),
            "p99_spread_ms": self.spread(0.99),
            "runs": [o.summary() for o in self.runs],
            "survived": self.survived(),
        }


def webhook(path: str, signed_url: str, body: str) -> Callable[[int], Request]:
    """Request n: a signed Twilio SMS webhook from one of SENDERS phones, unique MessageSid."""
    validator = RequestValidator(TOKEN)
    run = os.urandom(4).hex()

    def request(n: int) -> Request:
        form = {
            "MessageSid": f"SM{run}{n:024x}",
            "AccountSid": ACCOUNT,
            "From": f"+5049{n % SENDERS:07d}",
            "To": LINE_NUMBER,
            "Body": body,
            "NumMedia": "0",
        }
        return path, form, {"X-Twilio-Signature": validator.compute_signature(signed_url, form)}

    return request


def base_env(database_url: str, port: int, standin: TwilioStandIn) -> dict[str, str]:
    return {
        **os.environ,
        "PORT": str(port),
        "PUBLIC_BASE_URL": PUBLIC,
        "DATABASE_URL": database_url,
        "REDIS_URL": BROKER,
        "TRACKER_REDIS_URL": TRACKERS,
        "TWILIO_ACCOUNT_SID": "",  # the line only acknowledges here: nothing is sent
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_API_URL": standin.url,
        **SECRETS,
        "LOG_LEVEL": "WARNING",
        "RASA_URL": f"http://127.0.0.1:{free_port()}",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}",
    }


def start_line(env: dict[str, str], workdir: Path) -> Process:
    (web,) = named(system_processes(env), "web")
    web.log_path = workdir / "line-web.log"
    return web.start()


def start_peer(env: dict[str, str], standin: TwilioStandIn, workdir: Path) -> list[Process]:
    """Rasa (its own CLI, as shipped) with the stand-in Twilio channel, and the same action server."""
    credentials = workdir / "peer-credentials.yml"
    credentials.write_text(
        yaml.safe_dump(
            {
                "bench.rasa_twilio_peer.StandInTwilioInput": {
                    "account_sid": standin.account_sid,
                    "auth_token": standin.auth_token,
                    "twilio_number": LINE_NUMBER,
                    "api_url": standin.url,
                },
                "rest": None,
            }
        ),
        encoding="utf-8",
    )
    port = free_port()
    peer_env = {**rasa_env(env), "PYTHONPATH": str(ROOT)}
    rasa = Process(
        "peer-rasa",
        [
            rasa_bin("rasa"),
            "run",
            "--model",
            str(MODEL),
            "--port",
            str(port),
            "--interface",
            "127.0.0.1",
            "--credentials",
            str(credentials),
            "--endpoints",
            "bot/endpoints.yml",
        ],
        peer_env,
        health_url=f"http://127.0.0.1:{port}/",
        log_path=workdir / "peer-rasa.log",
    )
    (actions,) = named(system_processes(env), "actions")
    actions.log_path = workdir / "peer-actions.log"
    return [actions.start(), rasa.start()]


def peer_url(processes: list[Process]) -> str:
    rasa = processes[-1]
    assert rasa.health_url is not None
    return rasa.health_url.rstrip("/")


def settle(standin: TwilioStandIn, quiet_s: float = 3.0, limit_s: float = 300.0) -> None:
    """Wait until the stand-in has had no POST for `quiet_s` (the peer's backlog is worked off)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        last = standin.received_at[-1] if standin.received_at else 0.0
        if time.time() - last >= quiet_s:
            return
        time.sleep(0.5)


def measure(
    system: str,
    base_url: str,
    request_for: Callable[[int], Request],
    rates: list[float],
    repeats: int,
    seconds: float,
    between: Callable[[], None],
    stop_when_failing: bool,
    progress: Callable[[str], None],
    warmup_s: float = 0.0,
) -> list[RateFigure]:
    figures = []
    for rate in rates:
        figure = RateFigure(system, rate)
        if warmup_s > 0:
            # Discarded: a rate's first seconds open the client's connections and wake the server's
            # threads, and ran up to 700x slower than the runs after them (docs/benchmarks/2026-11-27.md).
            offer(base_url, request_for, rate, warmup_s, ok_statuses=(200, 204))
            between()
        for repeat in range(repeats):
            if stop_when_failing and figure.runs and not figure.survived():
                break  # one run that collapses says it; more would only pile work on a peer that cannot keep up
            outcome = offer(base_url, request_for, rate, seconds, ok_statuses=(200, 204))
            figure.runs.append(outcome)
            s = outcome.summary()
            progress(
                f"{system} {rate:g}/s run {repeat + 1}/{repeats}: p50 {_ms(s['p50_ms'])} p99 {_ms(s['p99_ms'])}, "
                f"{outcome.error_count} of {outcome.sent} failed"
            )
            between()
        figures.append(figure)
        if stop_when_failing and not figure.survived():
            progress(f"{system} does not survive {rate:g}/s: higher rates not offered")
            break
    return figures


def saturation(
    system: str,
    base_url: str,
    request_for: Callable[[int], Request],
    start: float,
    seconds: float,
    between: Callable[[], None],
    progress: Callable[[str], None],
    ceiling: float = 4000.0,
) -> tuple[float, list[dict[str, object]]]:
    """The highest rate with p99 under 1 s and no error: doubling (or halving) from `start` to a
    bracket, then halving the gap to 5 %."""
    tried: list[dict[str, object]] = []

    def holds(rate: float) -> bool:
        outcome = offer(base_url, request_for, rate, seconds)
        between()
        p99 = outcome.percentile_ms(0.99)
        ok = outcome.error_count == 0 and p99 is not None and p99 < 1000
        tried.append({**outcome.summary(), "holds": ok})
        progress(f"{system} saturation {rate:.0f}/s: p99 {_ms(p99)}, {outcome.error_count} errors, holds={ok}")
        return ok

    good, rate = 0.0, start
    if holds(rate):
        while rate * 2 <= ceiling and holds(rate * 2):
            rate *= 2
        good, bad = rate, rate * 2
    else:
        # Not even the first rate holds: halve until one does (or 1/s, below which nothing is offered).
        bad = rate
        while rate > 1:
            rate /= 2
            if holds(rate):
                good = rate
                break
            bad = rate
    while good and bad - good > 0.05 * good:
        middle = (good + bad) / 2
        if holds(middle):
            good = middle
        else:
            bad = middle
    return good, tried


def _ms(value: object) -> str:
    return "-" if value is None else f"{float(value):.1f} ms"  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # The rates (50 to 500/s), and below them the rates at which Rasa's channel can survive,
    # so the two are compared where both answer.
    parser.add_argument("--rates", default="5,10,20,50,100,200,300,500")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup-seconds", type=float, default=3.0, help="a discarded run before each rate's")
    parser.add_argument("--twilio-latency-ms", type=float, default=150.0)
    parser.add_argument("--saturation-seconds", type=float, default=10.0)
    parser.add_argument("--skip-saturation", action="store_true")
    parser.add_argument("--skip-peer", action="store_true", help="the line only (the suite's smoke run)")
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]

    def progress(line: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="lc-bench-channels-"))
    standin = TwilioStandIn(ACCOUNT, TOKEN, latency_s=args.twilio_latency_ms / 1000).start()
    database_url = fresh_database("sqlite", workdir)
    upgrade(database_url)
    for url in (BROKER, TRACKERS):
        redis.Redis.from_url(url).flushdb()
    env = base_env(database_url, free_port(), standin)
    results: dict[str, object] = {
        "twilio_latency_ms": args.twilio_latency_ms,
        "seconds": args.seconds,
        "warmup_seconds": args.warmup_seconds,
    }
    line = start_line(env, workdir)
    try:
        line.wait_ready(60)
        line_url = f"http://127.0.0.1:{env['PORT']}"
        line_request = webhook("/twilio/inbound", f"{PUBLIC}/twilio/inbound", "hola")

        def flush_queue() -> None:
            redis.Redis.from_url(BROKER).flushdb()  # no worker runs: the queued turns are dropped

        progress("the line's acknowledgement")
        line_figures = measure(
            "line",
            line_url,
            line_request,
            rates,
            args.repeats,
            args.seconds,
            flush_queue,
            False,
            progress,
            args.warmup_seconds,
        )
        line_saturation: tuple[float, list[dict[str, object]]] = (0.0, [])
        if not args.skip_saturation:
            line_saturation = saturation(
                "line", line_url, line_request, max(rates), args.saturation_seconds, flush_queue, progress
            )
    finally:
        line.stop()
    peer_figures: list[RateFigure] = []
    peer_saturation: tuple[float, list[dict[str, object]]] = (0.0, [])
    peer = [] if args.skip_peer else start_peer(env, standin, workdir)
    try:
        for process in peer:
            process.wait_ready(300)
        base = peer_url(peer) if peer else ""
        peer_request = webhook("/webhooks/twilio/webhook", f"{base}/webhooks/twilio/webhook", "hola")
        if peer:
            progress("Rasa's twilio channel")
            peer_figures = measure(
                "rasa-twilio",
                base,
                peer_request,
                rates,
                args.repeats,
                args.seconds,
                lambda: settle(standin),
                True,
                progress,
                args.warmup_seconds,
            )
        if peer and not args.skip_saturation:
            peer_saturation = saturation(
                "rasa-twilio", base, peer_request, 1.0, args.saturation_seconds, lambda: settle(standin), progress
            )
    finally:
        for process in reversed(peer):
            process.stop()
        standin.stop()
    results["acknowledgement"] = [f.as_dict() for f in line_figures + peer_figures]
    results["saturation"] = {
        "line": {"rate": line_saturation[0], "tried": line_saturation[1]},
        "rasa-twilio": {"rate": peer_saturation[0], "tried": peer_saturation[1]},
    }
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=1, default=str))
