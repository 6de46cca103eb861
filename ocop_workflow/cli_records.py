"""`ocop support`, `ocop listing`, `ocop revenue`: a product's programme records (issue #12) from the command
line, under the same services and rules as the web and the API (the acting user is `--as EMAIL`).

Why a CLI: an association office types in the supports and listings of a season from its own lists, and
a province imports declared revenues with a script. Dates are typed as offices write them (dd/mm/yyyy;
yyyy-mm-dd also works), amounts as "1.250.000.000" or "1250000000". Listing without `--as` acts as the
trusted operator (the system actor), like the CLI's other administration commands; every change names
its user.
"""

from __future__ import annotations

import json

import click

from .cli import DAY, Context, cli_locale, handle_errors, pass_ctx
from .formats import format_number
from .services import directory
from .services import product_records as records
from .services.access import Actor, load_actor

# the programme commands' day: DD/MM/YYYY or YYYY-MM-DD, refused in the operator's language (click's own
# DateTime answers in English whatever OCOP_LANG says)
DATE = DAY
ID = click.IntRange(1, 2**31 - 1)


def _actor(ctx: Context, s, email: str | None) -> Actor:
    if email is None:
        return Actor.system_actor(ctx.registry.policy)
    return load_actor(s, email, policy=ctx.registry.policy)


def _d(value) -> str:
    return value.strftime("%d/%m/%Y") if value is not None else "—"


def _echo_json(rows: list[dict]) -> None:
    click.echo(json.dumps(rows, ensure_ascii=False, indent=2))


# --- support ----------------------------------------------------------------------------------------
@click.group("support")
def support() -> None:
    """The Farmers' Association's support of products (hỗ trợ sản phẩm)."""


@support.command("add")
@click.argument("product_id", type=ID)
@click.option("--org", "org_code", required=True, help="code of the supporting association's unit")
@click.option("--officer", help="e-mail of the association officer in charge")
@click.option("--since", "since", required=True, type=DATE, help="DD/MM/YYYY")
@click.option("--note")
@click.option("--as", "as_email", required=True, help="e-mail of the acting user")
@pass_ctx
@handle_errors
def support_add(ctx: Context, product_id: int, org_code: str, officer, since, note, as_email: str) -> None:
    """Record that an association unit supports PRODUCT from --since."""
    with ctx.db.transaction() as s:
        found = records.add_support(
            s,
            _actor(ctx, s, as_email),
            product_id,
            organisation_id=directory.get_org(s, org_code).id,
            officer=officer,
            started_on=since,
            note=note,
        )
        click.echo(
            f"support #{found.id}: {found.organisation.name} → product #{product_id} from {_d(found.started_on)}"
        )


@support.command("end")
@click.argument("support_id", type=ID)
@click.option("--on", "on", required=True, type=DATE, help="DD/MM/YYYY")
@click.option("--as", "as_email", required=True)
@pass_ctx
@handle_errors
def support_end(ctx: Context, support_id: int, on, as_email: str) -> None:
    """End a support on --on."""
    with ctx.db.transaction() as s:
        found = records.end_support(s, _actor(ctx, s, as_email), support_id, ended_on=on)
        click.echo(f"support #{found.id}: ended {_d(found.ended_on)}")


@support.command("list")
@click.argument("product_id", type=ID)
@click.option("--as", "as_email", help="list as this user (default: the operator)")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def support_list(ctx: Context, product_id: int, as_email: str | None, as_json: bool) -> None:
    """The supports of PRODUCT, newest first."""
    with ctx.db.session() as s:
        found = records.list_supports(s, _actor(ctx, s, as_email), product_id)
        rows = [
            {
                "id": r.id,
                "organisation": r.organisation.code,
                "organisation_name": r.organisation.name,
                "officer": r.officer.email if r.officer else None,
                "started_on": r.started_on.isoformat(),
                "ended_on": r.ended_on.isoformat() if r.ended_on else None,
                "note": r.note,
            }
            for r in found
        ]
    if as_json:
        _echo_json(rows)
        return
    for r, row in zip(found, rows, strict=True):
        click.echo(
            f"#{r.id:<5} {row['organisation']:<8} {_d(r.started_on)} – {_d(r.ended_on)}  {row['organisation_name']}"
        )
        if row["officer"]:
            click.echo(f"       {row['officer']}")


# --- listing ----------------------------------------------------------------------------------------
@click.group("listing")
def listing() -> None:
    """A product's e-commerce listings (sản phẩm lên sàn thương mại điện tử)."""


@listing.command("add")
@click.argument("product_id", type=ID)
@click.option("--platform", required=True, help="a key of the catalogue's ecommerce_platforms (shopee, postmart …)")
@click.option("--url", required=True, help="the listing's http(s) address")
@click.option("--since", "since", required=True, type=DATE, help="DD/MM/YYYY")
@click.option("--as", "as_email", required=True)
@pass_ctx
@handle_errors
def listing_add(ctx: Context, product_id: int, platform: str, url: str, since, as_email: str) -> None:
    """Record that PRODUCT is offered at --url on --platform from --since."""
    platforms = ctx.registry.catalogue.ecommerce_platforms
    with ctx.db.transaction() as s:
        found = records.add_listing(
            s,
            _actor(ctx, s, as_email),
            product_id,
            platform=platform,
            url=url,
            listed_on=since,
            platforms=platforms,
        )
        label = platforms[found.platform].get(cli_locale())
        click.echo(f"listing #{found.id}: {label} {found.url} from {_d(found.listed_on)}")


@listing.command("remove")
@click.argument("listing_id", type=ID)
@click.option("--on", "on", required=True, type=DATE, help="DD/MM/YYYY")
@click.option("--as", "as_email", required=True)
@pass_ctx
@handle_errors
def listing_remove(ctx: Context, listing_id: int, on, as_email: str) -> None:
    """Record that a listing was taken down on --on."""
    with ctx.db.transaction() as s:
        found = records.remove_listing(s, _actor(ctx, s, as_email), listing_id, removed_on=on)
        click.echo(f"listing #{found.id}: removed {_d(found.removed_on)}")


@listing.command("list")
@click.argument("product_id", type=ID)
@click.option("--as", "as_email")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def listing_list(ctx: Context, product_id: int, as_email: str | None, as_json: bool) -> None:
    """The listings of PRODUCT (open ones first)."""
    platforms, loc = ctx.registry.catalogue.ecommerce_platforms, cli_locale()
    with ctx.db.session() as s:
        found = records.list_listings(s, _actor(ctx, s, as_email), product_id)
        rows = [
            {
                "id": r.id,
                "platform": r.platform,
                "platform_label": platforms[r.platform].get(loc) if r.platform in platforms else r.platform,
                "url": r.url,
                "listed_on": r.listed_on.isoformat(),
                "removed_on": r.removed_on.isoformat() if r.removed_on else None,
            }
            for r in found
        ]
    if as_json:
        _echo_json(rows)
        return
    for r, row in zip(found, rows, strict=True):
        click.echo(f"#{r.id:<5} {row['platform_label']:<22} {_d(r.listed_on)} – {_d(r.removed_on)}  {r.url}")


# --- revenue ----------------------------------------------------------------------------------------
@click.group("revenue")
def revenue() -> None:
    """A product's declared yearly revenue (doanh thu), in đồng."""


@revenue.command("set")
@click.argument("product_id", type=ID)
@click.argument("year", type=click.IntRange(1, 9999))
@click.argument("amount")
@click.option("--as", "as_email", required=True)
@pass_ctx
@handle_errors
def revenue_set(ctx: Context, product_id: int, year: int, amount: str, as_email: str) -> None:
    """Declare PRODUCT's revenue for YEAR: AMOUNT in whole đồng ("1.250.000.000" or "1250000000")."""
    with ctx.db.transaction() as s:
        row = records.set_revenue(s, _actor(ctx, s, as_email), product_id, year, amount)
        click.echo(f"product #{product_id}, {row.year}: {format_number(row.amount, cli_locale())} đ")


@revenue.command("list")
@click.argument("product_id", type=ID)
@click.option("--as", "as_email")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def revenue_list(ctx: Context, product_id: int, as_email: str | None, as_json: bool) -> None:
    """The declared revenues of PRODUCT, newest year first."""
    with ctx.db.session() as s:
        rows = [
            {"year": r.year, "amount": r.amount, "declared_at": r.declared_at.isoformat()}
            for r in records.list_revenues(s, _actor(ctx, s, as_email), product_id)
        ]
    if as_json:
        _echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['year']}  {format_number(r['amount'], cli_locale()):>20} đ")
