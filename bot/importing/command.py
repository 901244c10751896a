"""What ``tribebot import telegram|discord`` runs: a progress bar by bytes read, the import,
and the counts at the end. Exit codes as the rest of the CLI: 0 done, 2 the input needs
fixing (what came before the problem is saved), 1 failure."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from bot.config import Settings
from bot.core.history import ImportProblem
from bot.i18n import catalog
from bot.importing.runner import Importer, ImportReport
from bot.importing.sources import DiscordSource, Source, TelegramSource
from bot.importing.words import problem_text, report_lines

BAD_INPUT = 2
T = TypeVar("T")
Run = Callable[[Callable[[], Awaitable[T]]], T]


def _asyncio_run(factory: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(factory())  # type: ignore[arg-type]


def telegram_source(path: Path, *, chat: str | None, community: str | None,
                    bots: tuple[str, ...], settings: Settings) -> Source:
    from bot.adapters.telegram.history import bots_from

    token = settings.telegram.token
    own = token.get_secret_value().split(":", 1)[0] if token is not None else ""
    return TelegramSource(path, chat=chat, community=community, bots=bots_from(bots),
                          own_bot=int(own) if own.isdigit() else None)


def discord_source(paths: tuple[Path, ...]) -> Source:
    return DiscordSource(list(paths))


def run_import(settings: Settings, make_source: Callable[[], Source], *, out: Console,
               err: Console, timezone: str | None = None, batch: int | None = None,
               run: Run[ImportReport] = _asyncio_run) -> int:
    """Import, print the counts; returns the exit code. ``run`` runs the coroutine (the
    CLI's, which turns store problems into sentences)."""
    tr = catalog(settings.bot.language)
    try:
        source = make_source()
    except ImportProblem as exc:
        err.print(problem_text(exc, tr).plain(), style="red", markup=False, soft_wrap=True)
        return BAD_INPUT
    report = run(lambda: _import(settings, source, err, timezone, batch))
    tr = catalog(report.language)
    for line in report_lines(report, tr):
        out.print(line.plain(), markup=False, soft_wrap=True)
    if report.problem is not None:
        err.print(problem_text(report.problem, tr).plain(), style="red", markup=False,
                  soft_wrap=True)
        return BAD_INPUT
    return 0


async def _import(settings: Settings, source: Source, err: Console, timezone: str | None,
                  batch: int | None) -> ImportReport:
    from bot.signals import install_stop_signals

    stop = asyncio.Event()
    install_stop_signals(stop.set)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TextColumn("{task.fields[messages]:,} messages"),
               TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True,
                  disable=not err.is_terminal) as bar:
        task = bar.add_task(source.name or source.community, total=source.size, messages=0)

        def progress(done: int, total: int, report: ImportReport) -> None:
            bar.update(task, completed=done, total=total, messages=report.messages)

        extra = {"batch": batch} if batch is not None else {}
        importer = Importer(settings, source, progress=progress, timezone=timezone,
                            should_stop=stop.is_set, **extra)
        return await importer.run()
