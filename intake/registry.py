"""The program's registry: validate beneficiary and payment CSV files and upsert them, all or nothing."""

from __future__ import annotations

import csv
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Connection, Engine, func, select, text

from intake.db import insert_on_conflict
from intake.identifiers import normalize_dni, normalize_phone
from intake.models import Household, Payment
from intake.progress import Progress

BENEFICIARY_COLUMNS = ["household_id", "dni", "full_name", "phone", "department", "municipality", "status"]
PAYMENT_COLUMNS = [
    "household_id",
    "cycle",
    "scheduled_date",
    "amount_lps",
    "status",
    "collection_point",
    "reason",
]
HOUSEHOLD_STATUSES = {"active", "suspended", "exited"}
PAYMENT_STATUSES = {"scheduled", "paid", "withheld", "suspended"}
CHUNK = 5000


class RegistryError(ValueError):
    """A registry file is wrong; the message names the file, line and column."""


@dataclass(frozen=True)
class ImportResult:
    households: int
    payments: int


def _fail(path: Path, line: int, column: str, problem: str) -> RegistryError:
    return RegistryError(f"{path}: line {line}, column {column}: {problem}")


def _rows(path: Path, columns: list[str], meter: Progress | None = None) -> Generator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) after checking the header names exactly `columns`."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise RegistryError(f"{path}: cannot be read ({exc.strerror})") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise RegistryError(f"{path}: line 1: the file is empty (expected a header)") from None
        except UnicodeDecodeError:
            raise RegistryError(f"{path}: line 1: not UTF-8 text") from None
        header = [name.strip() for name in header]
        if header != columns:
            missing = [c for c in columns if c not in header]
            extra = [c for c in header if c not in columns]
            detail = []
            if missing:
                detail.append("missing " + ", ".join(missing))
            if extra:
                detail.append("unexpected " + ", ".join(extra))
            if not detail:
                detail.append("columns out of order")
            raise RegistryError(f"{path}: line 1: header must be {','.join(columns)} ({'; '.join(detail)})")
        try:
            for row in reader:
                line = reader.line_num
                if not row or row == [""]:
                    continue
                if len(row) != len(columns):
                    raise RegistryError(f"{path}: line {line}: expected {len(columns)} columns, found {len(row)}")
                yield line, {name: value.strip() for name, value in zip(columns, row, strict=True)}
                if meter is not None:
                    meter.advance()
        except UnicodeDecodeError:
            raise RegistryError(f"{path}: line {reader.line_num + 1}: not UTF-8 text") from None
        except csv.Error as exc:
            raise RegistryError(f"{path}: line {reader.line_num}: {exc}") from None
    if meter is not None:
        meter.finish()


def parse_beneficiaries(path: Path, meter: Progress | None = None) -> list[dict[str, Any]]:
    """Every household of the file, validated; raises RegistryError at the first bad value."""
    seen: dict[str, int] = {}
    now = datetime.now(timezone.utc)
    out: list[dict[str, Any]] = []
    # closing(): the first bad value raises inside the loop, and the file must close then, not when collected.
    with closing(_rows(path, BENEFICIARY_COLUMNS, meter)) as rows:
        for line, row in rows:
            household_id = row["household_id"]
            if not household_id or len(household_id) > 32:
                raise _fail(path, line, "household_id", "must be 1 to 32 characters")
            if household_id in seen:
                raise _fail(path, line, "household_id", f"{household_id!r} repeats line {seen[household_id]}")
            seen[household_id] = line
            dni = normalize_dni(row["dni"])
            if dni is None:
                raise _fail(path, line, "dni", "must be 13 digits, like 0801-1990-12345")
            phone = normalize_phone(row["phone"])
            if phone is None:
                raise _fail(path, line, "phone", "must be E.164 (+504…) or 8 local digits")
            for column in ("full_name", "department", "municipality"):
                if not row[column]:
                    raise _fail(path, line, column, "is empty")
            status = row["status"].lower()
            if status not in HOUSEHOLD_STATUSES:
                raise _fail(path, line, "status", f"must be one of {', '.join(sorted(HOUSEHOLD_STATUSES))}")
            out.append(
                {
                    "household_id": household_id,
                    "dni": dni,
                    "full_name": row["full_name"],
                    "phone": phone,
                    "department": row["department"],
                    "municipality": row["municipality"],
                    "status": status,
                    "updated_at": now,
                }
            )
    return out


def _parse_cycle(value: str) -> bool:
    try:
        datetime.strptime(value, "%Y-%m")
    except ValueError:
        return False
    return len(value) == 7


def parse_payments(path: Path, known_households: set[str], meter: Progress | None = None) -> list[dict[str, Any]]:
    """Every payment of the file, validated against the households that will exist."""
    seen: dict[tuple[str, str], int] = {}
    out: list[dict[str, Any]] = []
    # closing(): the first bad value raises inside the loop, and the file must close then, not when collected.
    with closing(_rows(path, PAYMENT_COLUMNS, meter)) as rows:
        for line, row in rows:
            household_id = row["household_id"]
            if household_id not in known_households:
                raise _fail(path, line, "household_id", f"{household_id!r} is not in the registry")
            cycle = row["cycle"]
            if not _parse_cycle(cycle):
                raise _fail(path, line, "cycle", "must be YYYY-MM, like 2026-06")
            key = (household_id, cycle)
            if key in seen:
                raise _fail(path, line, "cycle", f"{household_id} {cycle} repeats line {seen[key]}")
            seen[key] = line
            try:
                scheduled = date.fromisoformat(row["scheduled_date"])
            except ValueError:
                raise _fail(path, line, "scheduled_date", "must be a date YYYY-MM-DD") from None
            try:
                amount = Decimal(row["amount_lps"])
            except InvalidOperation:
                raise _fail(path, line, "amount_lps", "must be a number of lempiras, like 2500.00") from None
            if not amount.is_finite() or amount < 0 or amount >= Decimal("100000000"):
                raise _fail(path, line, "amount_lps", "must be between 0 and 99,999,999.99")
            status = row["status"].lower()
            if status not in PAYMENT_STATUSES:
                raise _fail(path, line, "status", f"must be one of {', '.join(sorted(PAYMENT_STATUSES))}")
            if not row["collection_point"]:
                raise _fail(path, line, "collection_point", "is empty")
            out.append(
                {
                    "household_id": household_id,
                    "cycle": cycle,
                    "scheduled_date": scheduled,
                    "amount_lps": amount.quantize(Decimal("0.01")),
                    "status": status,
                    "collection_point": row["collection_point"],
                    "reason": row["reason"],
                }
            )
    return out


def _upsert(
    conn: Connection, table: Any, rows: list[dict[str, Any]], keys: list[str], meter: Progress | None = None
) -> None:
    dialect = conn.dialect.name
    if dialect not in ("postgresql", "sqlite"):
        raise RegistryError(f"registry import does not support the {dialect} database")
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        stmt = insert_on_conflict(dialect, table)
        updates = {c: stmt.excluded[c] for c in chunk[0] if c not in keys}
        conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=updates), chunk)
        if meter is not None:
            meter.advance(len(chunk))
    if meter is not None:
        meter.finish()


def data_lines(path: Path) -> int:
    """Lines after the header: the rows a progress bar expects (a quoted line break may make it
    one more than the rows; the bar ends where the file does either way)."""
    try:
        with path.open("rb") as handle:
            return max(sum(1 for _ in handle) - 1, 0)
    except OSError:
        return 0  # _rows says why, with the file's name


def import_files(engine: Engine, beneficiaries: Path, payments: Path, progress: TextIO | None = None) -> ImportResult:
    """Validate both files completely, then upsert them in one transaction. With `progress` (a
    stream), each step shows how far it got: a bar on a terminal, periodic lines otherwise."""

    def meter(what: str, total: int) -> Progress | None:
        return Progress(what, total, stream=progress) if progress is not None else None

    households = parse_beneficiaries(beneficiaries, meter(f"checking {beneficiaries.name}", data_lines(beneficiaries)))
    with engine.connect() as conn:
        existing = set(conn.execute(select(Household.household_id)).scalars())
    known = existing | {h["household_id"] for h in households}
    payment_rows = parse_payments(payments, known, meter(f"checking {payments.name}", data_lines(payments)))
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("PRAGMA defer_foreign_keys=ON"))
        if households:
            _upsert(
                conn, Household.__table__, households, ["household_id"], meter("writing households", len(households))
            )
        if payment_rows:
            keys = ["household_id", "cycle"]
            _upsert(conn, Payment.__table__, payment_rows, keys, meter("writing payments", len(payment_rows)))
        if progress is not None:
            progress.write("committing (nothing is saved until every row is)\n")
    return ImportResult(households=len(households), payments=len(payment_rows))


def counts(engine: Engine) -> ImportResult:
    with engine.connect() as conn:
        households = conn.execute(select(func.count()).select_from(Household)).scalar_one()
        payments = conn.execute(select(func.count()).select_from(Payment)).scalar_one()
    return ImportResult(households=households, payments=payments)
