"""Registry import rate: a synthetic registry (default 200,000 households, 2,400,000 payments) into a fresh DB.

    .venv/bin/python -m bench.import_rate --households 200000 --database sqlite
    .venv/bin/python -m bench.import_rate --households 200000 --database postgresql

Prints the time to generate the files, the time to import them (validation included), the
rows per second, the peak memory of the import, and the time of a second, idempotent import.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.common import fresh_database
from intake.db import engine_for
from intake.demo_registry import write_demo
from intake.migrations_runner import upgrade
from intake.registry import counts, import_files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=200_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--files", type=Path, help="reuse files written by an earlier run here")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="lc-import-"))
    files_dir = args.files or directory / "registry"
    started = time.perf_counter()
    if not (files_dir / "payments.csv").exists():
        write_demo(files_dir, args.households, seed=7, start=date(2026, 1, 1), today=date(2026, 11, 25))
    generated = time.perf_counter() - started
    database_url = fresh_database(args.database, directory)
    upgrade(database_url)
    engine = engine_for(database_url)

    started = time.perf_counter()
    result = import_files(engine, files_dir / "beneficiaries.csv", files_dir / "payments.csv")
    first = time.perf_counter() - started
    started = time.perf_counter()
    import_files(engine, files_dir / "beneficiaries.csv", files_dir / "payments.csv")
    second = time.perf_counter() - started
    total = counts(engine)
    rows = result.households + result.payments
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"database={args.database} households={total.households} payments={total.payments}")
    print(
        f"generate {generated:.1f}s; import {first:.1f}s ({rows / first:,.0f} rows/s); "
        f"re-import (idempotent) {second:.1f}s; peak RSS {peak_mb:,.0f} MB"
    )


if __name__ == "__main__":
    main()
