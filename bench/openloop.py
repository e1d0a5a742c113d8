"""Open-loop HTTP load: each request leaves at its scheduled time whatever the server does, and its
latency runs from that time, so a slow server cannot hide its queue by slowing the load down."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

# (path and query, form fields, headers) of request number n.
Request = tuple[str, dict[str, str], dict[str, str]]
# Twilio's Fallback URL: where it goes, and the same fields signed for that URL.
Fallback = tuple[str, Callable[[dict[str, str]], Request]]


def quantile(latencies_s: list[float], unanswered: int, q: float) -> float | None:
    """The q-quantile of `latencies_s`, each unanswered request counted as slower than every answer:
    None when it falls on one (or nothing was sent)."""
    if not latencies_s and not unanswered:
        return None
    ordered = sorted(latencies_s) + [float("inf")] * unanswered
    value = ordered[min(len(ordered) - 1, int(q * len(ordered)))]
    return None if value == float("inf") else value


@dataclass
class Outcome:
    """What one rate did: latencies of the answered requests (seconds) and what went wrong."""

    rate: float
    seconds: float
    sent: int = 0
    latencies_s: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)  # "HTTP 503", "timeout", "ClientOSError"
    late_start_s: float = 0.0  # how far behind its schedule the generator itself fell, at worst
    # Requests the primary URL failed that the Fallback URL then acknowledged (seconds from the
    # schedule, the primary's 15 s included), and what went wrong there too.
    via_fallback_s: list[float] = field(default_factory=list)
    fallback_errors: dict[str, int] = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def percentile_ms(self, q: float) -> float | None:
        """The q-quantile of the latencies in ms; an unanswered request counts as slower than all."""
        value = quantile(self.latencies_s, self.error_count, q)
        return None if value is None else value * 1000

    def mean_ms(self) -> float | None:
        return statistics.fmean(self.latencies_s) * 1000 if self.latencies_s else None

    def summary(self) -> dict[str, object]:
        return {
            "rate": self.rate,
            "seconds": self.seconds,
            "sent": self.sent,
            "answered": len(self.latencies_s),
            "errors": dict(self.errors),
            "p50_ms": self.percentile_ms(0.50),
            "p90_ms": self.percentile_ms(0.90),
            "p99_ms": self.percentile_ms(0.99),
            "max_ms": max(self.latencies_s) * 1000 if self.latencies_s else None,
            "late_start_ms": round(self.late_start_s * 1000, 1),
            "via_fallback": len(self.via_fallback_s),
            "fallback_errors": dict(self.fallback_errors),
        }


def offer(
    base_url: str,
    request_for: Callable[[int], Request],
    rate: float,
    seconds: float,
    ok_statuses: tuple[int, ...] = (200, 204),
    timeout_s: float = 15.0,
    connections: int = 512,
    fallback: Fallback | None = None,
) -> Outcome:
    """Send `rate` requests a second for `seconds` (POST, form-encoded) and wait for every answer.

    Requests are built before the clock starts, so building them costs the schedule nothing.
    Twilio waits 15 s for a webhook, then gives up: so does this. With `fallback`, a request that
    timed out, could not connect or got a 5xx goes to the Fallback URL, as Twilio does."""
    total = max(1, int(rate * seconds))
    prepared = [request_for(n) for n in range(total)]
    return asyncio.run(_offer(base_url, prepared, rate, seconds, ok_statuses, timeout_s, connections, fallback))


async def _offer(
    base_url: str,
    prepared: list[Request],
    rate: float,
    seconds: float,
    ok_statuses: tuple[int, ...],
    timeout_s: float,
    connections: int,
    fallback: Fallback | None,
) -> Outcome:
    outcome = Outcome(rate, seconds)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    # Keep-alive connections, as Twilio's own webhook clients reuse theirs; `limit` bounds them.
    connector = aiohttp.TCPConnector(limit=connections, ttl_dns_cache=300)
    async with aiohttp.ClientSession(base_url, timeout=timeout, connector=connector) as session:

        async def post(url: str, form: dict[str, str], headers: dict[str, str]) -> int | str:
            """The HTTP status, or the name of what went wrong."""
            try:
                async with session.post(url, data=form, headers=headers) as response:
                    await response.read()
                    return response.status
            except TimeoutError:
                return "timeout"
            except aiohttp.ClientError as error:
                return type(error).__name__

        def count(errors: dict[str, int], what: int | str) -> None:
            key = what if isinstance(what, str) else f"HTTP {what}"
            errors[key] = errors.get(key, 0) + 1

        async def one(path: str, form: dict[str, str], headers: dict[str, str], scheduled: float) -> None:
            status = await post(path, form, headers)
            if status in ok_statuses:
                outcome.latencies_s.append(time.perf_counter() - scheduled)
                return
            count(outcome.errors, status)
            # Twilio requests the Fallback URL after an error or a timeout: never after a 4xx,
            # which is the line refusing the request (a bad signature), not failing it.
            if fallback is None or (isinstance(status, int) and status < 500):
                return
            fallback_url, resign = fallback
            path, form, headers = resign(form)
            status = await post(fallback_url + path, form, headers)
            if status in ok_statuses:
                outcome.via_fallback_s.append(time.perf_counter() - scheduled)
            else:
                count(outcome.fallback_errors, status)

        start = time.perf_counter() + 0.2
        tasks = []
        for n, (path, form, headers) in enumerate(prepared):
            scheduled = start + n / rate
            wait = scheduled - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                outcome.late_start_s = max(outcome.late_start_s, -wait)
            tasks.append(asyncio.create_task(one(path, form, headers, scheduled)))
            outcome.sent += 1
        await asyncio.gather(*tasks)
    return outcome
