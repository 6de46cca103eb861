"""A unit's programme records (issue #12): raw-material areas, value-chain models, sales points, trainings.

The same services and rules as the web and the API (`services/programme.py`); every change names its user
(`--as EMAIL`), listing without `--as` acts as the trusted operator. Dates are typed as Vietnamese offices
write them, DD/MM/YYYY (YYYY-MM-DD is accepted too).
"""

from __future__ import annotations

import json
from datetime import date

import click

from .cli import DAY, Context, cli_locale, handle_errors, pass_ctx
from .errors import InvalidData
from .formats import format_number
from .i18n import Text
from .services import programme
from .services.access import Actor, load_actor

ID = click.IntRange(1, 2**31 - 1)


def _actor(ctx: Context, s, email: str | None) -> Actor:
    if email is None:
        return Actor.system_actor(ctx.registry.policy)
    return load_actor(s, email, policy=ctx.registry.policy)


def _org_id(s, who: Actor, code: str | None) -> int | None:
    """The id of the unit typed by its code (a refusal names the code, never an internal id)."""
    return programme.unit_by_code(s, who, code).id if code else None


def _d(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "…"


def _emit(rows: list[dict], as_json: bool, line) -> None:
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    for row in rows:
        click.echo(line(row))


def _all(fetch) -> list:
    """Every page of a paged list (the CLI prints the whole area)."""
    items, page = [], 1
    while True:
        found = fetch(page)
        items += found.items
        if not found.has_next:
            return items
        page += 1


# --- area ---------------------------------------------------------------------------------------
@click.group("area")
def area() -> None:
    """Raw-material areas (vùng nguyên liệu) and the products tied to them."""


@area.command("add")
@click.option("--commune", "commune_code", required=True, help="code of the commune the area lies in")
@click.option("--name", required=True)
@click.option("--ha", "hectares", help="size in hectares (12,5 or 12.5)")
@click.option("--code", "growing_code", help="growing-area code (mã số vùng trồng)")
@click.option("--as", "as_email", required=True, help="e-mail of the acting user")
@pass_ctx
@handle_errors
def area_add(ctx: Context, commune_code, name, hectares, growing_code, as_email) -> None:
    """Record a raw-material area."""
    with ctx.db.transaction() as s:
        who = _actor(ctx, s, as_email)
        found = programme.create_area(
            s,
            who,
            commune_id=_org_id(s, who, commune_code),
            name=name,
            area_ha=hectares,
            growing_code=growing_code,
        )
        click.echo(f"area #{found.id} {found.name} ({found.commune.name})")


@area.command("link")
@click.argument("area_id", type=ID)
@click.argument("product_id", type=ID)
@click.option("--since", "linked_on", required=True, type=DAY, help="DD/MM/YYYY")
@click.option("--as", "as_email", required=True)
@pass_ctx
@handle_errors
def area_link(ctx: Context, area_id: int, product_id: int, linked_on: date, as_email: str) -> None:
    """Tie a product's production chain to an area from a day."""
    with ctx.db.transaction() as s:
        link = programme.link_product(s, _actor(ctx, s, as_email), area_id, product_id=product_id, linked_on=linked_on)
        click.echo(f"link #{link.id}: {link.product.name} ↔ {link.area.name} since {_d(link.linked_on)}")


@area.command("unlink")
@click.argument("link_id", type=ID)
@click.option("--on", "unlinked_on", required=True, type=DAY, help="DD/MM/YYYY")
@click.option("--as", "as_email", required=True)
@pass_ctx
@handle_errors
def area_unlink(ctx: Context, link_id: int, unlinked_on: date, as_email: str) -> None:
    """End a product's link to an area on a day."""
    with ctx.db.transaction() as s:
        link = programme.unlink_product(s, _actor(ctx, s, as_email), link_id, unlinked_on=unlinked_on)
        click.echo(f"link #{link.id} ended on {_d(link.unlinked_on)}")


@area.command("list")
@click.option("--org", "org_code", help="only this district's or commune's")
@click.option("--as", "as_email", help="list as this user (default: every area)")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def area_list(ctx: Context, org_code, as_email, as_json: bool) -> None:
    """The raw-material areas with their linked products."""
    loc = cli_locale()
    with ctx.db.session() as s:
        who = _actor(ctx, s, as_email)
        org_id = _org_id(s, who, org_code)
        rows = [
            {
                "id": a.id,
                "name": a.name,
                "commune": a.commune.code,
                "area_ha": a.area_ha,
                "growing_code": a.growing_code,
                "links": [
                    {
                        "id": lk.id,
                        "product_id": lk.product_id,
                        "product": lk.product.name,
                        "linked_on": lk.linked_on.isoformat(),
                        "unlinked_on": lk.unlinked_on.isoformat() if lk.unlinked_on else None,
                    }
                    for lk in a.links
                ],
            }
            for a in _all(lambda p: programme.list_areas(s, who, org_id=org_id, page=p))
        ]
    _emit(
        rows,
        as_json,
        lambda r: (
            f"#{r['id']}\t{r['name']}\t{r['commune']}\t{format_number(r['area_ha'], loc)} ha"
            f"\t{r['growing_code'] or '—'}\t{len([lk for lk in r['links'] if not lk['unlinked_on']])} linked"
        ),
    )


# --- chain --------------------------------------------------------------------------------------
@click.group("chain")
def chain() -> None:
    """Value-chain models (mô hình liên kết chuỗi giá trị)."""


@chain.command("add")
@click.option("--org", "org_code", required=True, help="code of the commune or district")
@click.option("--name", required=True)
@click.option("--lead-producer", type=ID, help="id of the lead producer (of the unit)")
@click.option("--lead", "lead_name", help="name of the lead, when it is not a registered producer")
@click.option("--member", "members", type=ID, multiple=True, help="id of a member producer (repeat)")
@click.option("--product", "products", type=ID, multiple=True, help="id of a product of the chain (repeat)")
@click.option("--since", "started_on", required=True, type=DAY, help="DD/MM/YYYY")
@click.option("--as", "as_email", required=True)
@pass_ctx
@handle_errors
def chain_add(ctx: Context, org_code, name, lead_producer, lead_name, members, products, started_on, as_email):
    """Record a value-chain model (building from --since)."""
    with ctx.db.transaction() as s:
        who = _actor(ctx, s, as_email)
        found = programme.create_chain(
            s,
            who,
            organisation_id=_org_id(s, who, org_code),
            name=name,
            lead_producer_id=lead_producer,
            lead_name=lead_name,
            members=members,
            products=products,
            started_on=started_on,
        )
        click.echo(f"chain #{found.id} {found.name} ({found.organisation.name})")


@chain.command("working")
@click.argument("chain_id", type=ID)
@click.option("--from", "working_from", required=True, type=DAY, help="DD/MM/YYYY")
@click.option("--as", "as_email", required=True)
@pass_ctx
@handle_errors
def chain_working(ctx: Context, chain_id: int, working_from: date, as_email: str) -> None:
    """Mark a chain working from a day."""
    with ctx.db.transaction() as s:
        found = programme.update_chain(s, _actor(ctx, s, as_email), chain_id, working_from=working_from)
        click.echo(f"chain #{found.id} working from {_d(found.working_from)}")


@chain.command("stop")
@click.argument("chain_id", type=ID)
@click.option("--on", "stopped_on", required=True, type=DAY, help="DD/MM/YYYY")
@click.option("--as", "as_email", required=True)
@pass_ctx
@handle_errors
def chain_stop(ctx: Context, chain_id: int, stopped_on: date, as_email: str) -> None:
    """Mark a chain stopped on a day."""
    with ctx.db.transaction() as s:
        found = programme.update_chain(s, _actor(ctx, s, as_email), chain_id, stopped_on=stopped_on)
        click.echo(f"chain #{found.id} stopped on {_d(found.stopped_on)}")


@chain.command("list")
@click.option("--org", "org_code")
@click.option("--at", "on", type=DAY, help="status as of this day (default: today)")
@click.option("--as", "as_email")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def chain_list(ctx: Context, org_code, on, as_email, as_json: bool) -> None:
    """The value chains with their status as of --at (those started later are left out)."""
    on = on or programme.today_vn()
    with ctx.db.session() as s:
        who = _actor(ctx, s, as_email)
        org_id = _org_id(s, who, org_code)
        rows = [
            {
                "id": c.id,
                "name": c.name,
                "organisation": c.organisation.code,
                "lead": c.lead_name,
                "status": c.status_on(on),
                "started_on": c.started_on.isoformat(),
                "working_from": c.working_from.isoformat() if c.working_from else None,
                "stopped_on": c.stopped_on.isoformat() if c.stopped_on else None,
                "members": [p.id for p in c.members],
                "products": [p.id for p in c.products],
            }
            for c in _all(lambda p: programme.list_chains(s, who, org_id=org_id, at=on, page=p))
        ]
    loc = cli_locale()
    _emit(
        rows,
        as_json,
        lambda r: (
            f"#{r['id']}\t{r['name']}\t{r['organisation']}\t{r['lead']}"
            f"\t{programme.CHAIN_STATUS_LABELS[r['status']].get(loc)}"
        ),
    )


# --- sales-point --------------------------------------------------------------------------------
@click.group("sales-point")
def sales_point() -> None:
    """OCOP sales points (điểm bán sản phẩm OCOP)."""


@sales_point.command("add")
@click.option("--org", "org_code", required=True, help="code of the district or commune")
@click.option("--name", required=True)
@click.option("--address", required=True)
@click.option("--opened", "opened_on", required=True, type=DAY, help="DD/MM/YYYY")
@click.option("--as", "as_email", required=True)
@pass_ctx
@handle_errors
def sales_point_add(ctx: Context, org_code, name, address, opened_on, as_email) -> None:
    """Record a sales point, open from a day."""
    with ctx.db.transaction() as s:
        who = _actor(ctx, s, as_email)
        found = programme.create_sales_point(
            s,
            who,
            organisation_id=_org_id(s, who, org_code),
            name=name,
            address=address,
            opened_on=opened_on,
        )
        click.echo(f"sales point #{found.id} {found.name} ({found.organisation.name})")


@sales_point.command("close")
@click.argument("point_id", type=ID)
@click.option("--on", "closed_on", required=True, type=DAY, help="DD/MM/YYYY")
@click.option("--as", "as_email", required=True)
@pass_ctx
@handle_errors
def sales_point_close(ctx: Context, point_id: int, closed_on: date, as_email: str) -> None:
    """Close a sales point on a day."""
    with ctx.db.transaction() as s:
        found = programme.close_sales_point(s, _actor(ctx, s, as_email), point_id, closed_on=closed_on)
        click.echo(f"sales point #{found.id} closed on {_d(found.closed_on)}")


@sales_point.command("list")
@click.option("--org", "org_code")
@click.option("--as", "as_email")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def sales_point_list(ctx: Context, org_code, as_email, as_json: bool) -> None:
    """The sales points, open and closed."""
    with ctx.db.session() as s:
        who = _actor(ctx, s, as_email)
        org_id = _org_id(s, who, org_code)
        rows = [
            {
                "id": p.id,
                "name": p.name,
                "organisation": p.organisation.code,
                "address": p.address,
                "opened_on": p.opened_on.isoformat(),
                "closed_on": p.closed_on.isoformat() if p.closed_on else None,
            }
            for p in _all(lambda n: programme.list_sales_points(s, who, org_id=org_id, page=n))
        ]
    _emit(
        rows,
        as_json,
        lambda r: f"#{r['id']}\t{r['name']}\t{r['organisation']}\t{r['opened_on']} – {r['closed_on'] or '…'}",
    )


# --- training -----------------------------------------------------------------------------------
@click.group("training")
def training() -> None:
    """Training and outreach sessions (tập huấn, tuyên truyền) and who attended."""


def _people(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        role, sep, number = value.partition("=")
        if not sep or not role.strip():
            raise InvalidData(
                Text(
                    f"«{value}»: ghi ĐỐI_TƯỢNG=SỐ, ví dụ producer=30", f"“{value}”: write ROLE=NUMBER, e.g. producer=30"
                ),
                field="people",
            )
        out[role.strip()] = number.strip()
    return out


@training.command("add")
@click.option("--org", "org_code", required=True, help="code of the unit that held it")
@click.option("--kind", type=click.Choice(programme.TRAINING_KINDS), required=True)
@click.option("--on", "held_on", required=True, type=DAY, help="DD/MM/YYYY")
@click.option("--topic", required=True)
@click.option("--people", multiple=True, help="ROLE=NUMBER (trainee roles of the catalogue); repeat")
@click.option("--as", "as_email", required=True)
@pass_ctx
@handle_errors
def training_add(ctx: Context, org_code, kind, held_on, topic, people, as_email) -> None:
    """Record a training or outreach session."""
    with ctx.db.transaction() as s:
        who = _actor(ctx, s, as_email)
        found = programme.create_training(
            s,
            ctx.registry,
            who,
            organisation_id=_org_id(s, who, org_code),
            kind=kind,
            held_on=held_on,
            topic=topic,
            people=_people(people),
        )
        total = sum(a.people for a in found.attendance)
        click.echo(f"training #{found.id} {found.topic} ({found.organisation.name}, {_d(found.held_on)}): {total}")


@training.command("list")
@click.option("--org", "org_code")
@click.option("--as", "as_email")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def training_list(ctx: Context, org_code, as_email, as_json: bool) -> None:
    """The sessions, latest first, with attendance."""
    with ctx.db.session() as s:
        who = _actor(ctx, s, as_email)
        org_id = _org_id(s, who, org_code)
        rows = [
            {
                "id": t.id,
                "kind": t.kind,
                "organisation": t.organisation.code,
                "held_on": t.held_on.isoformat(),
                "topic": t.topic,
                "people": {a.role: a.people for a in t.attendance},
            }
            for t in _all(lambda n: programme.list_trainings(s, who, org_id=org_id, page=n))
        ]
    _emit(
        rows,
        as_json,
        lambda r: (
            f"#{r['id']}\t{r['held_on']}\t{r['kind']}\t{r['organisation']}\t{r['topic']}"
            f"\t{' '.join(f'{k}={v}' for k, v in r['people'].items())}"
        ),
    )
