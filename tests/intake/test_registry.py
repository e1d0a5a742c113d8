"""Registry import: validation with file/line/column, all-or-nothing, idempotent upserts, demo data."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from intake.demo_registry import write_demo
from intake.geography import departments, municipalities
from intake.models import Household, Payment
from intake.registry import RegistryError, counts, import_files
from intake.runtime import Runtime


def _demo(tmp_path: Path, households: int = 40, seed: int = 3) -> tuple[Path, Path]:
    return write_demo(tmp_path / "demo", households, seed, date(2026, 3, 1), date(2026, 11, 25))


def _rewrite(path: Path, line: int, column: str, value: str) -> None:
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[line - 1][rows[0].index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def test_geography_has_the_18_departments_and_298_municipalities() -> None:
    assert len(departments()) == 18
    assert len(municipalities()) == 298
    assert len({m.code for m in municipalities()}) == 298


def test_demo_registry_is_deterministic_and_imports(tmp_path: Path, rt: Runtime) -> None:
    first = _demo(tmp_path / "a")
    second = _demo(tmp_path / "b")
    assert first[0].read_bytes() == second[0].read_bytes()
    assert first[1].read_bytes() == second[1].read_bytes()
    result = import_files(rt.engine, *first)
    assert result.households == 40
    assert result.payments > 40 * 3
    with rt.sessions() as session:
        statuses = set(session.scalars(select(Payment.status)))
    assert {"paid", "scheduled"} <= statuses


def test_reimporting_the_same_files_changes_nothing(tmp_path: Path, rt: Runtime) -> None:
    files = _demo(tmp_path)
    import_files(rt.engine, *files)
    before = counts(rt.engine)
    import_files(rt.engine, *files)
    assert counts(rt.engine) == before


def test_an_updated_file_updates_by_household_and_cycle(tmp_path: Path, rt: Runtime) -> None:
    beneficiaries, payments = _demo(tmp_path)
    import_files(rt.engine, beneficiaries, payments)
    _rewrite(beneficiaries, 2, "phone", "98765432")
    _rewrite(payments, 2, "amount_lps", "4321.50")
    import_files(rt.engine, beneficiaries, payments)
    with rt.sessions() as session:
        household = session.get_one(Household, "HH0000001")
        payment = session.scalars(
            select(Payment).where(Payment.household_id == "HH0000001").order_by(Payment.cycle)
        ).first()
    assert household.phone == "+50498765432"
    assert str(payment.amount_lps) == "4321.50"
    assert counts(rt.engine).households == 40


@pytest.mark.parametrize(
    ("which", "line", "column", "value"),
    [
        ("beneficiaries", 7, "dni", "0801-1990-1234"),
        ("beneficiaries", 3, "phone", "12345"),
        ("beneficiaries", 9, "status", "dead"),
        ("payments", 11, "scheduled_date", "2026-02-30"),
        ("payments", 5, "amount_lps", "mil"),
        ("payments", 4, "cycle", "2026-13"),
        ("payments", 6, "household_id", "HH9999999"),
    ],
)
def test_a_bad_value_names_file_line_and_column_and_changes_nothing(
    tmp_path: Path, rt: Runtime, which: str, line: int, column: str, value: str
) -> None:
    beneficiaries, payments = _demo(tmp_path)
    import_files(rt.engine, beneficiaries, payments)
    before = counts(rt.engine)
    with rt.sessions() as session:
        phones_before = sorted(session.scalars(select(Household.phone)))
    # A valid change elsewhere in the same files must not land either (all or nothing).
    _rewrite(beneficiaries, 2, "phone", "97776655")
    bad = beneficiaries if which == "beneficiaries" else payments
    _rewrite(bad, line, column, value)
    with pytest.raises(RegistryError) as error:
        import_files(rt.engine, beneficiaries, payments)
    assert str(error.value).startswith(f"{bad}: line {line}, column {column}:")
    assert counts(rt.engine) == before
    with rt.sessions() as session:
        assert sorted(session.scalars(select(Household.phone))) == phones_before


def test_a_wrong_header_is_reported_on_line_1(tmp_path: Path, rt: Runtime) -> None:
    beneficiaries, payments = _demo(tmp_path)
    text = beneficiaries.read_text(encoding="utf-8").replace("full_name", "nombre", 1)
    beneficiaries.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError, match=r"line 1: header must be .*missing full_name; unexpected nombre"):
        import_files(rt.engine, beneficiaries, payments)
    assert counts(rt.engine).households == 0


def test_a_short_row_is_reported_with_its_line(tmp_path: Path, rt: Runtime) -> None:
    beneficiaries, payments = _demo(tmp_path)
    with beneficiaries.open("a", encoding="utf-8") as handle:
        handle.write("HH1,0801199012345,Ana\n")
    with pytest.raises(RegistryError, match=r"line 42: expected 7 columns, found 3"):
        import_files(rt.engine, beneficiaries, payments)


def test_dni_and_phone_are_normalised(tmp_path: Path, rt: Runtime) -> None:
    beneficiaries, payments = _demo(tmp_path)
    _rewrite(beneficiaries, 2, "dni", "0801 1990 12345")
    _rewrite(beneficiaries, 2, "phone", "+504 9988-7766")
    import_files(rt.engine, beneficiaries, payments)
    with rt.sessions() as session:
        household = session.get_one(Household, "HH0000001")
    assert (household.dni, household.phone) == ("0801199012345", "+50499887766")
