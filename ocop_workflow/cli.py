"""The `ocop` command: everything scriptable without a web server.

Errors print one line in the operator's language (OCOP_LANG or LANG: en… → English,
otherwise Vietnamese) and exit non-zero; no traceback reaches the terminal.
"""

from __future__ import annotations

import importlib
import json
import sys
from datetime import date, datetime, timedelta
from functools import wraps
from importlib.metadata import entry_points
from pathlib import Path

import click
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from . import migrate_db
from .config import Settings, operator_locale
from .db import Database
from .engine import Registry, get_registry
from .engine.diagram import to_mermaid, to_svg, to_text
from .engine.loader import load_directory
from .errors import DefinitionError, InvalidData, OcopError
from .formats import format_number, parse_number
from .i18n import Text
from .models import Organisation, Product, ProductEvent, User
from .services import directory
from .services.access import Actor, get_visible_producer, load_actor
from .services.certificates import local_day, standings
from .services.products import advance, definition_for_new, history, set_default_workflow
from .services.workflow_migration import apply_migration, plan_migration

EXIT_ERROR = 1
EXIT_REFUSED = 3


class _Number(click.ParamType):
    """A number typed at the command line with a decimal comma or point ("85,5" and "85.5"), as on the web."""

    name = "number"

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        number = parse_number(value)
        if number is None:
            message = Text(
                f"{value!r} không phải là số (ví dụ 85,5 hoặc 85.5)", f"{value!r} is not a number (e.g. 85,5 or 85.5)"
            )
            self.fail(message.get(operator_locale()), param, ctx)
        return float(number)


NUMBER = _Number()

# The days a command takes, like the web's and the API's (a plan, a report, a record: 2000–2100).
FIRST_YEAR, LAST_YEAR = 2000, 2100


class _Day(click.ParamType):
    """A day typed DD/MM/YYYY (as people write it) or YYYY-MM-DD, within FIRST_YEAR–LAST_YEAR; refused in
    the operator's language."""

    name = "date"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
            try:
                day = datetime.strptime(str(value).strip(), fmt).date()
            except ValueError:
                continue
            if not FIRST_YEAR <= day.year <= LAST_YEAR:
                outside = Text(
                    f"ngày {day:%d/%m/%Y} nằm ngoài khoảng {FIRST_YEAR}–{LAST_YEAR}",
                    f"the day {day:%d/%m/%Y} lies outside {FIRST_YEAR}–{LAST_YEAR}",
                )
                self.fail(outside.get(cli_locale()), param, ctx)
            return day
        message = Text(
            f"«{value}» không phải là một ngày (DD/MM/YYYY hoặc YYYY-MM-DD)",
            f"“{value}” is not a date (DD/MM/YYYY or YYYY-MM-DD)",
        )
        self.fail(message.get(cli_locale()), param, ctx)


DAY = _Day()


def cli_locale() -> str:
    return operator_locale()


def fail(message: str, code: int = EXIT_ERROR) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(fn):
    """Turn domain, definition and database errors into one line and an exit code."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except OcopError as exc:
            fail(exc.message(cli_locale()))
        except DefinitionError as exc:
            for problem in exc.problems:
                click.echo(DefinitionError.format_problem(problem), err=True)
            sys.exit(EXIT_ERROR)
        except SQLAlchemyError as exc:
            missing_table = "no such table" in str(exc) or "does not exist" in str(exc)
            hint = " (run `ocop db upgrade` first?)" if missing_table else ""
            fail(f"database: {str(exc.orig if hasattr(exc, 'orig') and exc.orig else exc).splitlines()[0]}{hint}")

    return wrapper


class Context:
    def __init__(self) -> None:
        self.settings = Settings()
        self._db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.settings.database_url)
        return self._db

    @property
    def registry(self) -> Registry:
        return get_registry(self.settings.workflows_dir, self.settings.default_workflow)


pass_ctx = click.make_pass_decorator(Context, ensure=True)


# Command groups that live in their own modules, which build on this one (imported when named):
# name -> (module, attribute).
LAZY_COMMANDS = {
    "council": ("cli_rounds", "council"),
    "round": ("cli_rounds", "round_group"),
    "sheet": ("cli_rounds", "sheet"),
    "certificate": ("cli_recognition", "certificate"),
    "decision": ("cli_recognition", "decision"),
    # the programme's records and plans (issue #12)
    "support": ("cli_records", "support"),
    "listing": ("cli_records", "listing"),
    "revenue": ("cli_records", "revenue"),
    "area": ("cli_programme", "area"),
    "chain": ("cli_programme", "chain"),
    "sales-point": ("cli_programme", "sales_point"),
    "training": ("cli_programme", "training"),
    "plan": ("cli_plans", "plan"),
    "report": ("cli_plans", "report"),
}


class OcopGroup(click.Group):
    """The root group; commands from other packages (the web server) join via entry points."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | {ep.name for ep in _plugins()} | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        cmd = super().get_command(ctx, name)
        if cmd is None and name in LAZY_COMMANDS:
            module, attribute = LAZY_COMMANDS[name]
            return getattr(importlib.import_module(f"{__package__}.{module}"), attribute)
        if cmd is None:
            for ep in _plugins():
                if ep.name == name:
                    return _load_plugin(ep)
        return cmd


def _load_plugin(ep) -> click.Command:
    try:
        return ep.load()
    except Exception as exc:  # a broken or missing optional part must not break the other commands
        reason = f"{type(exc).__name__}: {exc}"

        @click.command(ep.name, help=f"(unavailable: {reason})")
        def unavailable() -> None:
            fail(f"`ocop {ep.name}` is unavailable: {reason}")

        return unavailable


def _plugins() -> list:
    return list(entry_points(group="ocop.commands"))


@click.group(cls=OcopGroup)
@click.version_option(package_name="ocop-workflow")
def cli() -> None:
    """OCOP Workflow: products of the OCOP programme through their cycle."""


# --- db -------------------------------------------------------------------------------------
@cli.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@pass_ctx
@handle_errors
def db_upgrade(ctx: Context, revision: str) -> None:
    """Migrate the database to REVISION (default: the newest)."""
    migrate_db.upgrade(ctx.settings.database_url, revision)
    click.echo(f"database at {revision}: {_safe_url(ctx.settings.database_url)}")


@db.command("downgrade")
@click.argument("revision", default="base")
@pass_ctx
@handle_errors
def db_downgrade(ctx: Context, revision: str) -> None:
    """Migrate the database down to REVISION (default: empty)."""
    migrate_db.downgrade(ctx.settings.database_url, revision)
    click.echo(f"database at {revision}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- demo -----------------------------------------------------------------------------------
@cli.command()
@pass_ctx
@handle_errors
def demo(ctx: Context) -> None:
    """Migrate and fill the database with demo data (Bắc Giang); prints the logins."""
    from .demo import load_demo

    migrate_db.upgrade(ctx.settings.database_url)
    with ctx.db.session() as s:
        if s.scalar(select(func.count()).select_from(Organisation)):
            click.echo("the database already has data; demo data not loaded again")
            return
    logins = load_demo(ctx.db, ctx.registry, ctx.settings.upload_dir)
    with ctx.db.session() as s:
        count = s.scalar(select(func.count()).select_from(Product))
    click.echo(f"demo data loaded: {count} products in {_safe_url(ctx.settings.database_url)}")
    click.echo(f"{'e-mail':<36} {'password':<18} role @ organisation")
    for login in logins:
        click.echo(f"{login.email:<36} {login.password:<18} {login.role} @ {login.organisation}")


# --- org ------------------------------------------------------------------------------------
@cli.group()
def org() -> None:
    """Organisations (province, district, commune)."""


@org.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON output")
@pass_ctx
@handle_errors
def org_list(ctx: Context, as_json: bool) -> None:
    with ctx.db.session() as s:
        orgs = list(s.scalars(select(Organisation).order_by(Organisation.path)))
        rows = [
            {
                "code": o.code,
                "name": o.name,
                "level": o.level,
                "path": o.path,
                "valid_from": o.valid_from.isoformat() if o.valid_from else None,
                "valid_to": o.valid_to.isoformat() if o.valid_to else None,
            }
            for o in orgs
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        depth = r["path"].count("/") - 2
        click.echo(f"{'  ' * depth}{r['code']:<10} {r['level']:<9} {r['name']}")


# --- user -----------------------------------------------------------------------------------
@cli.group()
def user() -> None:
    """Users and their roles."""


@user.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, help="a role of workflows/catalogue.yaml")
@click.option("--org", "org_code", required=True, help="organisation code")
@click.option(
    "--producer",
    "producer_id",
    type=click.IntRange(1, 2**31 - 1),
    help="for a producer's own account: the id of the producer it acts for",
)
@click.option("--locale", default="vi", type=click.Choice(["vi", "en"]))
@pass_ctx
@handle_errors
def user_create(
    ctx: Context, email: str, name: str, role: str, org_code: str, producer_id: int | None, locale: str
) -> None:
    """Create a user with a role; the password is read from standard input or prompted for."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    with ctx.db.transaction() as s:
        organisation = directory.get_org(s, org_code)
        new = directory.create_user(s, email=email, name=name, password=password, locale=locale)
        system = Actor.system_actor(ctx.registry.policy)
        producer = get_visible_producer(s, system, producer_id) if producer_id else None
        directory.add_membership(s, ctx.registry, new, organisation, role, actor=system, producer=producer)
        click.echo(f"created user #{new.id} {new.email} as {role} @ {organisation.name}")


# --- product --------------------------------------------------------------------------------
@cli.group()
def product() -> None:
    """Products and their moves through the cycle."""


def _product_dict(p: Product, registry: Registry, locale: str, standing=None) -> dict:
    """A product as the CLI prints it; `standing` (services.certificates.Standing) says whether it is
    certified today: the one meaning of the word, as on the web and in the API."""
    d = registry.get(p.workflow_key, p.workflow_version)
    return {
        "id": p.id,
        "name": p.name,
        "group": p.product_group,
        "subgroup": p.subgroup,
        "producer": p.producer.name,
        "commune": p.commune.name,
        "workflow": d.ident,
        "state": p.state,
        "state_label": d.state_label(p.state).get(locale),
        "state_entered_at": p.state_entered_at.isoformat(),
        "star": p.current_star,
        "certified": bool(standing and standing.certified),
        "certificate": (
            {
                "code": standing.code,
                "star": standing.star,
                "status": standing.status,
                "expires_on": standing.expires_on.isoformat(),
            }
            if standing is not None
            else None
        ),
        "application_type": p.application_type,
        "version": p.version,
    }


@product.command("list")
@click.option("--state", help="only products in this state")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def product_list(ctx: Context, state: str | None, as_json: bool) -> None:
    from sqlalchemy.orm import joinedload

    locale = cli_locale()
    with ctx.db.session() as s:
        stmt = select(Product).options(joinedload(Product.producer), joinedload(Product.commune)).order_by(Product.id)
        if state:
            stmt = stmt.where(Product.state == state)
        products = list(s.scalars(stmt))
        held = standings(s, [p.id for p in products], local_day(), max(ctx.settings.certificate_notice_days, default=0))
        rows = [_product_dict(p, ctx.registry, locale, held.get(p.id)) for p in products]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        star = f"{r['star']}★" if r["star"] else "  "
        mark = " (OCOP)" if r["certified"] else ""
        click.echo(f"#{r['id']:<5} {r['state']:<16} {star:<3} {r['name']}{mark} — {r['commune']}")


@product.command("show")
@click.argument("product_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def product_show(ctx: Context, product_id: int, as_json: bool) -> None:
    from sqlalchemy.orm import joinedload

    locale = cli_locale()
    with ctx.db.session() as s:
        p = s.get(Product, product_id, options=[joinedload(Product.producer), joinedload(Product.commune)])
        if p is None:
            from .services.access import product_not_found

            raise product_not_found(product_id)
        notice = max(ctx.settings.certificate_notice_days, default=0)
        data = _product_dict(p, ctx.registry, locale, standings(s, [p.id], local_day(), notice).get(p.id))
        events = s.scalars(
            select(ProductEvent)
            .where(ProductEvent.product_id == p.id)
            .options(joinedload(ProductEvent.actor))
            .order_by(ProductEvent.seq)
        )
        data["history"] = [
            {
                "seq": e.seq,
                "at": e.at.isoformat(),
                "trigger": e.trigger,
                "from": e.from_state,
                "to": e.to_state,
                "actor": e.actor.email if e.actor else None,
                "comment": e.comment,
                "score": e.score,
                "data": e.data,
                "dossier_fingerprint": e.dossier_fingerprint,
            }
            for e in events
        ]
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    star = f" {data['star']}★" if data["star"] else ""
    click.echo(f"#{data['id']} {data['name']} ({data['group']}) — {data['producer']}, {data['commune']}")
    click.echo(f"{data['workflow']}: {data['state_label']} [{data['state']}]{star}  version {data['version']}")
    for e in data["history"]:
        extra = f" score {format_number(e['score'], cli_locale())}" if e["score"] is not None else ""
        note = f" — {e['comment']}" if e["comment"] else ""
        click.echo(
            f"  {e['seq']:>3}. {e['at'][:16]} {e['trigger']:<22} {e['from'] or '∅'} → {e['to']}"
            f"{extra} by {e['actor'] or 'system'}{note}"
        )


@product.command("advance")
@click.argument("product_id", type=int)
@click.argument("trigger")
@click.option("--as", "as_email", required=True, help="e-mail of the acting user")
@click.option("--comment")
@click.option("--score", type=NUMBER, help='a number, "85,5" or "85.5"')
@click.option("--version", "expected_version", type=int, help="refuse if the product changed since this version")
@pass_ctx
@handle_errors
def product_advance(
    ctx: Context,
    product_id: int,
    trigger: str,
    as_email: str,
    comment: str | None,
    score: float | None,
    expected_version: int | None,
) -> None:
    """Fire TRIGGER on a product as a user, under the same rules as the web."""
    with ctx.db.transaction() as s:
        actor = load_actor(s, as_email, policy=ctx.registry.policy)
        event = advance(
            s,
            ctx.registry,
            product_id,
            trigger,
            actor,
            comment=comment,
            data={"score": score} if score is not None else None,
            expected_version=expected_version,
        )
        star = f" ({event.data['star']}★)" if "star" in event.data else ""
        click.echo(f"#{product_id}: {event.from_state} → {event.to_state}{star}")


@product.command("history")
@click.argument("product_id", type=int)
@click.option("--as", "as_email", required=True)
@pass_ctx
@handle_errors
def product_history(ctx: Context, product_id: int, as_email: str) -> None:
    """The product's history as a user sees it (scoped)."""
    with ctx.db.session() as s:
        for e in history(s, load_actor(s, as_email, policy=ctx.registry.policy), product_id):
            click.echo(f"{e.seq:>3}. {e.at.isoformat()[:16]} {e.trigger} {e.from_state or '∅'} → {e.to_state}")


# --- workflow -------------------------------------------------------------------------------
@cli.group()
def workflow() -> None:
    """Workflow definitions (workflows/*.yaml)."""


@workflow.command("list")
@pass_ctx
@handle_errors
def workflow_list(ctx: Context) -> None:
    locale = cli_locale()
    reg = ctx.registry
    default_key = reg.default_definition(local_day())[0].key  # new products today start under it
    for (_key, _version), d in sorted(reg.definitions.items()):
        default = " (default)" if d.key == default_key and d.version == reg.latest(d.key).version else ""
        dates = f"from {d.effective_from or '-'}" + (f" to {d.effective_to}" if d.effective_to else "")
        click.echo(f"{d.ident:<16} {d.legal_basis:<14} {dates:<29} {d.title.get(locale)}{default}")


@workflow.command("check")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@handle_errors
def workflow_check(path: Path) -> None:
    """Validate a folder of definitions (with its catalogue.yaml) or a single definition file."""
    if path.is_dir():
        from .engine.criteria import CRITERIA_DIR
        from .engine.permissions import PERMISSIONS_FILE, load_policy
        from .engine.registry import load_sets

        cat, defs = load_directory(path)
        if (path / PERMISSIONS_FILE).exists():
            load_policy(path / PERMISSIONS_FILE, cat, defs)
            click.echo(f"ok: permissions — {path / PERMISSIONS_FILE}")
        if (path / CRITERIA_DIR).is_dir():
            criteria = load_sets(path, cat, defs)
            for key in sorted(criteria.sets):
                n = len([s for s in criteria.sheets.values() if s.set_key == key])
                click.echo(f"ok: criteria {key} ({n} sheets) — {path / CRITERIA_DIR / key}")
    else:
        from .engine.loader import CATALOGUE_FILE, load_catalogue, load_definition

        cat_path = path.parent / CATALOGUE_FILE
        if not cat_path.exists():
            cat_path = Settings().workflows_dir / CATALOGUE_FILE
        defs = [load_definition(path, load_catalogue(cat_path))]
    for d in defs:
        click.echo(f"ok: {d.ident} ({len(d.states)} states, {len(d.transitions)} transitions) — {d.path}")


@workflow.command("show")
@click.argument("name")
@click.option("--version", type=int)
@click.option("--format", "fmt", type=click.Choice(["text", "mermaid", "svg"]), default="text")
@click.option("--current", help="svg: the state to highlight")
@pass_ctx
@handle_errors
def workflow_show(ctx: Context, name: str, version: int | None, fmt: str, current: str | None) -> None:
    """A definition as text, a Mermaid diagram or an SVG drawing (in the CLI's language, OCOP_LANG)."""
    d = ctx.registry.get(name, version)
    if current is not None and current not in d.states:
        raise InvalidData(Text(f"{d.ident} không có bước {current}", f"{d.ident} has no state {current}"))
    if fmt == "svg":
        click.echo(to_svg(d, cli_locale(), current=current, standalone=True), nl=False)
    else:
        click.echo(to_mermaid(d, cli_locale(), current) if fmt == "mermaid" else to_text(d, cli_locale()), nl=False)


@workflow.command("default")
@click.option("--province", "province_code", required=True, help="code of the province")
@click.argument("key", required=False)
@click.option("--clear", is_flag=True, help="back to the definition in force each day")
@click.option("--as", "as_email", help="e-mail of the acting user (needed to change it)")
@pass_ctx
@handle_errors
def workflow_default(ctx: Context, province_code: str, key: str | None, clear: bool, as_email: str | None) -> None:
    """Show, set or clear the definition a province starts its new products under (KEY, e.g. ocop-1489)."""
    locale = cli_locale()
    if key is not None and clear:
        raise click.UsageError("give either KEY or --clear")
    with ctx.db.transaction() as s:
        province = directory.get_org(s, province_code)
        if key is not None or clear:
            if as_email is None:
                raise click.UsageError("changing it needs --as EMAIL")
            actor = load_actor(s, as_email, policy=ctx.registry.policy)
            set_default_workflow(s, ctx.registry, actor, province, None if clear else key)
        rules = definition_for_new(ctx.registry, province, local_day())
        chosen = Text("chọn của tỉnh", "the province's choice") if province.default_workflow else None
        why = chosen or Text("theo ngày áp dụng", "by the dates in force")
        d = rules.definition
        click.echo(f"{province_code}: {d.key} ({why.get(locale)}) — {d.title.get(locale)}")


@workflow.command("migrate")
@click.option("--from", "source", required=True, help="key of the definition products follow now")
@click.option("--to", "target", required=True, help="key of the newer definition")
@click.option("--apply", "do_apply", is_flag=True, help="write the changes (default: dry run)")
@click.option("--skip-unmapped", is_flag=True, help="move the mappable products even if some have no mapping")
@pass_ctx
@handle_errors
def workflow_migrate(ctx: Context, source: str, target: str, do_apply: bool, skip_unmapped: bool) -> None:
    """Move in-flight products to a newer definition through its declared state mapping."""
    with ctx.db.write_session() as s:
        plan = plan_migration(s, ctx.registry, source, target)
        for m in plan.mapped:
            click.echo(f"#{m.product_id:<5} {m.from_state:<16} → {m.to_state:<16} {m.name}")
        for m in plan.refused:
            click.echo(f"#{m.product_id:<5} {m.from_state:<16} ✗ no mapping         {m.name}")
        click.echo(f"{len(plan.mapped)} to move, {len(plan.refused)} without a mapping ({source} → {plan.target})")
        if not do_apply:
            click.echo("dry run: nothing written (add --apply)")
            if plan.refused:
                sys.exit(EXIT_REFUSED)
            return
        moved = apply_migration(s, ctx.registry, plan, skip_unmapped=skip_unmapped, now=datetime.now().astimezone())
        s.commit()
        click.echo(f"moved {moved} products to {plan.target}")


# --- users listing (handy for operators) ----------------------------------------------------
@user.command("list")
@pass_ctx
@handle_errors
def user_list(ctx: Context) -> None:
    from sqlalchemy.orm import selectinload

    from .models import Membership

    with ctx.db.session() as s:
        users = s.scalars(
            select(User)
            .options(selectinload(User.memberships).selectinload(Membership.organisation))
            .order_by(User.email)
        )
        for u in users:
            roles = ", ".join(f"{m.role}@{m.organisation.code}" for m in u.memberships)
            click.echo(f"{u.email:<36} {'active' if u.active else 'inactive':<9} {roles}")


# --- reminders and the scheduler (issue #5) -------------------------------------------------
def _parse_at(value: str | None, tz_name: str) -> datetime | None:
    """An ISO date or date-time; without an offset it is local time of the programme."""
    if not value:
        return None
    from zoneinfo import ZoneInfo

    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"not an ISO date/time: {value!r} (e.g. 2026-03-01T08:00)", param_hint="--at"
        ) from None
    return at.replace(tzinfo=ZoneInfo(tz_name)) if at.tzinfo is None else at


@cli.group()
def reminders() -> None:
    """Reminders for stalled products and expiring certificates; the mail outbox."""


@reminders.command("sweep")
@click.option(
    "--at",
    "at",
    metavar="ISO-DATETIME",
    help="sweep as of this time (default: now; without an offset: in OCOP_TIMEZONE)",
)
@click.option("--dry-run", is_flag=True, help="show what would be queued; write and send nothing")
@click.option("--no-send", is_flag=True, help="queue only; leave the mail in the outbox")
@pass_ctx
@handle_errors
def reminders_sweep(ctx: Context, at: str | None, dry_run: bool, no_send: bool) -> None:
    """Run one sweep now (or as of --at) and print what it queued and sent."""
    from .reminders.sweep import run_sweep

    settings = ctx.settings
    report = run_sweep(
        ctx.db, ctx.registry, settings, now=_parse_at(at, settings.timezone), dry_run=dry_run, send=not no_send
    )
    for line in report.lines(settings.timezone):
        click.echo(line)


@reminders.command("outbox")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(["pending", "sending", "sent", "failed", "cancelled"]),
    help="statuses to list (default: pending, sending, failed)",
)
@click.option("--limit", default=50, show_default=True)
@pass_ctx
@handle_errors
def reminders_outbox(ctx: Context, statuses: tuple[str, ...], limit: int) -> None:
    """The mail outbox: what waits, what failed and why."""
    from .notify.outbox import ADMIN_STATUSES, list_mail, mail_counts

    system = Actor.system_actor(ctx.registry.policy)
    with ctx.db.session() as s:
        counts = mail_counts(s, system)
        rows = list_mail(s, system, statuses=statuses or ADMIN_STATUSES, limit=limit)
    click.echo(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "the outbox is empty")
    for r in rows:
        error = f" — {r.last_error.splitlines()[0][:80]}" if r.last_error else ""
        click.echo(
            f"#{r.id:<6} {r.status:<9} tries {r.attempts:<2} next {r.next_attempt_at.isoformat()[:16]} "
            f"{r.to_address:<32} {r.subject[:60]}{error}"
        )


@reminders.command("retry")
@click.argument("outbox_id", type=int)
@pass_ctx
@handle_errors
def reminders_retry(ctx: Context, outbox_id: int) -> None:
    """Send a failed message again at the next sweep."""
    from .notify.outbox import retry_mail

    with ctx.db.transaction() as s:
        retry_mail(s, outbox_id, Actor.system_actor(ctx.registry.policy))
    click.echo(f"#{outbox_id}: will be sent at the next sweep")


@cli.command("scheduler")
@pass_ctx
@handle_errors
def scheduler_command(ctx: Context) -> None:
    """Run the reminder scheduler (APScheduler) in this process until stopped."""
    import logging

    from .reminders.scheduler import run_scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = ctx.settings
    ctx.registry  # noqa: B018 - fail now, not at the first run, if the definitions are broken
    mail = "SMTP " + _safe_smtp(settings.smtp_url) if settings.smtp_url else "no SMTP (mail waits in the outbox)"
    click.echo(
        f"scheduler: a sweep every {settings.sweep_minutes} min ({settings.timezone}), "
        f"{_safe_url(settings.database_url)}, {mail}"
    )
    run_scheduler(settings)


def _safe_smtp(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or ''}"


# --- personal API tokens (issue #4) ---------------------------------------------------------
@cli.group()
def token() -> None:
    """Personal API tokens for the JSON API (/api/v1): shown once, stored hashed."""


def _token_user(s, email: str) -> User:
    found = s.scalars(select(User).where(User.email == email.strip().lower())).one_or_none()
    if found is None:
        from .errors import NotFound
        from .i18n import Text

        raise NotFound(Text(f"Không có người dùng {email}", f"No user {email}"))
    return found


@token.command("create")
@click.option("--user", "email", required=True, help="e-mail of the user the token acts as")
@click.option("--name", default="cli", show_default=True, help="what the token is for")
@click.option("--expires", "days", type=click.IntRange(1, 3650), help="valid for DAYS days (default: until revoked)")
@pass_ctx
@handle_errors
def token_create(ctx: Context, email: str, name: str, days: int | None) -> None:
    """Create a token acting as a user; the token is printed once (keep it, it cannot be shown again)."""
    from .services import tokens

    with ctx.db.transaction() as s:
        issued = tokens.create_token(s, _token_user(s, email), name=name, expires_days=days)
        row = issued.row
        until = row.expires_at.isoformat()[:16] if row.expires_at else "until revoked"
        click.echo(f'token #{row.id} "{row.name}" for {email} ({until}); it is shown only now:', err=True)
    click.echo(issued.token)


@token.command("list")
@click.option("--user", "email", required=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def token_list(ctx: Context, email: str, as_json: bool) -> None:
    """A user's tokens (never their secrets), newest first."""
    from .services import tokens

    with ctx.db.session() as s:
        rows = [
            {
                "id": t.id,
                "name": t.name,
                "prefix": f"ocop_{t.prefix}_…",
                "status": tokens.status(t),
                "created_at": t.created_at.isoformat(),
                "expires_at": t.expires_at.isoformat() if t.expires_at else None,
                "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
            }
            for t in tokens.list_tokens(s, _token_user(s, email).id)
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        expires = (r["expires_at"] or "never")[:16]
        used = (r["last_used_at"] or "never")[:16]
        click.echo(
            f"#{r['id']:<5} {r['status']:<8} {r['prefix']:<20} expires {expires:<16} used {used:<16} {r['name']}"
        )


@token.command("revoke")
@click.argument("token_id", type=int)
@pass_ctx
@handle_errors
def token_revoke(ctx: Context, token_id: int) -> None:
    """Revoke a token by its number (see `ocop token list`); it stops working at once."""
    from .services import tokens

    with ctx.db.transaction() as s:
        row = tokens.revoke_token(s, token_id)
        click.echo(f'token #{row.id} "{row.name}" revoked')


# --- uploads --------------------------------------------------------------------------------------
@cli.group()
def uploads() -> None:
    """The upload folder (OCOP_UPLOAD_DIR)."""


@uploads.command("clean")
@click.option(
    "--older-than-minutes",
    default=60,
    show_default=True,
    type=click.IntRange(min=0),
    help="only files last written longer ago than this (younger ones may be uploads in flight)",
)
@click.option("--dry-run", is_flag=True, help="list what would be removed; remove nothing")
@pass_ctx
@handle_errors
def uploads_clean(ctx: Context, older_than_minutes: int, dry_run: bool) -> None:
    """Remove the `.part` files and the files no document names that interrupted uploads left behind."""
    from .services.uploads import clean_uploads

    with ctx.db.session() as s:
        report = clean_uploads(
            s, ctx.settings.upload_dir, older_than=timedelta(minutes=older_than_minutes), dry_run=dry_run
        )
    for line in report.lines(dry_run):
        click.echo(line.get(cli_locale()))


def main() -> None:
    from .config import ConfigError

    try:
        cli(prog_name="ocop")
    except ConfigError as exc:  # read when a command starts, outside its own error handling
        fail(str(exc))


if __name__ == "__main__":
    main()
