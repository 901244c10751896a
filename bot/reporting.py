"""`tribebot report`: the weekly summary straight from the database, no bot running."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.communities import Communities
from bot.config import Settings
from cogs.summary.chart import write_chart
from cogs.summary.report import WeekError, build_summary, parse_week, to_markdown, to_text
from storage import open_repository


class ReportError(Exception):
    """The report cannot be made as asked (unknown community, bad week)."""


async def render_report(settings: Settings, community: str, week: str | None, fmt: str,
                        chart: Path | None, *, now: datetime | None = None) -> str:
    repository = await open_repository(settings.storage.url, writable=False)
    try:
        communities = Communities(settings, repository)
        await communities.load()
        if not communities.is_known(community):
            known = ", ".join(communities.all()) or "none yet"
            raise ReportError(f"no community {community!r} in this database; known: {known}")
        zone = communities.timezone(community)
        if week is None:
            today = (now or datetime.now(UTC)).astimezone(zone).date()
            day = today - timedelta(days=7)
        else:
            try:
                year, number = parse_week(week)
            except WeekError as exc:
                raise ReportError(str(exc)) from None
            day = datetime.fromisocalendar(year, number, 1).date()
        summary = await build_summary(repository, community, communities.name(community), zone,
                                      day=day, policy=settings.journey)
        tr = communities.catalog(community)
        if chart is not None:
            write_chart(summary.history, summary.name, summary.week, chart, tr)
        if fmt == "json":
            return json.dumps(summary.to_json(), ensure_ascii=False, indent=2) + "\n"
        if fmt == "markdown":
            return to_markdown(summary, tr)
        return to_text(summary, tr).plain() + "\n"
    finally:
        await repository.close()
