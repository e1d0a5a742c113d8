"""Redis hung rather than down: the webhook still answers in time; startup refuses a Redis that may evict keys."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from intake import create_app, create_internal_app
from intake.broker import PROCESS_INBOUND
from intake.inbound import stale_pending
from intake.models import InboundMessage
from intake.queue import enqueue
from intake.redis_checks import RedisConfigError, check_broker_redis, refuse_unsafe_redis
from intake.runtime import Runtime, set_runtime
from intake.settings import ROOT, Settings
from stack.processes import free_port, port_open, redis_server_binary
from tests.env import base_env
from tests.intake.webhooks import signed_post, sms

StartRedis = Callable[..., str]  # options for redis-server -> its redis:// URL


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A redis:// URL whose server accepts connections and never answers (a hung Redis, a dead peer)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])  # kept open, never read or written
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture
def hung_rt(database_url: str, blackhole: str) -> Iterator[Runtime]:
    rt = Runtime(Settings.from_env(base_env(DATABASE_URL=database_url, REDIS_URL=blackhole)))
    set_runtime(rt)
    yield rt
    set_runtime(None)


def test_the_webhook_answers_within_two_seconds_when_redis_hangs_and_leaves_the_message_to_the_sweeper(
    hung_rt: Runtime,
) -> None:
    client = create_app(hung_rt.settings).test_client()
    started = time.monotonic()
    response = signed_post(client, sms())
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed < 2.0, f"the webhook waited {elapsed:.1f} s on a hung Redis"
    with hung_rt.sessions() as session:
        message = session.scalars(select(InboundMessage)).one()
        assert message.enqueued_at is None  # not marked: the sweeper enqueues it
        later = message.received_at.replace(tzinfo=hung_rt.now().tzinfo) + timedelta(seconds=60)
        assert stale_pending(session, later, 30) == [message.id]


def test_an_enqueue_to_a_hung_redis_gives_up_after_the_socket_timeout(hung_rt: Runtime) -> None:
    started = time.monotonic()
    assert enqueue(hung_rt.settings.redis_url, PROCESS_INBOUND, 1) is False
    assert time.monotonic() - started < 1.8  # one attempt of REDIS_SOCKET_TIMEOUT_S (1 s), no retry


def test_readyz_reports_a_hung_redis_in_bounded_time(hung_rt: Runtime) -> None:
    started = time.monotonic()
    body = create_internal_app(hung_rt.settings).test_client().get("/readyz").get_json()
    assert body["checks"]["redis"] is False and body["checks"]["trackers"] is False
    assert time.monotonic() - started < 12  # two pings of 1 s, and Rasa's and the actions' 3 s at most


@pytest.fixture
def redis_with(tmp_path: Path) -> Iterator[StartRedis]:
    """Start a private Redis with the given options (the shared test Redis is never reconfigured)."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*options: str) -> str:
        port = free_port()
        argv = [redis_server_binary(), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(tmp_path), *options]
        started.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 10
        while not port_open("127.0.0.1", port):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        return f"redis://127.0.0.1:{port}/0"

    yield start
    for process in started:
        process.terminate()
        process.wait(10)


def test_a_redis_that_may_evict_keys_is_refused_naming_the_setting_and_the_fix(redis_with: StartRedis) -> None:
    url = redis_with("--maxmemory-policy", "allkeys-lru", "--appendonly", "yes")
    with pytest.raises(RedisConfigError, match=r"maxmemory-policy allkeys-lru.*Set maxmemory-policy noeviction"):
        check_broker_redis(url)
    with pytest.raises(SystemExit, match="refusing to start: REDIS_URL's Redis has maxmemory-policy allkeys-lru"):
        refuse_unsafe_redis(url, print)


def test_a_redis_that_persists_nothing_is_only_a_warning(redis_with: StartRedis) -> None:
    warnings: list[str] = []
    refuse_unsafe_redis(redis_with("--save", "", "--appendonly", "no"), warnings.append)
    assert len(warnings) == 1 and "persists nothing" in warnings[0] and "appendonly yes" in warnings[0]


def test_a_redis_with_noeviction_and_persistence_passes_quietly(redis_with: StartRedis) -> None:
    assert check_broker_redis(redis_with("--appendonly", "yes")) == []
    assert check_broker_redis(redis_with("--save", "60 1", "--appendonly", "no")) == []


def test_a_managed_redis_that_hides_config_get_is_a_warning_not_a_refusal(redis_with: StartRedis) -> None:
    url = redis_with("--rename-command", "CONFIG", "")
    [warning] = check_broker_redis(url)
    assert "does not allow CONFIG GET" in warning and "noeviction" in warning


def test_an_unreachable_redis_is_a_warning_not_a_refusal() -> None:
    [warning] = check_broker_redis(f"redis://127.0.0.1:{free_port()}/0")
    assert "could not check" in warning


def test_the_worker_refuses_to_start_on_a_redis_that_may_evict_keys(redis_with: StartRedis, tmp_path: Path) -> None:
    url = redis_with("--maxmemory-policy", "volatile-lru", "--appendonly", "yes")
    env = {
        **base_env(REDIS_URL=url, DATABASE_URL=f"sqlite:///{tmp_path / 'lc.db'}"),
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
    }
    celery = [sys.executable, "-m", "celery", "-A", "worker.celery_app", "worker", "--pool", "solo"]
    done = subprocess.run(celery, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "refusing to start" in done.stderr and "maxmemory-policy volatile-lru" in done.stderr
