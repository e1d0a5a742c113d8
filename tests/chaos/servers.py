"""Private PostgreSQL and Redis servers for the chaos suite, so faults never touch the machine's own."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis

from stack.processes import Process, free_port, redis_process


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; the machine's `postgres` user may run them.
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


def postgres_unavailable_reason() -> str | None:
    """Why a private cluster cannot be made here, or None."""
    for tool in ("initdb", "pg_ctl"):
        if shutil.which(tool) is None:
            return f"{tool} is not on PATH"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run initdb as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing"
    return None


@dataclass
class PrivatePostgres:
    """A throwaway cluster on a free port, trust auth, that a test may stop and start at will."""

    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        # connect_timeout: a stopped server refuses at once, but bound any wait below Twilio's 15 s.
        return f"postgresql://postgres@127.0.0.1:{self.port}/chaos?connect_timeout=3"

    @classmethod
    def create(cls) -> PrivatePostgres:
        root = Path(tempfile.mkdtemp(prefix="lc-chaos-pg-"))
        root.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        server = cls(root, free_port())
        subprocess.run(
            _as_postgres(["initdb", "-D", str(server.data), "-A", "trust", "-U", "postgres", "--no-sync"]),
            check=True,
            capture_output=True,
        )
        server.start()
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{server.port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE chaos")
        return server

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        log = str(self.root / "pg.log")
        subprocess.run(
            _as_postgres(["pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start"]),
            check=True,
            capture_output=True,
        )

    def stop(self, mode: str = "immediate") -> None:
        # "immediate" is a crash as far as clients see it: connections cut, crash recovery at start.
        subprocess.run(
            _as_postgres(["pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop"]), check=False, capture_output=True
        )

    def destroy(self) -> None:
        self.stop("fast")
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class PrivateRedis:
    """Our own redis-server (AOF on, as the broker should be), to kill, restart and SIGSTOP."""

    directory: Path
    port: int
    process: Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        process = redis_process(self.port, self.directory)
        process.log_path = self.directory / "redis.log"
        self.process = process.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return self
            except redis.RedisError:
                time.sleep(0.1)
        raise TimeoutError(f"redis on {self.port} did not start; see {process.log_path}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()

    def pause(self) -> None:
        assert self.process is not None and self.process.popen is not None
        os.kill(self.process.popen.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None and self.process.popen is not None
        os.kill(self.process.popen.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            self.resume()  # a stopped process cannot act on SIGTERM
            self.process.stop()
