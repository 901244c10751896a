"""The ``tribebot`` command line. Exit codes: 0 ok, 2 bad input, 1 failure."""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from bot.config import ConfigError, Settings, load_settings
from bot.ownership import Ownership
from storage import DatabaseError, WriterStopped
from storage.problems import store_problem

if TYPE_CHECKING:
    from storage.copy import CopyReport

T = TypeVar("T")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

BAD_INPUT = 2
FAILURE = 1

log = logging.getLogger(__name__)


def _setup_logging(level: str, settings: Settings | None = None) -> None:
    """Log to stderr at ``level``; the configured tokens are redacted from every record."""
    logging.basicConfig(
        level=level.upper(), format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, rich_tracebacks=False)],
        force=True,
    )
    for noisy in ("aiosqlite", "discord.gateway", "httpx", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if settings is not None:
        from bot.redaction import install, secrets_of

        install(secrets_of(settings))


def _settings(config: Path | None, db: str | None = None) -> Settings:
    """Load settings or exit 2 listing every problem."""
    if config is None and Path("config.toml").is_file():
        config = Path("config.toml")
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(problem, style="red", markup=False, soft_wrap=True)
        sys.exit(BAD_INPUT)
    if db is not None:
        settings = settings.model_copy(
            update={"storage": settings.storage.model_copy(update={"url": _as_url(db)})}
        )
    return settings


def _check_store(settings: Settings) -> None:
    """Refuse an unusable database in one sentence before anything heavy is loaded (the
    runtime checks it again when it opens the store)."""
    from storage.store import check_store

    try:
        check_store(settings.storage.url)
    except DatabaseError as exc:
        err.print(str(exc), style="red", markup=False, soft_wrap=True)
        sys.exit(BAD_INPUT)


def _as_url(db: str) -> str:
    """``--db``: a file, a ``sqlite:///`` URL or a ``postgresql://`` URL (exit 2 if not)."""
    from bot.config import check_store_url

    try:
        return check_store_url(db)
    except ValueError as exc:
        err.print(f"--db: {exc}", style="red", markup=False, soft_wrap=True)
        sys.exit(BAD_INPUT)


def _run(coro_factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; user-fixable store problems exit 2, never with a traceback."""
    try:
        return asyncio.run(coro_factory())  # type: ignore[arg-type]
    except DatabaseError as exc:
        err.print(str(exc), style="red", markup=False, soft_wrap=True)
        sys.exit(BAD_INPUT)
    except WriterStopped as exc:  # a full disk, a database another program keeps locked
        err.print(str(exc), style="red", markup=False, soft_wrap=True)
        sys.exit(FAILURE)
    except Exception as exc:
        problem = store_problem(exc)  # a lock, a timeout, a server going away midway
        if problem is None:
            raise
        log.debug("the store stopped the command", exc_info=exc)
        err.print(problem, style="red", markup=False, soft_wrap=True)
        sys.exit(FAILURE)


config_option = click.option(
    "--config", "config", type=click.Path(path_type=Path, dir_okay=False),
    help="Config file (default: ./config.toml if present, else built-in defaults).",
)
db_option = click.option(
    "--db", "--url", "db",
    help="Database file, sqlite:/// or postgresql:// URL (overrides the config).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tribebot")
def main() -> None:
    """Tribebot turns a Discord or Telegram group into a community.

    Start with `tribebot demo`, then copy config.example.toml to config.toml and
    `tribebot run --config config.toml`.
    """


@main.command()
@click.option("--config", "config", required=True,
              type=click.Path(path_type=Path, dir_okay=False), help="Config file.")
def run(config: Path) -> None:
    """Run the bot on the platforms enabled in the config, until Ctrl+C."""
    settings = _settings(config)
    _setup_logging(settings.bot.log_level, settings)
    if not (settings.discord.enabled or settings.telegram.enabled):
        err.print(f"{config.name}: no platform is enabled; set enabled = true under "
                  "[discord] or [telegram]", style="red", markup=False)
        sys.exit(BAD_INPUT)
    _check_store(settings)
    from bot.service import serve

    code = _run(lambda: serve(settings))
    sys.exit(code)


@main.command("check-config")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
def check_config(path: Path) -> None:
    """Validate a config file and report every problem at once."""
    settings = _settings(path)
    enabled = [p for p in ("discord", "telegram") if getattr(settings, p).enabled]
    serves = ""
    if settings.discord.sharded:  # one of several processes: say which part is this one's
        serves = f"; this process serves {Ownership.of(settings).describe()}"
    out.print(f"{path.name}: OK — platforms enabled: {', '.join(enabled) or 'none'}; "
              f"store: {settings.storage.url}{serves}", markup=False)


@main.command()
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@config_option
@db_option
@click.option("--quiet", is_flag=True, help="Do not print the bot's posts.")
def replay(file: Path, config: Path | None, db: str | None, quiet: bool) -> None:
    """Feed a JSON Lines file of events through the real bot, offline."""
    settings = _settings(config, db)
    _setup_logging(settings.bot.log_level, settings)
    _check_store(settings)
    from bot.replay import replay_file

    report = _run(lambda: replay_file(settings, file, echo=not quiet, console=out))
    for problem in report.errors:
        err.print(problem, style="yellow", markup=False, soft_wrap=True)
    out.print(f"replayed {report.events} events and {report.commands} commands from {file.name}"
              f" ({report.duplicates} duplicates ignored, {len(report.errors)} bad lines)")
    if report.stopped_early:
        out.print("stopped early; everything handled so far is saved")
    sys.exit(BAD_INPUT if report.errors else 0)


@main.command()
@click.option("--db", "db", type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the demo database (default: a new temporary folder).")
@click.option("--quiet", is_flag=True, help="Only print the summary at the end.")
@click.option("--export", "export_to", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the sample community as a replay file instead of running it.")
def demo(db: Path | None, quiet: bool, export_to: Path | None) -> None:
    """Replay the bundled sample community: 8 weeks, 70 members, English and Hebrew."""
    if export_to is not None:
        from bot.demo import export

        out.print(f"wrote {export(export_to):,} records to {export_to}")
        return
    if db is None:
        db = Path(tempfile.mkdtemp(prefix="tribebot-demo-")) / "demo.db"
    elif db.exists():
        err.print(f"{db} already exists; choose a new file for the demo", style="red",
                  markup=False)
        sys.exit(BAD_INPUT)
    settings = _settings(None, str(db))
    _setup_logging("warning")
    from bot.demo import run_demo

    _run(lambda: run_demo(settings, console=out, echo=not quiet))
    out.print(f"\nThe demo database is at [bold]{db.resolve()}[/bold] — try "
              f"`tribebot db stats --db {db}`")


@main.command()
@click.option("--community", required=True, help="Community id, e.g. discord:1234 or "
              "console:makers (see `tribebot db stats`).")
@click.option("--week", help="ISO week like 2026-W47 (default: the last full week).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]),
              default="text", show_default=True)
@click.option("--chart", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write the PNG chart here.")
@config_option
@db_option
def report(community: str, week: str | None, fmt: str, chart: Path | None,
           config: Path | None, db: str | None) -> None:
    """Print a community's weekly summary from the database (no bot needed)."""
    settings = _settings(config, db)
    from bot.reporting import ReportError, render_report

    try:
        output = _run(lambda: render_report(settings, community, week, fmt, chart))
    except ReportError as exc:
        err.print(str(exc), style="red", markup=False, soft_wrap=True)
        sys.exit(BAD_INPUT)
    click.echo(output, nl=False)


@main.group("db")
def db_group() -> None:
    """Database maintenance: migrate, stats, recompute."""


@db_group.command("migrate")
@config_option
@db_option
def db_migrate(config: Path | None, db: str | None) -> None:
    """Apply pending schema migrations (also done at start-up)."""
    settings = _settings(config, db)

    async def go() -> list[str]:
        from storage import open_repository

        repo = await open_repository(settings.storage.url)
        await repo.close()
        return repo.migrations_applied

    applied = _run(go)
    out.print(f"applied {len(applied)} migration(s): {', '.join(applied)}" if applied
              else "the database is up to date")


@db_group.command("stats")
@config_option
@db_option
def db_stats(config: Path | None, db: str | None) -> None:
    """Row counts per table and the schema version."""
    settings = _settings(config, db)

    async def go() -> tuple[int, dict[str, int]]:
        from storage import open_repository

        repo = await open_repository(settings.storage.url)
        try:
            return await repo.schema_version(), await repo.counts()
        finally:
            await repo.close()

    version, counts = _run(go)
    table = Table(title=f"{settings.storage.url} (schema {version})")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    out.print(table)


@db_group.command("recompute")
@config_option
@db_option
def db_recompute(config: Path | None, db: str | None) -> None:
    """Rebuild point totals from the ledger and report any that had drifted."""
    settings = _settings(config, db)

    async def go() -> int:
        from storage import open_repository

        repo = await open_repository(settings.storage.url)
        try:
            return await repo.recompute_totals()
        finally:
            await repo.close()

    drift = _run(go)
    out.print("totals match the ledger" if drift == 0
              else f"rebuilt totals: {drift} member total(s) differed from the ledger")
    sys.exit(0)


@db_group.command("copy")
@click.argument("source")
@click.argument("destination")
def db_copy(source: str, destination: str) -> None:
    """Copy every table from SOURCE to the empty DESTINATION (file or URL), e.g.
    `tribebot db copy sqlite:///tribebot.db postgresql://bot@localhost/tribebot`."""
    source, destination = _as_url(source), _as_url(destination)

    async def go() -> CopyReport:
        from storage.copy import copy_store

        return await copy_store(source, destination)

    report = _run(go)
    if report.already_there:
        out.print("the destination holds the same data already; nothing was copied")
        return
    out.print(f"copied {sum(report.rows.values()):,} rows in {len(report.rows)} tables")


# -- tribebot import (issue 18): the work is in bot/importing/ ---------------------------
timezone_option = click.option(
    "--timezone", help="The community's time zone (IANA name, e.g. Asia/Jerusalem): the "
    "days and weeks of the imported history are its local ones.")


@main.group("import")
def import_group() -> None:
    """Import a group's history so points, stages and summaries start with it."""


def _import_timezone(timezone: str | None) -> str | None:
    from bot.config import validate_timezone

    if timezone is None:
        return None
    try:
        return validate_timezone(timezone)
    except ValueError as exc:
        err.print(f"--timezone: {exc}", style="red", markup=False)
        sys.exit(BAD_INPUT)


@import_group.command("telegram")
@click.argument("path", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--community", help="The group as the bot knows it, e.g. telegram:-1001234567 "
              "(checked against the export).")
@click.option("--chat", help="In a whole-account export: the chat's id or name.")
@click.option("--bot", "bots", multiple=True, help="A member that is a bot (Telegram's "
              "export does not say); repeat for several.")
@timezone_option
@config_option
@db_option
def import_telegram(path: Path, community: str | None, chat: str | None,
                    bots: tuple[str, ...], timezone: str | None, config: Path | None,
                    db: str | None) -> None:
    """A Telegram Desktop export (Export chat history, format JSON: result.json)."""
    settings = _settings(config, db)
    _setup_logging(settings.bot.log_level)
    from bot.importing.command import run_import, telegram_source

    zone = _import_timezone(timezone)
    sys.exit(run_import(settings, lambda: telegram_source(
        path, chat=chat, community=community, bots=bots, settings=settings),
        out=out, err=err, timezone=zone, run=_run))


@import_group.command("discord")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(path_type=Path, exists=True, dir_okay=False))
@timezone_option
@config_option
@db_option
def import_discord(paths: tuple[Path, ...], timezone: str | None, config: Path | None,
                   db: str | None) -> None:
    """DiscordChatExporter JSON files (one per channel) of one server."""
    settings = _settings(config, db)
    _setup_logging(settings.bot.log_level)
    from bot.importing.command import discord_source, run_import

    zone = _import_timezone(timezone)
    sys.exit(run_import(settings, lambda: discord_source(paths), out=out, err=err,
                        timezone=zone, run=_run))
