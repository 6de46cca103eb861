"""`ocop plan` and `ocop report plan`: plans, their targets and progress reports from the command line,
under the same services and scope as the web and the API (`--as EMAIL` acts as that user; without it the
trusted operator, who sees every plan).

Why a CLI: an office keeps its plans as files (YAML or the XLSX template) and loads them again when the
plan changes; a monthly report is a scheduled `ocop report plan ID --at … --xlsx …`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from .cli import DAY, Context, cli_locale, handle_errors, pass_ctx
from .cli_process import process
from .errors import InvalidData
from .formats import format_date, format_number
from .i18n import Text
from .reports import charts
from .reports import files as report_files_module
from .reports.indicators import BY_KEY, SHARE
from .reports.model import plain
from .reports.plans import (
    COMPARISON_LABELS,
    MAX_FILE_BYTES,
    PlanFileError,
    read_plan,
    write_plan_xlsx,
)
from .services import directory, plans
from .services.access import Actor, load_actor


def _actor(ctx: Context, s, email: str | None) -> Actor:
    if email is None:
        return Actor.system_actor(ctx.registry.policy)
    return load_actor(s, email, policy=ctx.registry.policy)


def _today(ctx: Context) -> date:
    return datetime.now(ZoneInfo(ctx.settings.timezone)).date()


def _years(first: int, last: int) -> str:
    """A plan's period: "2022–2025", or "2023" for a one-year plan."""
    return str(first) if first == last else f"{first}–{last}"


def _write(path: Path, content: bytes) -> None:
    """Write a file, or one error line (never a traceback) when the folder is missing or not writable."""
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise InvalidData(
            Text(f"Không ghi được tệp {path}: {exc.strerror}", f"Cannot write the file {path}: {exc.strerror}")
        ) from None


def _make_folder(path: Path) -> None:
    """The CSV folder: created when missing, but only its last level (a mistyped parent is refused, not
    created silently)."""
    try:
        path.mkdir(exist_ok=True)
    except FileNotFoundError:
        raise InvalidData(
            Text(
                f"Không tạo được thư mục {path}: thư mục cha {path.parent} không tồn tại",
                f"Cannot create the folder {path}: its parent {path.parent} does not exist",
            )
        ) from None
    except OSError as exc:
        raise InvalidData(
            Text(f"Không tạo được thư mục {path}: {exc.strerror}", f"Cannot create the folder {path}: {exc.strerror}")
        ) from None


def _failed_file(exc: PlanFileError) -> None:
    for problem in exc.problems:
        click.echo(problem.get(cli_locale()), err=True)
    sys.exit(1)


# --- plan ------------------------------------------------------------------------------------------------
@click.group("plan")
def plan() -> None:
    """Plans and their targets (kế hoạch, đề án OCOP)."""


@plan.command("list")
@click.option("--as", "as_email", help="list as this user (default: every plan)")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def plan_list(ctx: Context, as_email: str | None, as_json: bool) -> None:
    """The plans visible to the user, newest period first."""
    locale = cli_locale()
    with ctx.db.session() as s:
        rows = [
            {
                "id": p.id,
                "name": p.name,
                "basis_number": p.basis_number,
                "basis_date": p.basis_date.isoformat(),
                "organisation": p.organisation.code,
                "body": p.body,
                "first_year": p.first_year,
                "last_year": p.last_year,
                "targets": len(p.targets),
            }
            for p in plans.visible_plans(s, _actor(ctx, s, as_email))
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(
            f"#{r['id']}  {_years(r['first_year'], r['last_year'])}  {r['organisation']}  {r['name']}  "
            f"({r['basis_number']}, {format_date(date.fromisoformat(r['basis_date']), locale)}; "
            f"{r['targets']} {'targets' if locale == 'en' else 'chỉ tiêu'})"
        )


def _target_text(indicator: str, comparison: str, low, high, locale: str) -> str:
    n = lambda v: format_number(v, locale)  # noqa: E731
    unit = "%" if BY_KEY[indicator].unit == SHARE else ""
    word = COMPARISON_LABELS[comparison].get(locale)
    if comparison == "between":
        return f"{word} {n(low)}–{n(high)}"
    return f"{word} {n(high if comparison == 'at_most' else low)}{unit}"


@plan.command("show")
@click.argument("plan_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--as", "as_email")
@pass_ctx
@handle_errors
def plan_show(ctx: Context, plan_id: int, as_email: str | None) -> None:
    """A plan and its targets."""
    locale = cli_locale()
    en = locale == "en"
    with ctx.db.session() as s:
        p = plans.get_visible_plan(s, _actor(ctx, s, as_email), plan_id)
        click.echo(f"#{p.id} {p.name}")
        click.echo(
            f"{'basis' if en else 'căn cứ'}: {p.basis_number} ({format_date(p.basis_date, locale)}); "
            f"{p.organisation.name} ({p.organisation.code}), "
            f"{report_files_module.BODY_LABELS[p.body].get(locale)}; {_years(p.first_year, p.last_year)}"
        )
        for i, t in enumerate(p.targets, start=1):
            year = str(t.year) if t.year is not None else report_files_module.WHOLE_PERIOD.get(locale)
            line = (
                f"{i:>3}. {BY_KEY[t.indicator].label.get(locale)} [{t.indicator}] — {t.organisation.code}, {year}: "
                f"{_target_text(t.indicator, t.comparison, t.low, t.high, locale)}"
            )
            click.echo(line + (f"  ({t.note})" if t.note else ""))


def _read_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InvalidData(Text("Tệp kế hoạch quá lớn (tối đa 2 MB)", "The plan file is too large (2 MB at most)"))
        return path.read_bytes()
    except OSError as exc:
        raise InvalidData(
            Text(f"Không đọc được {path}: {exc.strerror}", f"Cannot read {path}: {exc.strerror}")
        ) from None


@plan.command("load")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--as", "as_email", required=True, help="e-mail of the acting user (manage_plans on the owner)")
@pass_ctx
@handle_errors
def plan_load(ctx: Context, path: Path, as_email: str) -> None:
    """Load a plan from YAML or XLSX: create it, or replace the targets of the plan with the same
    organisation and name. Every problem is printed with its line or cell; nothing is loaded then."""
    data = _read_file(path)
    try:
        with ctx.db.transaction() as s:
            loaded = plans.load_plan(s, _actor(ctx, s, as_email), read_plan(data, path.name))
            click.echo(f"plan #{loaded.id} {loaded.name}: {len(loaded.targets)} targets")
    except PlanFileError as exc:
        _failed_file(exc)


@plan.command("check")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@handle_errors
def plan_check(path: Path) -> None:
    """Check a plan file without loading it (the database checks of organisations are `load`'s)."""
    source = read_plan(_read_file(path), path.name)
    if source.problems:
        _failed_file(PlanFileError(source.problems))
    click.echo(f"{path}: {len(source.targets)} targets")


@plan.command("template")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--plan", "plan_id", type=click.IntRange(1, 2**31 - 1), help="fill it with this plan's targets")
@click.option("--as", "as_email")
@pass_ctx
@handle_errors
def plan_template(ctx: Context, path: Path, plan_id: int | None, as_email: str | None) -> None:
    """Write the XLSX template of a plan (empty, or a stored plan's) to PATH."""
    source = None
    if plan_id is not None:
        with ctx.db.session() as s:
            source = plans.source_of(plans.get_visible_plan(s, _actor(ctx, s, as_email), plan_id))
    content = write_plan_xlsx(source, cli_locale())
    _write(path, content)
    click.echo(f"{path} ({len(content)} bytes)")


@plan.command("delete")
@click.argument("plan_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--as", "as_email", required=True)
@pass_ctx
@handle_errors
def plan_delete(ctx: Context, plan_id: int, as_email: str) -> None:
    """Delete a plan and its targets (the records it measured stay)."""
    with ctx.db.transaction() as s:
        plans.delete_plan(s, _actor(ctx, s, as_email), plan_id)
    click.echo(f"plan #{plan_id} deleted")


# --- report ----------------------------------------------------------------------------------------------
@click.group("report")
def report() -> None:
    """Progress reports of plans, and the process figures of each stage."""


report.add_command(process)  # `ocop report process`: per stage, the share finished within its time limit


def _print_report(made, locale: str) -> None:
    r = made.report
    en = locale == "en"
    click.echo(f"#{r.plan_id} {r.plan_name}")
    click.echo(
        f"{'area' if en else 'địa bàn'}: {r.organisation.name} ({r.organisation.code}); "
        f"{'as of' if en else 'đến ngày'} {format_date(r.at, locale)}"
    )
    rows = report_files_module.summary_rows(r, locale, made.originals)
    for row, t in zip(rows, r.targets, strict=True):
        actual = charts.value_text(BY_KEY[t.indicator].unit, t.figure.value, locale)  # the page's rounding
        click.echo(
            f"{row[0]:>3}. {row[1]} — {row[2]}, {row[3]}: {row[4]} | {actual} | "
            f"{format_number(round(t.progress * 100), locale)}% | {row[7]}"
        )
    if r.units:
        click.echo("units by progress:" if en else "đơn vị theo tiến độ:")
        for rank, name, progress, behind in report_files_module.unit_rows(r):
            click.echo(f"{rank:>3}. {name}: {format_number(round(progress * 100), locale)}% ({behind})")


@report.command("plan")
@click.argument("plan_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--at", "at", type=DAY, help="DD/MM/YYYY or YYYY-MM-DD (default: today)")
@click.option("--org", "org_code", help="code of the area reported on (default: the user's own)")
@click.option("--xlsx", "xlsx_path", type=click.Path(path_type=Path, dir_okay=False), help="write the workbook")
@click.option("--csv", "csv_dir", type=click.Path(path_type=Path, file_okay=False), help="write CSV tables here")
@click.option("--json", "as_json", is_flag=True)
@click.option("--as", "as_email")
@pass_ctx
@handle_errors
def report_plan(ctx: Context, plan_id: int, at, org_code, xlsx_path, csv_dir, as_json, as_email) -> None:
    """A plan's progress report as of a day: a table here, or --xlsx FILE, --csv DIR, --json."""
    if sum(bool(x) for x in (xlsx_path, csv_dir, as_json)) > 1:
        raise click.UsageError("give at most one of --xlsx, --csv, --json")
    locale = cli_locale()
    with ctx.db.session() as s:
        actor = _actor(ctx, s, as_email)
        found = plans.get_visible_plan(s, actor, plan_id)
        org = directory.get_org(s, org_code) if org_code else None
        made = plans.report_files(s, actor, found, at or _today(ctx), org)
    if xlsx_path:
        content = report_files_module.build_xlsx(made, locale)
        _write(xlsx_path, content)
        click.echo(f"{xlsx_path} ({len(content)} bytes)")
    elif csv_dir:
        _make_folder(csv_dir)
        for name, content in report_files_module.build_csv_tables(made, locale).items():
            _write(csv_dir / name, content)
            click.echo(f"{csv_dir / name} ({len(content)} bytes)")
    elif as_json:
        body = asdict(made.report)
        body["members"] = {str(k): [asdict(m) for m in v] for k, v in made.members.items()}
        click.echo(json.dumps(plain(body), ensure_ascii=False, indent=2))
    else:
        _print_report(made, locale)
