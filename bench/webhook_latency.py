"""Webhook acknowledgement latency at a constant offered rate (open loop: no coordinated omission).

Starts the web app (gunicorn, 2 workers) on a fresh database, fires signed Twilio webhooks at
a fixed rate from a thread pool, and measures each request from its *scheduled* send time to
the response, so a slow server cannot hide its queueing by slowing the load down.

    .venv/bin/python -m bench.webhook_latency --rate 100 --seconds 30 [--database postgresql]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis
import requests
from twilio.request_validator import RequestValidator

from bench.common import SECRETS, fresh_database
from intake.migrations_runner import upgrade
from stack.processes import Process, free_port, system_processes

TOKEN = "bench-auth-token-0123456789abcdef"
PUBLIC = "https://linea.example.hn"
BENCH_REDIS = "redis://127.0.0.1:6379/9"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second offered")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--senders", type=int, default=500, help="distinct phones writing")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="lc-bench-"))
    database_url = fresh_database(args.database, directory)
    upgrade(database_url)
    redis.Redis.from_url(BENCH_REDIS).flushdb()
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "PUBLIC_BASE_URL": PUBLIC,
        "DATABASE_URL": database_url,
        "REDIS_URL": BENCH_REDIS,
        "TWILIO_AUTH_TOKEN": TOKEN,
        **SECRETS,
        "LOG_LEVEL": "WARNING",
        "RASA_URL": "http://127.0.0.1:1",
        "ACTION_SERVER_URL": "http://127.0.0.1:1",
    }
    web: Process = system_processes(env)[2]
    web.log_path = directory / "web.log"
    web.start().wait_ready(60)
    validator = RequestValidator(TOKEN)
    session_local = threading.local()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def fire(n: int, scheduled: float) -> None:
        http = getattr(session_local, "http", None)
        if http is None:
            http = session_local.http = requests.Session()
        form = {
            "MessageSid": f"SM{n:032x}",
            "AccountSid": "AC" + "0" * 32,
            "From": f"whatsapp:+5049{n % args.senders:07d}",
            "To": "whatsapp:+50422220000",
            "Body": "cuando me toca cobrar",
            "NumMedia": "0",
            "ProfileName": "Bench",
        }
        signature = validator.compute_signature(f"{PUBLIC}/twilio/inbound", form)
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        try:
            response = http.post(
                f"http://127.0.0.1:{port}/twilio/inbound",
                data=form,
                headers={"X-Twilio-Signature": signature},
                timeout=30,
            )
            ok = response.status_code == 200
        except requests.RequestException as exc:
            ok, response = False, exc
        elapsed = time.perf_counter() - scheduled
        with lock:
            latencies.append(elapsed)
            if not ok:
                errors.append(str(response))

    total = int(args.rate * args.seconds)
    start = time.perf_counter() + 0.5
    with ThreadPoolExecutor(max_workers=64) as pool:
        for n in range(total):
            pool.submit(fire, n, start + n / args.rate)
    wall = time.perf_counter() - start
    web.stop()
    stored = redis.Redis.from_url(BENCH_REDIS).llen("celery")
    redis.Redis.from_url(BENCH_REDIS).flushdb()
    ms = [v * 1000 for v in latencies]
    print(
        f"database={args.database} offered={args.rate:.0f}/s for {args.seconds:.0f}s "
        f"requests={total} errors={len(errors)} achieved={total / wall:.1f}/s enqueued={stored}"
    )
    print(
        f"ack latency ms: p50={_percentile(ms, 0.50):.1f} p90={_percentile(ms, 0.90):.1f} "
        f"p99={_percentile(ms, 0.99):.1f} max={max(ms):.1f} mean={statistics.fmean(ms):.1f}"
    )


if __name__ == "__main__":
    main()
