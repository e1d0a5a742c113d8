"""What the benchmarks share: their Redis databases, Twilio-side constants, secrets, a fresh database."""

from __future__ import annotations

import secrets
from pathlib import Path

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
BROKER = "redis://127.0.0.1:6379/11"  # the benchmarks' Redis databases (docs/performance.md)
TRACKERS = "redis://127.0.0.1:6379/12"
# The Twilio side of a benchmark's system: the token webhooks are signed with, the public URL
# they are signed over, and the line's number.
TOKEN = "bench-auth-token-0123456789abcdef"
PUBLIC = "https://linea.example.hn"
LINE_NUMBER = "+50422220000"
# The secrets a benchmark's system is started with: long enough for intake.settings' checks,
# never used outside a benchmark.
SECRETS = {
    "PSEUDONYM_KEY": "bench-pseudonym-key-0123456789",
    "COMMITTEE_SAMPLE_KEY": "bench-committee-sample-key-0123456789",
    "INTERNAL_API_TOKEN": "bench-internal-token-0123456789",
    "RASA_API_TOKEN": "bench-rasa-api-token-0123456789abcdef",
    "ACTION_SERVER_TOKEN": "bench-action-server-token-0123456789",
}


def fresh_database(kind: str, directory: Path) -> str:
    """A new SQLite file in `directory`, or a new PostgreSQL database on the local server."""
    if kind == "sqlite":
        return f"sqlite:///{directory / 'bench.db'}"
    import psycopg

    name = "lc_bench_" + secrets.token_hex(4)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
