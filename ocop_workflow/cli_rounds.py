"""`ocop council`, `ocop round`, `ocop sheet`: a council's work from the command line, under the same
services and rules as the web and the API (the acting user is `--as EMAIL`).

Why a CLI for this at all: councils that meet on paper type their members' sheets in afterwards
(`ocop sheet submit --from-xlsx`, on the form `ocop sheet template` writes), and a provincial
office scripts its rounds. Listing and showing without `--as` act as the trusted operator (the
system actor), like the CLI's other administration commands; every change names its user.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from .cli import Context, cli_locale, handle_errors, pass_ctx
from .errors import InvalidData
from .exports import (
    build_minutes,
    build_sheets_xlsx,
    close_round_and_file_minutes,
    read_sheet_xlsx,
    template_filename,
    template_xlsx,
)
from .exports.common import number, stars
from .exports.sheets import MAX_FORM_BYTES
from .formats import format_number
from .i18n import Text
from .services import councils, directory, rounds, sheets
from .services.access import Actor, load_actor
from .services.certificates import local_day
from .services.rounds import OUTCOME_LABELS, STATUS_LABELS

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _actor(ctx: Context, s, email: str | None) -> Actor:
    if email is None:
        return Actor.system_actor(ctx.registry.policy)
    return load_actor(s, email, policy=ctx.registry.policy)


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _today(ctx: Context) -> date:
    return datetime.now(ZoneInfo(ctx.settings.timezone)).date()


def _write(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    click.echo(f"{path} ({len(content)} bytes)")


# --- council ----------------------------------------------------------------------------------
@click.group()
def council() -> None:
    """Evaluation councils (hội đồng) and their members."""


@council.command("create")
@click.option("--org", "org_code", required=True, help="code of the organisation the council belongs to")
@click.option("--name", required=True)
@click.option("--decision-number", required=True, help="number of the establishment decision")
@click.option("--decision-date", required=True, type=DATE, help="YYYY-MM-DD")
@click.option("--valid-from", type=DATE, help="YYYY-MM-DD (default: the decision date)")
@click.option("--valid-until", type=DATE, help="YYYY-MM-DD (default: open-ended)")
@click.option("--as", "as_email", required=True, help="e-mail of the acting user")
@pass_ctx
@handle_errors
def council_create(ctx: Context, org_code, name, decision_number, decision_date, valid_from, valid_until, as_email):
    """Set up a council by its establishment decision."""
    with ctx.db.transaction() as s:
        found = councils.create_council(
            s,
            _actor(ctx, s, as_email),
            organisation_id=directory.get_org(s, org_code).id,
            name=name,
            decision_number=decision_number,
            decision_date=decision_date.date(),
            valid_from=_day(valid_from),
            valid_until=_day(valid_until),
        )
        click.echo(f"council #{found.id} {found.name} ({found.decision_number})")


@council.command("member")
@click.argument("council_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--user", "user_email", required=True, help="e-mail of the member")
@click.option(
    "--position", type=click.Choice(["chair", "vice_chair", "member", "secretary"]), help="seat or change position"
)
@click.option("--remove", is_flag=True, help="take the user off the council")
@click.option("--as", "as_email", required=True)
@pass_ctx
@handle_errors
def council_member(ctx: Context, council_id: int, user_email: str, position, remove: bool, as_email: str) -> None:
    """Seat a member (--position) or take them off (--remove)."""
    if remove == (position is not None):
        raise click.UsageError("give either --position or --remove")
    with ctx.db.transaction() as s:
        who = _actor(ctx, s, as_email)
        if remove:
            councils.remove_member(s, who, council_id, user_email)
            click.echo(f"council #{council_id}: {user_email} removed")
        else:
            seat = councils.set_member(s, who, council_id, user_email, position)
            label = ctx.registry.policy.council.positions[seat.position].get(cli_locale())
            click.echo(f"council #{council_id}: {user_email} — {label}")


@council.command("list")
@click.option("--as", "as_email", help="list as this user (default: every council)")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def council_list(ctx: Context, as_email: str | None, as_json: bool) -> None:
    """The councils and their members."""
    with ctx.db.session() as s:
        rows = [
            {
                "id": c.id,
                "name": c.name,
                "organisation": c.organisation.code,
                "level": c.level,
                "decision_number": c.decision_number,
                "decision_date": c.decision_date.isoformat(),
                "members": [{"email": m.user.email, "position": m.position} for m in c.members],
            }
            for c in councils.list_councils(s, _actor(ctx, s, as_email))
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"#{r['id']:<4} {r['organisation']:<8} {r['decision_number']:<16} {r['name']}")
        for m in r["members"]:
            click.echo(f"      {m['position']:<11} {m['email']}")


# --- round ------------------------------------------------------------------------------------
@click.group("round")
def round_group() -> None:
    """Evaluation rounds (đợt đánh giá): products, opening, closing, minutes."""


@round_group.command("create")
@click.option("--council", "council_id", required=True, type=click.IntRange(1, 2**31 - 1))
@click.option("--name", required=True)
@click.option("--meeting-date", required=True, type=DATE, help="YYYY-MM-DD")
@click.option("--as", "as_email", required=True)
@pass_ctx
@handle_errors
def round_create(ctx: Context, council_id: int, name: str, meeting_date: datetime, as_email: str) -> None:
    """Create a round (draft) of a council for a meeting date."""
    with ctx.db.transaction() as s:
        who = _actor(ctx, s, as_email)
        found = rounds.create_round(s, who, council_id, name=name, meeting_date=meeting_date.date())
        click.echo(f"round #{found.id} {found.name} ({found.meeting_date:%d/%m/%Y}), draft")


@round_group.command("add")
@click.argument("round_id", type=click.IntRange(1, 2**31 - 1))
@click.argument("product_ids", nargs=-1, required=True, type=click.IntRange(1, 2**31 - 1))
@click.option("--as", "as_email", required=True)
@pass_ctx
@handle_errors
def round_add(ctx: Context, round_id: int, product_ids: tuple[int, ...], as_email: str) -> None:
    """Add products (at the council's review, with complete dossiers) to a round."""
    with ctx.db.transaction() as s:
        who = _actor(ctx, s, as_email)
        for pid in product_ids:
            entry = rounds.add_product(s, ctx.registry, who, round_id, pid, today=_today(ctx))
            click.echo(f"round #{round_id}: product #{pid} added (sheet {entry.sheet_key})")


@round_group.command("list")
@click.option("--status", type=click.Choice(["draft", "open", "closed"]))
@click.option("--as", "as_email")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def round_list(ctx: Context, status: str | None, as_email: str | None, as_json: bool) -> None:
    """The rounds, latest meeting first."""
    locale = cli_locale()
    with ctx.db.session() as s:
        rows = [
            {
                "id": r.id,
                "name": r.name,
                "council_id": r.council_id,
                "council": r.council.name,
                "meeting_date": r.meeting_date.isoformat(),
                "status": r.status,
                "status_label": STATUS_LABELS[r.status].get(locale),
            }
            for r in rounds.list_rounds(s, _actor(ctx, s, as_email), status=status)
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"#{r['id']:<4} {r['meeting_date']} {r['status']:<7} {r['name']} — {r['council']}")


@round_group.command("show")
@click.argument("round_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--as", "as_email")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def round_show(ctx: Context, round_id: int, as_email: str | None, as_json: bool) -> None:
    """A round's products: who has scored, the quorum, and once closed the average, star and outcome."""
    locale = cli_locale()
    with ctx.db.session() as s:
        view = rounds.round_view(s, ctx.registry, _actor(ctx, s, as_email), round_id)
        found = view.round
        data = {
            "id": found.id,
            "name": found.name,
            "council": view.council.name,
            "meeting_date": found.meeting_date.isoformat(),
            "status": found.status,
            "products": [
                {
                    "id": ev.product.id,
                    "name": ev.product.name,
                    "status": ev.entry.status,
                    "submitted": len(ev.tally.submitted),
                    "recused": len(ev.tally.recused),
                    "members": ev.tally.members,
                    "needed": ev.tally.needed,
                    "average": ev.entry.average,
                    "star": ev.entry.star,
                    "outcome": ev.entry.outcome,
                    "left": ev.left.get(locale) if ev.left is not None else None,
                }
                for ev in view.entries
            ],
        }
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"#{data['id']} {data['name']} — {data['council']}, {data['meeting_date']}, {data['status']}")
    for p in data["products"]:
        line = f"  #{p['id']:<5} {p['name']:<32} {p['submitted']}/{p['members']} (quorum {p['needed']})"
        if p["status"] == "closed":
            outcome = OUTCOME_LABELS[p["outcome"]].get(locale) if p["outcome"] in OUTCOME_LABELS else ""
            line += f"  {number(p['average'], locale)}  {stars(p['star'], locale)}  {outcome}"
        elif p["left"]:
            line += f"  {p['left']}"
        click.echo(line)


@round_group.command("open")
@click.argument("round_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--as", "as_email", required=True)
@pass_ctx
@handle_errors
def round_open(ctx: Context, round_id: int, as_email: str) -> None:
    """Open the round for scoring (at least one working day before the meeting)."""
    with ctx.db.transaction() as s:
        rounds.open_round(s, _actor(ctx, s, as_email), round_id, today=_today(ctx))
        click.echo(f"round #{round_id}: open for scoring")


@round_group.command("close")
@click.argument("round_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--product", "product_id", type=click.IntRange(1, 2**31 - 1), help="close this product's scoring")
@click.option("--as", "as_email", required=True, help="the council's secretary")
@pass_ctx
@handle_errors
def round_close(ctx: Context, round_id: int, product_id: int | None, as_email: str) -> None:
    """Close a product's scoring (--product), or the round (its minutes go into each dossier)."""
    locale = cli_locale()
    with ctx.db.transaction() as s:
        who = _actor(ctx, s, as_email)
        if product_id is not None:
            entry = rounds.close_product(s, ctx.registry, who, round_id, product_id)
            outcome = OUTCOME_LABELS[entry.outcome].get(locale) if entry.outcome in OUTCOME_LABELS else ""
            click.echo(
                f"round #{round_id}: product #{product_id} closed — {number(entry.average, locale)}, "
                f"{stars(entry.star, locale)}, {outcome} → {entry.to_state}"
            )
            return
        st = ctx.settings
        _found, filed = close_round_and_file_minutes(
            s, ctx.registry, who, round_id, upload_dir=st.upload_dir, max_bytes=st.max_upload_bytes
        )
        click.echo(f"round #{round_id}: closed; minutes filed in {len(filed)} dossiers")


@round_group.command("minutes")
@click.argument("round_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as", "as_email")
@pass_ctx
@handle_errors
def round_minutes(ctx: Context, round_id: int, out: Path, as_email: str | None) -> None:
    """Write the round's minutes (DOCX)."""
    with ctx.db.session() as s:
        view = rounds.round_view(s, ctx.registry, _actor(ctx, s, as_email), round_id)
        content = build_minutes(view, ctx.registry, cli_locale())
    _write(out, content)


@round_group.command("sheets")
@click.argument("round_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as", "as_email")
@pass_ctx
@handle_errors
def round_sheets(ctx: Context, round_id: int, out: Path, as_email: str | None) -> None:
    """Write every score sheet of the round (XLSX; marks only for closed products)."""
    with ctx.db.session() as s:
        view = rounds.round_view(s, ctx.registry, _actor(ctx, s, as_email), round_id)
        content = build_sheets_xlsx(view, ctx.registry, cli_locale())
    _write(out, content)


# --- sheet ------------------------------------------------------------------------------------
@click.group()
def sheet() -> None:
    """A council member's score sheets; the paper form and typing it in."""


def _pick_column(columns: dict[str, dict[str, float]], email: str) -> dict[str, float]:
    if len(columns) == 1:
        return next(iter(columns.values()))
    for heading, answers in columns.items():
        if heading.strip().lower() == email.strip().lower():
            return answers
    names = ", ".join(columns)
    raise InvalidData(
        Text(
            f"Tệp có nhiều cột điểm ({names}); không có cột nào mang tiêu đề {email}",
            f"The file has several score columns ({names}); none is headed {email}",
        )
    )


@sheet.command("submit")
@click.argument("round_id", type=click.IntRange(1, 2**31 - 1))
@click.argument("product_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--as", "as_email", required=True, help="the member whose sheet this is")
@click.option(
    "--from-xlsx",
    "xlsx",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the filled form (`ocop sheet template`); with one column per member, the one headed with --as",
)
@click.option("--draft", is_flag=True, help="save as a draft instead of submitting")
@pass_ctx
@handle_errors
def sheet_submit(ctx: Context, round_id: int, product_id: int, as_email: str, xlsx: Path, draft: bool) -> None:
    """Type in a member's paper sheet from an XLSX form and submit it (or save a draft)."""
    with xlsx.open("rb") as fh:
        data = fh.read(MAX_FORM_BYTES + 1)
    with ctx.db.transaction() as s:
        who = _actor(ctx, s, as_email)
        view = sheets.sheet_view(s, ctx.registry, who, round_id, product_id)
        answers = _pick_column(read_sheet_xlsx(data, view.criteria), as_email)
        saved = sheets.save_sheet(s, ctx.registry, who, round_id, product_id, answers, submit=not draft)
        locale = cli_locale()  # the reader's number format: "85,5" in Vietnamese, "85.5" in English
        parts = "; ".join(f"{k} {format_number(v, locale)}" for k, v in saved.part_totals.items())
        total = format_number(saved.total, locale)
        click.echo(f"round #{round_id}, product #{product_id}: {saved.status}, total {total} ({parts})")


@sheet.command("template")
@click.option("--group", help="product group (see `ocop workflow show`); default with --round/--product")
@click.option("--set", "set_key", default=None, help="criteria set (default: the default workflow's)")
@click.option("--kind", type=click.Choice(["council", "commune"]), default="council", show_default=True)
@click.option("--round", "round_id", type=click.IntRange(1, 2**31 - 1), help="the sheet of a product of this round")
@click.option("--product", "product_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--as", "as_email")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="file (default: a name of its own)")
@pass_ctx
@handle_errors
def sheet_template(ctx: Context, group, set_key, kind, round_id, product_id, as_email, out) -> None:
    """Write the blank paper form (XLSX) of a criteria sheet."""
    reg = ctx.registry
    if round_id is not None and product_id is not None:
        with ctx.db.session() as s:
            view = rounds.round_view(s, reg, _actor(ctx, s, as_email), round_id)
            entry = next((ev.entry for ev in view.entries if ev.product.id == product_id), None)
            if entry is None:
                raise InvalidData(Text(f"Không có sản phẩm #{product_id} trong đợt", f"No product #{product_id} here"))
            criteria = reg.criteria.get(entry.sheet_key)
    elif group is not None:
        default = reg.default_definition(local_day())[0]
        evaluation = getattr(default, "evaluation", None)
        criteria_set = set_key or getattr(evaluation, "criteria_set", None) or default.key
        criteria = reg.criteria.sheet_for(criteria_set, group, None, kind=kind)
    else:
        raise click.UsageError("give --group, or --round and --product")
    _write(out or Path(template_filename(criteria)), template_xlsx(criteria, cli_locale()))
