"""The summary cog: posts the weekly summary to the owners, on the day and hour they chose.

It posts to the owners' channel (never the public channel unless a moderator sets it),
catches up once after a restart if the slot passed while the bot was down, and answers
`summary now` with the week so far. Each week's post is claimed in the store first, so
of several processes on one database (or a catch-up racing the slot) exactly one posts.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path

from bot.context import CogContext
from bot.core.actions import Post
from bot.core.cog import Cog, EventHandler, command
from bot.core.commands import (
    ChannelRef,
    CommandError,
    Invocation,
    Option,
    OptionKind,
    Reply,
)
from bot.core.events import CommunityJoined, Event, TimeZoneChanged
from bot.core.text import ChannelLink
from cogs.summary.chart import write_chart
from cogs.summary.report import WeeklySummary, build_summary, to_text
from cogs.summary.settings import DAYS, SUMMARY
from storage.summary import SummaryStore

log = logging.getLogger(__name__)

#: A summary whose slot passed while the bot was down is still posted within this time.
CATCH_UP = timedelta(hours=12)


class SummaryCog(Cog):
    name = "summary"
    declares = SUMMARY

    def __init__(self, ctx: CogContext) -> None:
        super().__init__(ctx)
        db = ctx.repository.path
        self.claims = SummaryStore(ctx.repository)
        #: who claims a week: enough for an operator to find the process that posted it
        self.claimant = (f"{socket.gethostname()}:{os.getpid()} "
                         f"({ctx.communities.ownership.describe()})")
        # charts live beside the database, where owners look for the bot's files
        self._charts = (Path(db).resolve().parent / "charts" if db != ":memory:"
                        else Path(tempfile.mkdtemp(prefix="tribebot-charts-")))

    async def start(self) -> None:
        for community, week in await self.claims.release_interrupted(
                self.ctx.communities.owns):
            log.warning("the weekly summary %s of %s was claimed but not posted before the "
                        "bot stopped; it may be posted now", week, community)
        now = self.ctx.clock.now()
        for community in self.ctx.communities.owned():
            # a timer, not now: the adapters connect after the cogs start, and the outbox
            # holds the post until the community's platform is connected
            self.ctx.timers.call_at(now, f"summary-catch-up:{community}",
                                    self._catch_up_later(community))
            self.schedule(community)

    def _catch_up_later(self, community: str) -> Callable[[], Awaitable[None]]:
        async def catch_up() -> None:
            if await self.ctx.outbox.until_connected(community):
                await self._catch_up(community)

        return catch_up

    def listeners(self) -> Mapping[type[Event], EventHandler]:
        return {CommunityJoined: self.on_community, TimeZoneChanged: self.on_community}

    async def on_community(self, event: CommunityJoined | TimeZoneChanged) -> None:
        self.schedule(event.community)  # the slot is a local time: plan it again

    # -- scheduling --------------------------------------------------------------------
    def _slot(self, community: str) -> tuple[int, time]:
        day = self.settings.get(community, "day")
        hour, minute = map(int, self.settings.get(community, "time").split(":"))
        return DAYS.index(day), time(hour, minute)

    def next_slot(self, community: str, after: datetime) -> datetime:
        weekday, at = self._slot(community)
        zone = self.ctx.communities.timezone(community)
        local = after.astimezone(zone)
        day = local.date() + timedelta(days=(weekday - local.weekday()) % 7)
        slot = datetime.combine(day, at, tzinfo=zone)
        return slot if slot > after else datetime.combine(day + timedelta(days=7), at,
                                                          tzinfo=zone)

    def schedule(self, community: str) -> None:
        key = f"summary:{community}"
        if self.settings.get(community, "off") or not self.ctx.communities.owns(community):
            self.ctx.timers.cancel(key)
            return
        due = self.next_slot(community, self.ctx.clock.now())

        async def post() -> None:
            await self.post_weekly(community)
            self.schedule(community)

        self.ctx.timers.call_at(due, key, post)

    async def _catch_up(self, community: str) -> None:
        now = self.ctx.clock.now()
        last_slot = self.next_slot(community, now - timedelta(days=7))
        if last_slot > now or now - last_slot > CATCH_UP:
            return
        if self.ctx.communities.get(community, "summary.last_week") != self._week_label(
                community, last_slot - timedelta(days=7)):
            await self.post_weekly(community)

    def _week_label(self, community: str, moment: datetime) -> str:
        local = moment.astimezone(self.ctx.communities.timezone(community)).date()
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"

    # -- building and posting ----------------------------------------------------------
    async def summary(self, community: str, day: date, *, until: datetime | None = None
                      ) -> WeeklySummary:
        await self.ctx.repository.flush()
        return await build_summary(
            self.ctx.repository, community, self.ctx.communities.name(community),
            self.ctx.communities.timezone(community), day=day, policy=self.ctx.settings.journey,
            until=until)

    def chart(self, summary: WeeklySummary) -> Path | None:
        if not summary.history:
            return None
        name = f"{summary.community.replace(':', '-')}-{summary.week}.png"
        return write_chart(summary.history, summary.name, summary.week, self._charts / name,
                           self.ctx.communities.catalog(summary.community))

    def destination(self, community: str) -> str | None:
        return (self.settings.get(community, "channel")
                or self.ctx.communities.get(community, "owners_channel"))

    async def post_weekly(self, community: str) -> WeeklySummary | None:
        """Post last full week's summary to the owners (the slot's week is the new one);
        None when that week's summary was claimed already (posted, or being posted)."""
        now = self.ctx.clock.now()
        local = now.astimezone(self.ctx.communities.timezone(community)).date()
        channel = self.destination(community)
        if channel is None:
            log.warning("no owners' channel in %s: weekly summary not posted", community)
            return await self.summary(community, local - timedelta(days=7))
        week = self._week_label(community, now - timedelta(days=7))
        claim = uuid.uuid4().hex
        if not await self.claims.claim_week(community, week, claim=claim, by=self.claimant,
                                            at=now):
            log.info("the weekly summary %s of %s is claimed already: not posted again",
                     week, community)
            return None
        summary = await self.summary(community, local - timedelta(days=7))
        tr = self.ctx.communities.catalog(community)
        delivery = await self.ctx.outbox.send(Post(
            community=community, channel=channel, text=to_text(summary, tr),
            file=self.chart(summary), kind="weekly_summary"))
        if delivery.ok:
            self.ctx.communities.set(community, "summary.last_week", summary.week)
            self.claims.mark_posted(community, week, claim=claim, at=self.ctx.clock.now())
        else:  # not posted: the next try (a catch-up at the next start) may post it
            self.claims.release_week(community, week, claim=claim)
        return summary

    # -- commands ----------------------------------------------------------------------
    @command("summary now", "This week's summary so far, here", moderator=True)
    async def cmd_now(self, inv: Invocation) -> Reply:
        local = inv.at.astimezone(self.ctx.communities.timezone(inv.community)).date()
        summary = await self.summary(inv.community, local, until=inv.at)
        tr = self.ctx.communities.catalog(inv.community)
        return Reply(to_text(summary, tr), file=self.chart(summary))

    @command("summary channel", "Where the weekly summary is posted",
             Option("channel", OptionKind.CHANNEL, "The channel"), moderator=True)
    async def cmd_channel(self, inv: Invocation) -> Reply:
        channel: ChannelRef = inv.args["channel"]
        self.settings.change(inv.community, "channel", channel.id)
        self.settings.change(inv.community, "off", False)
        self.schedule(inv.community)
        return Reply(self.ctx.communities.catalog(inv.community).gettext(
            "The weekly summary will be posted in {channel}.",
            channel=ChannelLink(channel.id, channel.name)))

    @command("summary time", "When the weekly summary is posted (local time)",
             Option("day", OptionKind.CHOICE, "Day of the week", choices=DAYS),
             Option("time", OptionKind.TEXT, "HH:MM, 24-hour"), moderator=True)
    async def cmd_time(self, inv: Invocation) -> Reply:
        tr = self.ctx.communities.catalog(inv.community)
        text = str(inv.args["time"]).strip()
        try:
            parsed = datetime.strptime(text, "%H:%M").time()
        except ValueError:
            raise CommandError(tr.gettext(
                "“{time}” is not a time like 09:00 (24-hour, HH:MM); nothing was changed.",
                time=text)) from None
        self.settings.change(inv.community, "day", inv.args["day"])
        self.settings.change(inv.community, "time", parsed.strftime("%H:%M"))
        self.settings.change(inv.community, "off", False)
        self.schedule(inv.community)
        due = self.next_slot(inv.community, inv.at)
        return Reply(tr.gettext("Next weekly summary: {when} ({zone}).",
                                when=due.strftime("%a %Y-%m-%d %H:%M"),
                                zone=str(self.ctx.communities.timezone(inv.community))))

    @command("summary off", "Stop the weekly summary", moderator=True)
    async def cmd_off(self, inv: Invocation) -> Reply:
        self.settings.change(inv.community, "off", True)
        self.schedule(inv.community)
        return Reply(self.ctx.communities.catalog(inv.community).gettext(
            "The weekly summary is off. /summary time or /summary channel turns it on."))
