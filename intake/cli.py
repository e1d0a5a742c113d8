"""CLI commands (flask --app intake): db, registry, staff, cases, tally, retention, spool, notices."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask import Flask

from intake.authz import DEFAULT_TEAMS, ROLES
from intake.case_states import CaseState
from intake.cli_notices import notices_cli
from intake.migrations_runner import upgrade
from intake.registry import RegistryError, counts, import_files
from intake.runtime import runtime


def register(app: Flask) -> None:
    app.cli.add_command(tally)
    app.cli.add_command(db)
    app.cli.add_command(registry)
    app.cli.add_command(staff)
    app.cli.add_command(cases)
    app.cli.add_command(retention)
    app.cli.add_command(spool)
    app.cli.add_command(notices_cli, name="notices")


@click.group(help="Staff who handle cases.")
def staff() -> None:
    pass


@staff.command("demo", help="Add demo agents and supervisors to every team (only if there is no staff).")
def staff_demo() -> None:
    from intake.demo_staff import create_demo_staff

    with runtime().sessions() as session, session.begin():
        added = create_demo_staff(session)
    click.echo(f"added {added} demo staff" if added else "staff already exists; nothing added")


@staff.command("create", help="Create a staff account (the first admin too); prints the TOTP enrolment URI.")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--team", default=None, help="team code (default: administracion for admin, comite for committee)")
@click.option("--department", default=None, help="the office's department (agents of regional offices)")
@click.password_option(help="at least 12 characters")
def staff_create(email: str, name: str, role: str, team: str | None, department: str | None, password: str) -> None:
    from sqlalchemy import select as sa_select

    from intake.accounts import AccountError, create_account
    from intake.models import Staff, Team

    team = team or DEFAULT_TEAMS.get(role)
    with runtime().sessions() as session, session.begin():
        if team is None or session.get(Team, team) is None:
            raise click.BadParameter(f"unknown team {team!r}", param_hint="--team")
        member = session.scalar(sa_select(Staff).where(Staff.email == email.lower()))
        if member is None:
            member = Staff(name=name, email=email.lower(), team_code=team, role=role, department=department)
            session.add(member)
            session.flush()
        try:
            uri = create_account(session, member, password)
        except AccountError as error:
            raise click.BadParameter(str(error), param_hint="--password") from None
    click.echo(f"account ready for {email}; add it to an authenticator app with this URI:\n{uri}")


@click.group(help="Cases, read-only from the command line (staff work them at /staff/).")
def cases() -> None:
    pass


@cases.command("list", help="Routed cases: reference, type, category, place, team, assignee, deadline, light.")
@click.option("--state", type=click.Choice([s.value for s in CaseState]), default=None, help="only cases in this state")
@click.option("--limit", type=int, default=50, show_default=True)
def cases_list(state: str | None, limit: int) -> None:
    from intake.case_listing import case_rows

    with runtime().sessions() as session:
        rows = case_rows(session, runtime().now(), state, limit)
    if not rows:
        click.echo("no cases")
        return
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))


@click.group(help="The public tally.")
def tally() -> None:
    pass


@tally.command("snapshot", help="Publish a snapshot of the figures now (beat does it daily).")
@click.option("--k", type=click.IntRange(2, 100), default=10, show_default=True, help="smallest count published")
def tally_snapshot(k: int) -> None:
    import time

    from intake.tally import take_snapshot

    started = time.monotonic()

    def say(message: str) -> None:
        # A million cases take most of a minute: each phase says what it is doing, and since when.
        click.echo(f"[{time.monotonic() - started:5.1f} s] {message}", err=True)

    with runtime().sessions() as session, session.begin():
        snapshot_id = take_snapshot(session, runtime().now(), k, say)
    click.echo(f"published snapshot {snapshot_id} in {time.monotonic() - started:.1f} s")


@tally.command(
    "report",
    help="Write a month's report (YYYY-MM) as PDF: the published one if the committee signed it, else a draft.",
)
@click.argument("month")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True, help="PDF file to write")
def tally_report(month: str, out: str) -> None:
    from pathlib import Path

    from intake.models import MonthlyReport
    from intake.monthly_report import NoSuchMonth, draft

    with runtime().sessions() as session:
        stored = session.get(MonthlyReport, month)
        if stored is not None:
            pdf, what = stored.pdf, f"published report of {month} (sha256 {stored.sha256})"
        else:
            try:
                pdf, what = draft(session, month), f"draft of {month} (not signed, not published)"
            except NoSuchMonth as error:
                raise click.ClickException(str(error)) from None
    Path(out).write_bytes(pdf)
    click.echo(f"wrote the {what} to {out}")


@click.group(help="Database schema.")
def db() -> None:
    pass


@db.command("upgrade", help="Apply Alembic migrations up to the newest.")
def db_upgrade() -> None:
    upgrade(runtime().settings.database_url)
    click.echo("database is at the newest schema")


@click.group(help="The program's beneficiary and payment registry.")
def registry() -> None:
    pass


@registry.command("import", help="Import BENEFICIARIES.csv and PAYMENTS.csv (all or nothing, idempotent).")
@click.argument("beneficiaries", type=click.Path(path_type=Path))
@click.argument("payments", type=click.Path(path_type=Path))
def registry_import(beneficiaries: Path, payments: Path) -> None:
    try:
        # Progress on stderr (a bar on a terminal, a line every few seconds in a log); the result on stdout.
        result = import_files(runtime().engine, beneficiaries, payments, progress=sys.stderr)
    except RegistryError as exc:
        click.echo(f"error: {exc}", err=True)
        click.echo("nothing was changed", err=True)
        sys.exit(1)
    total = counts(runtime().engine)
    click.echo(
        f"imported {result.households} households and {result.payments} payments "
        f"(registry now holds {total.households} households, {total.payments} payments)"
    )


@registry.command("demo", help="Write a deterministic synthetic registry in the import CSV format.")
@click.option("--households", type=click.IntRange(1, 5_000_000), default=1000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("var/demo"), show_default=True)
@click.option("--start", help="first cycle, YYYY-MM (default: nine months before this one)")
@click.option("--today", help="date that splits paid from scheduled, YYYY-MM-DD (default: today)")
def registry_demo(households: int, seed: int, out: Path, start: str | None, today: str | None) -> None:
    from intake.demo_registry import write_demo

    try:
        start_date = date.fromisoformat(f"{start}-01") if start else None
        today_date = date.fromisoformat(today) if today else None
    except ValueError:
        raise click.BadParameter("--start is YYYY-MM and --today is YYYY-MM-DD") from None
    from intake.progress import Progress

    meter = Progress("writing demo households", households, unit="households", stream=sys.stderr)
    bpath, ppath = write_demo(out, households, seed, start_date, today_date, meter=meter)
    click.echo(f"wrote {bpath} and {ppath}")


@click.group(help="Retention: remove personal data the line no longer needs (periods in .env.example).")
def retention() -> None:
    pass


@retention.command("purge", help="Remove what is past its retention period; prints counts per kind, never contents.")
@click.option("--dry-run", is_flag=True, help="only count what would be removed")
def retention_purge(dry_run: bool) -> None:
    from intake.retention import purge

    rt = runtime()
    with rt.sessions() as session:  # purge commits batch by batch
        report = purge(session, rt.settings, rt.now(), dry_run=dry_run)
    for line in report.lines():
        click.echo(line)


@click.group(help="Messages Twilio's Fallback URL spooled while the database was down.")
def spool() -> None:
    pass


@spool.command("import", help="Store the spooled messages once each and enqueue them (beat does it every minute).")
def spool_import() -> None:
    from intake.recovery import import_spool

    rt = runtime()
    s = rt.settings
    report = import_spool(rt.sessions, Path(s.spool_dir), s.pseudonym_key, s.redis_url, rt.now())
    click.echo(report.line())
