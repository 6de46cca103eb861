"""`ocop certificate` and `ocop decision`: recognition decisions and OCOP certificates from the command
line (issue #10), under the same services and rules as the web and the API (the acting user is `--as EMAIL`).

Why a CLI for this: a provincial office signs decisions on paper and records them afterwards, scripts
its yearly lists of certificates, and answers "was this label valid on that day?" (`--at DATE` shows
every status as of that date: a status is computed from the certificate's dates, never stored, so the
past and the future read the same way). Listing and showing without `--as` act as the trusted operator
(the system actor), like the CLI's other administration commands; every change names its user.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import click

from .cli import Context, cli_locale, handle_errors, pass_ctx
from .models import Certificate, RecognitionDecision
from .services import certificate_lists, certificates, decisions, directory
from .services.access import Actor, load_actor
from .services.certificates import STATUS_LABELS, local_day, status_of
from .services.listing import MAX_PER_PAGE

DATE = click.DateTime(formats=["%Y-%m-%d"])
ID = click.IntRange(1, 2**31 - 1)


def _actor(ctx: Context, s, email: str | None) -> Actor:
    if email is None:
        return Actor.system_actor(ctx.registry.policy)
    return load_actor(s, email, policy=ctx.registry.policy)


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _notice_days(ctx: Context) -> int:
    return max(ctx.settings.certificate_notice_days, default=0)


def _certificate_row(c: Certificate, today: date, notice_days: int, locale: str) -> dict:
    status = status_of(c, today, notice_days)
    decision = c.decision
    return {
        "code": c.code,
        "product_id": c.product_id,
        "product_name": c.product_name,
        "producer_name": c.producer_name,
        "star": c.star,
        "level": c.level,
        "organisation": c.organisation.code,
        "organisation_name": c.organisation.name,
        "decision_number": decision.number if decision is not None else None,
        "decision_signed_on": decision.signed_on.isoformat() if decision is not None and decision.signed_on else None,
        "issued_on": c.issued_on.isoformat(),
        "expires_on": c.expires_on.isoformat(),
        "status": status,
        "status_label": STATUS_LABELS[status].get(locale),
        "as_of": today.isoformat(),
        "superseded_on": c.superseded_on.isoformat() if c.superseded_on else None,
        "revoked_on": c.revoked_on.isoformat() if c.revoked_on else None,
        "revoke_decision": c.revoke_decision,
        "revoke_reason": c.revoke_reason,
    }


def _certificate_line(r: dict) -> str:
    return (
        f"{r['code']:<22} {r['star']}★ {r['issued_on']} → {r['expires_on']}  {r['status_label']:<26} "
        f"#{r['product_id']} {r['product_name']} — {r['producer_name']}"
    )


# --- certificate -----------------------------------------------------------------------------------
@click.group()
def certificate() -> None:
    """OCOP certificates (giấy chứng nhận): lists, status on a day, revocation, the PDF, the number format."""


@certificate.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(certificate_lists.STATUSES),
    help="only certificates in this status on the day (repeatable)",
)
@click.option("--at", "at", type=DATE, help="statuses as of this day, YYYY-MM-DD (default: today in Vietnam)")
@click.option("--product", "product_id", type=ID, help="only this product's certificates")
@click.option("--page", type=ID, default=1, show_default=True)
@click.option("--per-page", type=click.IntRange(1, MAX_PER_PAGE), default=50, show_default=True)
@click.option("--as", "as_email", help="list as this user (default: every certificate)")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def certificate_list(ctx: Context, statuses, at, product_id, page, per_page, as_email, as_json) -> None:
    """The certificates, newest first, with their status on the day."""
    locale, today, notice = cli_locale(), _day(at) or local_day(), _notice_days(ctx)
    with ctx.db.session() as s:
        found = certificate_lists.list_certificates(
            s,
            _actor(ctx, s, as_email),
            today=today,
            statuses=list(statuses) or None,
            product_id=product_id,
            page=page,
            per_page=per_page,
            notice_days=notice,
        )
        rows = [_certificate_row(c, today, notice, locale) for c in found.items]
    if as_json:
        click.echo(json.dumps({"items": rows, "total": found.total, "page": found.page}, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(_certificate_line(r))
    click.echo(f"{found.total_label} certificate(s) as of {today.isoformat()}, page {found.page}/{found.pages_label}")


@certificate.command("show")
@click.argument("code")
@click.option("--at", "at", type=DATE, help="the status as of this day, YYYY-MM-DD (default: today in Vietnam)")
@click.option("--as", "as_email")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def certificate_show(ctx: Context, code: str, at, as_email: str | None, as_json: bool) -> None:
    """One certificate: product, producer, star, decision, validity and its status on the day."""
    locale, today = cli_locale(), _day(at) or local_day()
    with ctx.db.session() as s:
        cert = certificates.get_visible_certificate(s, _actor(ctx, s, as_email), code)
        row = _certificate_row(cert, today, _notice_days(ctx), locale)
        if cert.superseded_by_id is not None:
            row["superseded_by"] = s.get(Certificate, cert.superseded_by_id).code
    if as_json:
        click.echo(json.dumps(row, ensure_ascii=False, indent=2))
        return
    click.echo(f"{row['code']}: {row['status_label']} ({row['status']}) as of {row['as_of']}")
    click.echo(f"  product   #{row['product_id']} {row['product_name']} — {row['producer_name']}")
    click.echo(f"  star      {row['star']}★, recognised by {row['organisation_name']} ({row['level']})")
    if row["decision_number"]:
        click.echo(f"  decision  {row['decision_number']} of {row['decision_signed_on']}")
    click.echo(f"  valid     {row['issued_on']} until {row['expires_on']} (expired from that day)")
    if row["superseded_on"]:
        successor = f" by {row['superseded_by']}" if "superseded_by" in row else ""
        click.echo(f"  superseded on {row['superseded_on']}{successor}")
    if row["revoked_on"]:
        click.echo(f"  revoked on {row['revoked_on']} by decision {row['revoke_decision']}: {row['revoke_reason']}")


@certificate.command("revoke")
@click.argument("code")
@click.option("--reason", required=True, help="why the certificate is revoked")
@click.option("--decision-number", required=True, help="number of the revocation decision")
@click.option("--on", "on", type=DATE, help="the day it stops counting, YYYY-MM-DD (default: today)")
@click.option("--as", "as_email", required=True, help="e-mail of the acting user (the issuing level)")
@pass_ctx
@handle_errors
def certificate_revoke(ctx: Context, code: str, reason: str, decision_number: str, on, as_email: str) -> None:
    """Revoke a certificate (thu hồi), with the reason and the number of the revocation decision."""
    with ctx.db.transaction() as s:
        cert = certificates.revoke_certificate(
            s,
            _actor(ctx, s, as_email),
            code,
            reason=reason,
            decision_number=decision_number,
            revoked_on=_day(on),
            notice_days=_notice_days(ctx),
        )
        click.echo(f"{cert.code}: revoked from {cert.revoked_on.isoformat()} by decision {cert.revoke_decision}")


@certificate.command("pdf")
@click.argument("code")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as", "as_email")
@pass_ctx
@handle_errors
def certificate_pdf(ctx: Context, code: str, out: Path, as_email: str | None) -> None:
    """Write the printable certificate (PDF, with the QR code of its verification page)."""
    from .exports.recognition import certificate_pdf as build

    with ctx.db.session() as s:
        cert = certificates.get_visible_certificate(s, _actor(ctx, s, as_email), code)
        _name, content = build(s, ctx.registry, ctx.settings, cert, cli_locale())
    out.write_bytes(content)
    click.echo(f"{out} ({len(content)} bytes)")


@certificate.command("format")
@click.option("--province", "province_code", required=True, help="code of the province")
@click.argument("fmt", metavar="FORMAT", required=False)
@click.option("--clear", is_flag=True, help="go back to the default format (OCOP_CERTIFICATE_FORMAT)")
@click.option("--as", "as_email", help="e-mail of the acting user (needed to change it)")
@pass_ctx
@handle_errors
def certificate_format(ctx: Context, province_code: str, fmt: str | None, clear: bool, as_email: str | None) -> None:
    """Show, set or clear a province's certificate number format, e.g. OCOP-{province}-{year}-{seq:05d}
    (fields: province, year, seq, star, level; {province} and {seq} are required)."""
    default = ctx.settings.certificate_format
    if fmt is None and not clear:
        with ctx.db.session() as s:
            province = directory.get_org(s, province_code)
            own = province.certificate_format
        click.echo(f"{province_code}: {own or default}" + ("" if own else " (the default)"))
        return
    if fmt is not None and clear:
        raise click.UsageError("give either FORMAT or --clear")
    if as_email is None:
        raise click.UsageError("changing the format needs --as EMAIL")
    with ctx.db.transaction() as s:
        province = directory.get_org(s, province_code)
        value = certificate_lists.set_certificate_format(s, _actor(ctx, s, as_email), province, fmt)
        sample = certificate_lists.format_preview(s, value or default, province, local_day())
        click.echo(f"{province_code}: {value or default}" + ("" if value else " (the default)") + f", e.g. {sample}")


# --- decision --------------------------------------------------------------------------------------
@click.group()
def decision() -> None:
    """Recognition decisions (quyết định công nhận): drafting over the products awaiting them, signing."""


def _decision_row(d: RecognitionDecision, locale: str) -> dict:
    return {
        "id": d.id,
        "status": d.status,
        "status_label": decisions.STATUS_LABELS[d.status].get(locale),
        "number": d.number,
        "signed_on": d.signed_on.isoformat() if d.signed_on else None,
        "organisation": d.organisation.code,
        "level": d.level,
        "title": d.title,
        "version": d.version,
        "products": [{"id": e.product_id, "star": e.star, "score": e.score} for e in d.entries],
    }


@decision.command("list")
@click.option("--status", type=click.Choice(list(decisions.STATUS_LABELS)))
@click.option("--as", "as_email", help="list as this user (default: every decision)")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def decision_list(ctx: Context, status: str | None, as_email: str | None, as_json: bool) -> None:
    """The recognition decisions, newest first."""
    locale = cli_locale()
    with ctx.db.session() as s:
        rows = [_decision_row(d, locale) for d in decisions.list_decisions(s, _actor(ctx, s, as_email), status=status)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        number = r["number"] or "—"
        click.echo(
            f"#{r['id']:<4} {r['organisation']:<6} {r['status_label']:<8} {number:<16} "
            f"{len(r['products'])} product(s)  {r['title']}"
        )


@decision.command("draft")
@click.option("--organisation", "org_code", required=True, help="code of the recognising organisation")
@click.option("--round", "round_id", type=ID, help="only the products this round closed")
@click.option("--product", "product_ids", type=ID, multiple=True, help="a product to list (repeatable)")
@click.option("--title", help="the decision's title (trích yếu)")
@click.option("--as", "as_email", required=True, help="e-mail of the acting user (the level's secretariat)")
@pass_ctx
@handle_errors
def decision_draft(ctx: Context, org_code: str, round_id, product_ids, title, as_email: str) -> None:
    """Draft a recognition decision over the products awaiting the organisation's recognition."""
    with ctx.db.transaction() as s:
        found = decisions.draft_decision(
            s,
            ctx.registry,
            _actor(ctx, s, as_email),
            organisation_id=directory.get_org(s, org_code).id,
            round_id=round_id,
            product_ids=list(product_ids) or None,
            title=title,
        )
        click.echo(f"decision #{found.id} drafted (version {found.version}): {found.title}")
        for e in found.entries:
            click.echo(f"  #{e.product_id} {e.product.name} {e.star}★")


@decision.command("sign")
@click.argument("decision_id", type=ID)
@click.option("--number", required=True, help="the decision's number, e.g. 123/QĐ-UBND")
@click.option("--date", "signed_on", type=DATE, help="the signing date, YYYY-MM-DD (default: today)")
@click.option("--signer-title", help="printed under the signature (default: the level's chair)")
@click.option("--version", type=click.IntRange(0, 2**31 - 1), help="the draft's version as last read")
@click.option("--as", "as_email", required=True, help="e-mail of the signer (the level's chair)")
@pass_ctx
@handle_errors
def decision_sign(ctx: Context, decision_id: int, number: str, signed_on, signer_title, version, as_email) -> None:
    """Sign a draft: every listed product is recognised and receives its certificate; the decision (DOCX)
    goes into each product's dossier."""
    from .exports.recognition import sign_and_file_decision

    with ctx.db.transaction() as s:
        signed = sign_and_file_decision(
            s,
            ctx.registry,
            ctx.settings,
            _actor(ctx, s, as_email),
            decision_id,
            number=number,
            signed_on=_day(signed_on),
            signer_title=signer_title,
            expected_version=version,
        )
        d = signed.decision
        click.echo(f"decision #{d.id} signed: {d.number} of {d.signed_on.isoformat()}")
        for c in signed.certificates:
            click.echo(f"  {c.code} #{c.product_id} {c.product_name} {c.star}★ until {c.expires_on.isoformat()}")
