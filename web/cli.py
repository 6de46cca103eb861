"""`ocop serve`: the web application under waitress (registered through the ocop.commands entry point).

Before serving, `ocop uploads clean` runs once with its defaults (files older than an hour).

`--with-scheduler` also runs the reminder sweep in a thread of this process, for the embedded
single-machine setup (SQLite) only. In production the scheduler is its own process (`ocop
scheduler`): a web server may run several processes, be restarted on deploys, or run on several
hosts, and each would start another scheduler; the sweep would still send nothing twice (the
database keys make it idempotent), but its work and its failures belong in one supervised process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket

import click

from ocop_workflow.config import Settings


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads (per process).")
@click.option(
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes accepting on the same port (POSIX). One per CPU core serves more requests: with "
    "SQLite in WAL mode readers run side by side and writers queue on a lock file. Login rate "
    "limits are counted per process.",
)
@click.option(
    "--with-scheduler",
    is_flag=True,
    help="Also run the reminder scheduler in this process (embedded SQLite only; in production run "
    "`ocop scheduler` as its own process).",
)
def serve(host: str, port: int, threads: int, processes: int, with_scheduler: bool) -> None:
    """Run the web application with waitress."""
    from waitress import serve as waitress_serve

    from . import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings()
    if with_scheduler:
        check_embedded_scheduler(settings)
    schedulers = []

    def start_scheduler() -> None:  # in the serving process, after any fork (threads do not survive one)
        if with_scheduler:
            schedulers.append(start_embedded_scheduler(settings))

    def make_app():
        return create_app(settings, _local_overrides(host, settings))

    clean_uploads_at_start(settings)
    try:
        _serve(waitress_serve, make_app, host, port, threads, processes, start_scheduler)
    finally:
        for scheduler in schedulers:
            scheduler.shutdown(wait=False)


def clean_uploads_at_start(settings: Settings) -> None:
    """`ocop uploads clean` with its defaults, once before serving (in the parent, before any fork).

    Uploads killed with the previous server left `.part` files and files without a row; nothing is
    in flight yet, and the one-hour limit still spares any other server sharing the folder. A
    failure (no database yet, a read-only folder) is logged and never stops the server.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from ocop_workflow.cli import cli_locale
    from ocop_workflow.db import Database
    from ocop_workflow.services.uploads import clean_uploads

    db = Database(settings.database_url)
    try:
        with db.session() as s:
            report = clean_uploads(s, settings.upload_dir)
    except (SQLAlchemyError, OSError) as exc:
        logging.getLogger(__name__).warning("upload folder not cleaned: %s", str(exc).splitlines()[0])
        return
    finally:
        db.dispose()
    if report.removed or report.skipped_orphans:
        for line in report.lines(dry_run=False):
            click.echo(f"uploads: {line.get(cli_locale())}")


def check_embedded_scheduler(settings: Settings) -> None:
    """Refuse `--with-scheduler` unless the database is the embedded SQLite one."""
    from ocop_workflow.cli import cli_locale
    from ocop_workflow.i18n import Text

    if not settings.database_url.startswith("sqlite"):
        raise click.UsageError(
            Text(
                "--with-scheduler chỉ dùng với cơ sở dữ liệu SQLite nhúng; với PostgreSQL hãy chạy `ocop scheduler` "
                "thành một tiến trình riêng",
                "--with-scheduler is for the embedded SQLite database only; with PostgreSQL run `ocop scheduler` "
                "as its own process",
            ).get(cli_locale())
        )


def start_embedded_scheduler(settings: Settings):
    """The reminder scheduler (APScheduler's BackgroundScheduler) in a thread of this process."""
    from ocop_workflow.reminders.scheduler import start_background_scheduler

    click.echo(f"reminder scheduler: a sweep every {settings.sweep_minutes} min in this process")
    return start_background_scheduler(settings)


def _local_overrides(host: str, settings: Settings) -> dict:
    """Plain HTTP on this machine only (OCOP_SECURE_COOKIES unset): cookies without Secure. Behind a TLS proxy
    (any other address) the cookies stay Secure."""
    if host in ("127.0.0.1", "localhost", "::1") and settings.secure_cookies is None:
        return {"SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False}
    return {}


def _serve(waitress_serve, make_app, host: str, port: int, threads: int, processes: int, before_serving) -> None:
    if processes == 1:
        app = make_app()
        click.echo(f"OCOP Workflow on http://{host}:{port}/ ({threads} threads)")
        before_serving()
        waitress_serve(app, host=host, port=port, threads=threads, ident="ocop")
        return
    if not hasattr(os, "fork"):
        raise click.UsageError("--processes needs a POSIX system (fork); use one process here")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=1024)
    click.echo(f"OCOP Workflow on http://{host}:{port}/ ({processes} processes x {threads} threads)")
    children = []
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:  # the app (and its database connections) is made in each process, after the fork
            code = 0
            try:
                waitress_serve(make_app(), sockets=[sock], threads=threads, ident="ocop")
            except KeyboardInterrupt:
                pass
            except BaseException:
                logging.getLogger(__name__).exception("worker process failed")
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    sock.close()
    before_serving()  # the parent only waits for its children: it can run the scheduler

    def stop(signum, _frame) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        while True:
            try:
                os.waitpid(child, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                break
