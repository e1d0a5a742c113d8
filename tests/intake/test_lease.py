"""The contact's lock is a lease: renewed while its holder lives, gone soon after the holder is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from stack.paths import ROOT
from tests.env import TEST_REDIS_URL
from worker import lease as lease_module
from worker.lease import Lease


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(TEST_REDIS_URL)
    yield client
    for key in client.scan_iter("lc:test-lease:*"):
        client.delete(key)


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lease_module, "LEASE_S", 2)
    monkeypatch.setattr(lease_module, "RENEW_EVERY_S", 0.3)


def names() -> tuple[str, str]:
    tag = uuid.uuid4().hex
    return f"lc:test-lease:lock:{tag}", f"lc:test-lease:mark:{tag}"


def test_a_living_holder_keeps_the_lock_and_the_mark_past_the_lease(client: redis.Redis, quick: None) -> None:
    lock, mark = names()
    client.set(mark, "1", ex=180)
    with Lease(client, lock, follow=(mark,)) as held:
        assert held.acquire()
        assert client.ttl(mark) <= 2  # the mark now lives with the lease, not its queued life
        time.sleep(3)  # longer than LEASE_S: only the renewals keep them
        assert client.exists(lock) and client.exists(mark)
        assert not Lease(client, lock).acquire()
        assert not held.lost
    assert not client.exists(lock)  # released on exit
    assert client.exists(mark)  # the mark is the task's to clear, not the lease's


def test_a_lock_taken_over_after_it_expired_is_reported_lost(client: redis.Redis, quick: None) -> None:
    lock, _ = names()
    held = Lease(client, lock)
    assert held.acquire()
    client.set(lock, "someone else's token", ex=60)  # as if it had expired during a Redis pause
    deadline = time.monotonic() + 3
    while not held.lost and time.monotonic() < deadline:
        time.sleep(0.05)
    assert held.lost
    held.release()
    assert client.get(lock) == b"someone else's token"  # a lost lease never frees another's lock


HOLDER = textwrap.dedent(
    """
    import sys, time, redis
    from worker import lease
    lease.LEASE_S, lease.RENEW_EVERY_S = 2, 0.3
    client = redis.Redis.from_url(sys.argv[1])
    assert lease.Lease(client, sys.argv[2], follow=(sys.argv[3],)).acquire()
    print("held", flush=True)
    time.sleep(600)
    """
)


def test_a_holder_killed_mid_turn_frees_the_contact_within_the_lease(client: redis.Redis) -> None:
    lock, mark = names()
    client.set(mark, "1", ex=180)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, TEST_REDIS_URL, lock, mark],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        time.sleep(1)
        assert client.exists(lock) and client.exists(mark)
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        killed = time.monotonic()
        while (client.exists(lock) or client.exists(mark)) and time.monotonic() - killed < 10:
            time.sleep(0.1)
        assert not client.exists(lock) and not client.exists(mark)
        assert time.monotonic() - killed <= 2.5  # LEASE_S, not minutes
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)
        holder.stdout.close()


def test_the_production_lease_outlives_a_20_second_redis_pause_between_renewals() -> None:
    # The chaos suite pauses Redis for 20 s: the lease must survive that after its last renewal.
    assert lease_module.LEASE_S - lease_module.RENEW_EVERY_S > 20
