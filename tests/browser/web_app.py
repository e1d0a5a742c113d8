"""The web app alone on a free port (no Rasa, no action server), as the browser tests run it: web_env, WebApp."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from intake.runtime import Runtime, set_runtime
from intake.settings import Settings
from stack.processes import Process, system_processes
from tests.env import base_env


def web_env(database_url: str, port: int) -> dict[str, str]:
    """The web app alone on `port` (no Rasa, no action server), as the browser tests start it."""
    return {
        **os.environ,
        **base_env(
            PORT=str(port),
            DATABASE_URL=database_url,
            PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
            LOG_LEVEL="WARNING",
            RASA_URL="http://127.0.0.1:1",
            ACTION_SERVER_URL="http://127.0.0.1:1",
        ),
    }


@dataclass
class WebApp:
    """The web app over `database_url`: a test sets its runtime, fills the database, then starts it."""

    database_url: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def runtime(self) -> Runtime:
        """This process's runtime on the app's settings (env as the test left it), set for the helpers."""
        rt = Runtime(Settings.from_env(self.env))
        set_runtime(rt)
        return rt

    def start(self) -> None:
        """The web process, started and answering (its log in `log_path`)."""
        self.process = system_processes(self.env)[2]
        self.process.log_path = self.log_path
        self.process.start().wait_ready(60)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
        set_runtime(None)
