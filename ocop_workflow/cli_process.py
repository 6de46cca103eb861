"""`ocop report process`: the process figures (issue #12, item 3) at the command line, the same numbers as
the page `/reports/process` and `GET /api/v1/reports/process` (`reports.process`).

Without `--as` the operator (the system actor) reads every area; with `--as EMAIL` the user's own area and
right to read reports apply, as on the web. The lead adds `process` to the `ocop report` group.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import click

from .cli import DAY, Context, cli_locale, fail, handle_errors, pass_ctx
from .formats import format_number
from .reports.process import period_problem, process_figures, report_json
from .services import directory
from .services.access import Actor, load_actor


def _sla(row, locale: str) -> str:
    units = {"working": ("ngày làm việc", "working days"), "calendar": ("ngày", "days")}
    return ", ".join(f"{days} {units.get(kind, (kind, kind))[locale == 'en']}" for days, kind in row.sla) or "—"


@click.command("process")
@click.option("--year", type=int, help="the year the stays ended (default: the as-of day's year)")
@click.option("--org", "org_code", help="code of the organisation whose area is counted (default: your area)")
@click.option(
    "--at", "at", type=DAY, help="as of this day, DD/MM/YYYY or YYYY-MM-DD (default: today); later history is ignored"
)
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.option("--as", "as_email", help="e-mail of the reading user (default: the operator, every area)")
@pass_ctx
@handle_errors
def process(ctx: Context, year: int | None, org_code: str | None, at, as_json: bool, as_email: str | None) -> None:
    """Process figures per stage and level: stays ended in the year, the share finished within the time
    limit, the median working days, and the stays still open and late as of the day."""
    locale = cli_locale()
    tz = ctx.settings.timezone
    today = datetime.now(ZoneInfo(tz)).date()
    day: date = at if at is not None else today
    problem = period_problem(day, year, today)
    if problem is not None:
        fail(problem.get(locale))
    registry = ctx.registry
    with ctx.db.session() as s:
        actor = load_actor(s, as_email, policy=registry.policy) if as_email else Actor.system_actor(registry.policy)
        org = directory.get_org(s, org_code) if org_code else None
        report = process_figures(s, registry, actor, day, year=year, org=org, tz=tz)
        if as_json:
            click.echo(json.dumps(report_json(report, locale), ensure_ascii=False, indent=2))
            return
        en = locale == "en"
        area = report.org.name if report.org is not None else ("every area" if en else "toàn bộ")
        click.echo(
            f"{'Process figures' if en else 'Số liệu quy trình'} {report.year} — {area} — "
            f"{'as of' if en else 'tính đến'} {report.at:%d/%m/%Y}"
        )
        heads = (
            ("Stage", "Level", "Limit", "Ended", "% within", "Median wd", "Open", "Late")
            if en
            else ("Bước", "Cấp", "Thời hạn", "Kết thúc", "% đúng hạn", "Trung vị ngày LV", "Đang mở", "Quá hạn")
        )
        lines = [heads]
        for r in report.rows:
            share = r.share_within
            lines.append(
                (
                    r.stage_label.get(locale),
                    r.level_label.get(locale),
                    _sla(r, locale),
                    format_number(r.ended, locale),
                    "—" if share is None else f"{format_number(share, locale, 1)} %",
                    format_number(r.median_days, locale),
                    format_number(r.open, locale),
                    format_number(r.late, locale) if r.sla else "—",
                )
            )
        widths = [max(len(line[i]) for line in lines) for i in range(len(heads))]
        for line in lines:
            click.echo(
                "  ".join(
                    cell.ljust(w) if i < 3 else cell.rjust(w)
                    for i, (cell, w) in enumerate(zip(line, widths, strict=True))
                )
            )
        if not report.rows:
            click.echo("(no stays)" if en else "(không có lượt nào)")
