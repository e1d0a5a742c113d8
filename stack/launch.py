"""`make run`: start Redis (unless REDIS_URL is set) and every process of the system; Ctrl-C stops them all."""

from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import replace

from dotenv import dotenv_values

from intake.redis_checks import refuse_unsafe_redis
from intake.settings import Settings, SettingsError
from stack.paths import ROOT, VAR
from stack.processes import (
    Process,
    fallback_port,
    internal_api_url,
    internal_local_url,
    port_open,
    redis_process,
    system_processes,
)
from stack.start_checks import STARTING, intake_link_problem, taken_ports, wait_until_ready

LOCAL_REDIS_PORT = 6380
START_ORDER = ("internal", "actions", "web", "fallback", "worker", "beat", "rasa")
READY_TIMEOUT_S = 120.0


# Processes started again when they exit; any other exit stops everything, so it is seen.
RESTARTED = ("worker",)


def main() -> int:
    env = {**{k: v for k, v in dotenv_values(ROOT / ".env").items() if v is not None}, **os.environ}
    port = env.setdefault("PORT", "8000")
    env.setdefault("RASA_URL", "http://127.0.0.1:5005")
    env.setdefault("ACTION_SERVER_URL", "http://127.0.0.1:5055")
    # The internal listener (INTERNAL_BIND:INTERNAL_PORT, PORT + 1 by default), never the public port.
    env["INTERNAL_API_URL"] = internal_api_url(env)
    started: list[Process] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        if not env.get("REDIS_URL"):
            if port_open("127.0.0.1", LOCAL_REDIS_PORT):
                sys.exit(f"port {LOCAL_REDIS_PORT} is taken; set REDIS_URL to use a Redis you run")
            redis = redis_process(LOCAL_REDIS_PORT, VAR / "redis").start()
            started.append(redis)
            env["REDIS_URL"] = f"redis://127.0.0.1:{LOCAL_REDIS_PORT}/0"
            _wait_port(LOCAL_REDIS_PORT)
            print(f"started Redis on 127.0.0.1:{LOCAL_REDIS_PORT} (data in var/redis)")
        # Before anything uses it: a Redis that may evict keys would lose queued tasks and locks.
        refuse_unsafe_redis(env["REDIS_URL"], lambda warning: print(f"warning: {warning}", file=sys.stderr))
        try:
            # The settings every process will read, checked once here with the message that names
            # the setting, rather than as a process's traceback in its log.
            Settings.from_env(env)
        except SettingsError as error:
            sys.exit(f"cannot start: {error}")
        taken = taken_ports(env)
        if taken:
            sys.exit("cannot start:\n  " + "\n  ".join(taken))
        processes = system_processes(env)
        # The internal API first, then the action server: the link between them is checked before
        # Rasa spends a minute loading, so a wrong INTERNAL_API_URL fails in seconds.
        processes.sort(key=lambda process: START_ORDER.index(process.name) if process.name in START_ORDER else 99)
        for process in processes:
            print(f"starting {process.name}: {STARTING.get(process.name, '')}", flush=True)
            began = time.monotonic()
            started.append(process.start())
            try:
                process.wait_ready(say=lambda text: print(f"  {text}", flush=True))
            except (RuntimeError, TimeoutError) as error:
                sys.exit(f"cannot start: {error}")
            print(f"  {process.name} is up ({time.monotonic() - began:.0f} s)", flush=True)
            if process.name == "actions":
                problem = intake_link_problem(env)
                if problem:
                    sys.exit(f"cannot start: the assistant could not answer a payment question.\n  {problem}")
        # Every process answers its own port; "ready" waits for a beneficiary's whole path.
        broken = wait_until_ready(env, READY_TIMEOUT_S, lambda text: print(f"  {text}", flush=True))
        if broken:
            lines = "\n  ".join(f"{name}: {why}" for name, why in broken.items())
            sys.exit(f"not ready after {READY_TIMEOUT_S:.0f} s:\n  {lines}")
        public = (env.get("PUBLIC_BASE_URL", "").strip() or f"http://127.0.0.1:{port}").rstrip("/")
        print(
            "\nLínea Ciudadana is ready (a payment question can be answered end to end):\n"
            f"  Twilio webhook   {public}/twilio/inbound\n"
            f"  Fallback URL     {public}/twilio/fallback"
            f" (its own process on 127.0.0.1:{fallback_port(env)})\n"
            f"  Health           http://127.0.0.1:{port}/healthz (liveness)\n"
            f"  Readiness        {internal_local_url(env)}/readyz (every link; internal listener)\n"
            f"  Rasa             {env['RASA_URL']}\n"
            f"  Action server    {env['ACTION_SERVER_URL']}\n"
            f"  Internal API     {env['INTERNAL_API_URL']} (the action server's only way in)\n"
            f"  Logs             {VAR / 'logs'}\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        while not stopping:
            for n, process in enumerate(started):
                if not process.popen or process.popen.poll() is None:
                    continue
                if process.name in RESTARTED:
                    # A supervisor's job, as compose's restart policy does: a worker whose consumer
                    # got stuck ends itself (worker/watchdog.py) and a fresh one takes over.
                    print(f"{process.name} exited ({process.popen.returncode}); starting it again", file=sys.stderr)
                    started[n] = replace(process, popen=None).start()  # the same command, niceness, log
                    continue
                print(f"{process.name} exited ({process.popen.returncode}); stopping", file=sys.stderr)
                stopping = True
            time.sleep(1)
    finally:
        for process in reversed(started):
            process.stop()
        print("stopped")
    return 0


def _wait_port(port: int, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not port_open("127.0.0.1", port):
        if time.monotonic() > deadline:
            sys.exit(f"Redis did not start on port {port}; see var/logs/redis.log")
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
