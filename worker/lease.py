"""A Redis lock held by a heartbeat: short-lived, renewed while the work runs, freed soon after its holder dies."""

from __future__ import annotations

import contextlib
import threading
from types import TracebackType

import redis
from redis.lock import Lock

# Long enough to outlive a Redis pause of 20-30 s between two renewals (the chaos suite pauses it
# for 20), short enough that a worker killed mid-turn holds its contact well under a minute.
LEASE_S = 45
RENEW_EVERY_S = 10


class Lease:
    """`lc:lock:…` held while a turn runs; `follow` keys (the contact's queued mark) expire with it.

    A thread renews both every RENEW_EVERY_S. When the process dies the renewals stop and both keys
    expire within LEASE_S; the sweeper then enqueues the contact again. If the lock is found taken
    by another holder (it expired during a Redis outage), `lost` is set and the work should stop
    after the turn in hand."""

    def __init__(self, client: redis.Redis, name: str, follow: tuple[str, ...] = ()) -> None:
        self._client = client
        # thread_local=False: the heartbeat thread renews with the token the task's thread took.
        self._lock: Lock = client.lock(name, timeout=LEASE_S, blocking=False, thread_local=False)
        self._follow = follow
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def acquire(self) -> bool:
        if not self._lock.acquire():
            return False
        self._renew_follow()
        self._thread = threading.Thread(target=self._heartbeat, name="lease", daemon=True)
        self._thread.start()
        return True

    def release(self) -> None:
        """Stop renewing and give the lock back (a no-op if it had expired or been taken)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=RENEW_EVERY_S)
        with contextlib.suppress(redis.exceptions.LockError, redis.RedisError):
            self._lock.release()

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.release()

    def _heartbeat(self) -> None:
        while not self._stop.wait(RENEW_EVERY_S):
            try:
                self._lock.reacquire()
            except redis.exceptions.LockNotOwnedError:
                self._lost.set()
                return
            except redis.RedisError:
                continue  # Redis away for a moment: the lease has LEASE_S - RENEW_EVERY_S to spare
            self._renew_follow()

    def _renew_follow(self) -> None:
        with contextlib.suppress(redis.RedisError):
            for key in self._follow:
                self._client.expire(key, LEASE_S)
