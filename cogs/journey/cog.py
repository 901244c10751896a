"""The journey cog: keeps every member's stage current and announces moves on the bus.

Stages are recomputed from stored activity at start, promoted as soon as a message
earns it, and demoted only by the weekly sweep at the community's Monday midnight. A
message earns it only once the engagement rules counted it as contribution (the
``ContributionCounted`` they publish): farming is not contribution.
Every move is stored (with when each stage was first reached) and published as a
StageChanged event; referral credit is given when an invitee becomes a participant.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta

from bot.context import CogContext
from bot.core.cog import Cog, EventHandler
from bot.core.events import (
    PARTICIPANT,
    REGULAR,
    ContributionCounted,
    Event,
    HelpfulAnswerGiven,
    InviteUsed,
    MemberForgotten,
    MemberJoined,
    NewcomerGreeted,
    ReactionAdded,
    ReferralConverted,
    StageChanged,
)
from cogs.journey.settings import JOURNEY
from cogs.journey.stages import (
    RANK,
    JourneyPolicy,
    Signals,
    is_drifting,
    is_lurker,
    stage_now,
    week_of_day,
)
from storage.journey import JourneyStore

log = logging.getLogger(__name__)


@dataclass(slots=True)
class MemberJourney:
    weeks: set[int] = field(default_factory=set)
    reacted: bool = False
    stage: str | None = None
    drifting: bool = False
    lurker: bool = False
    ever_regular: bool = False
    signals: Signals = field(default_factory=Signals)


class JourneyCog(Cog):
    name = "journey"
    #: the thresholds are the same for every community (the config file's [journey])
    declares = JOURNEY

    def __init__(self, ctx: CogContext) -> None:
        super().__init__(ctx)
        self.store = JourneyStore(ctx.repository)
        self.policy: JourneyPolicy = ctx.settings.journey
        self._members: dict[tuple[str, str], MemberJourney] = {}
        self._bots: set[str] = set()
        self._inviters: dict[tuple[str, str], str] = {}
        self._scheduled: set[str] = set()

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        for community in self.ctx.communities.owned():
            await self._load(community)
            await self.sweep(community)

    async def _load(self, community: str) -> None:
        store = self.store
        for member, (is_bot, _) in (await store.members(community)).items():
            if is_bot:
                self._bots.add(member)
            else:
                self._journey(community, member)
        for member, history in (await store.activity(community)).items():
            journey = self._journey(community, member)
            journey.weeks = {week_of_day(w) for w in history.weeks}
            journey.reacted = history.reacted
        for member, row in (await store.stages(community)).items():
            journey = self._journey(community, member)
            journey.stage, journey.drifting, journey.lurker = row.stage, row.drifting, row.lurker
            journey.ever_regular = RANK[row.stage] >= RANK[REGULAR] or row.drifting
        referrals: dict[str, int] = {}
        for (member, reason), day in (await store.ledger_signals(community)).items():
            journey = self._journey(community, member)
            week = week_of_day(day)
            if reason == "helpful_answer":
                journey.signals = replace(journey.signals, helped_week=week)
            elif reason == "welcomed_newcomer":
                journey.signals = replace(journey.signals, greeted_week=week)
            else:
                referrals[member] = referrals.get(member, 0) + 1
        for member, count in referrals.items():
            journey = self._journey(community, member)
            journey.signals = replace(journey.signals, referrals=count)
        for member, inviter in (await store.inviters(community)).items():
            self._inviters[(community, member)] = inviter

    def listeners(self) -> Mapping[type[Event], EventHandler]:
        return {
            MemberJoined: self.on_join,
            ContributionCounted: self.on_contribution,
            ReactionAdded: self.on_reaction,
            InviteUsed: self.on_invite,
            HelpfulAnswerGiven: self.on_helpful,
            NewcomerGreeted: self.on_greeting,
            MemberForgotten: self.on_forgotten,
        }

    def _journey(self, community: str, member: str) -> MemberJourney:
        key = (community, member)
        journey = self._members.get(key)
        if journey is None:
            journey = self._members[key] = MemberJourney()
        return journey

    def stage(self, community: str, member: str) -> str | None:
        journey = self._members.get((community, member))
        return journey.stage if journey else None

    def _week(self, community: str, at: datetime) -> int:
        return week_of_day(self.ctx.communities.local_day(community, at))

    # -- events ------------------------------------------------------------------------
    async def on_join(self, event: MemberJoined) -> None:
        if event.is_bot:
            self._bots.add(event.member)
            return
        self._journey(event.community, event.member)
        self._evaluate(event.community, event.member, event.at)
        self._schedule_sweep(event.community)

    async def on_contribution(self, event: ContributionCounted) -> None:
        if event.member in self._bots:
            return
        journey = self._journey(event.community, event.member)
        week = self._week(event.community, event.at)
        if week in journey.weeks and journey.stage is not None and not journey.drifting:
            return  # nothing that decides the stage has changed
        journey.weeks.add(week)
        self._evaluate(event.community, event.member, event.at)
        self._schedule_sweep(event.community)

    async def on_reaction(self, event: ReactionAdded) -> None:
        if event.reactor_is_bot:
            return
        journey = self._journey(event.community, event.reactor)
        if not journey.reacted:
            journey.reacted = True
            self._evaluate(event.community, event.reactor, event.at)

    async def on_invite(self, event: InviteUsed) -> None:
        if event.inviter and event.inviter != event.member:
            self._inviters[(event.community, event.member)] = event.inviter

    async def on_helpful(self, event: HelpfulAnswerGiven) -> None:
        journey = self._journey(event.community, event.member)
        journey.signals = replace(journey.signals,
                                  helped_week=self._week(event.community, event.at))
        self._evaluate(event.community, event.member, event.at)

    async def on_forgotten(self, event: MemberForgotten) -> None:
        self._members.pop((event.community, event.member), None)

    async def on_greeting(self, event: NewcomerGreeted) -> None:
        journey = self._journey(event.community, event.member)
        journey.signals = replace(journey.signals,
                                  greeted_week=self._week(event.community, event.at))
        self._evaluate(event.community, event.member, event.at)

    # -- evaluation --------------------------------------------------------------------
    def _evaluate(self, community: str, member: str, at: datetime,
                  week: int | None = None) -> None:
        journey = self._journey(community, member)
        current = self._week(community, at) if week is None else week
        new = stage_now(journey.weeks, current, journey.signals, self.policy)
        if RANK[new] >= RANK[REGULAR]:
            journey.ever_regular = True
        drifting = is_drifting(journey.weeks, current, journey.ever_regular, self.policy)
        lurker = is_lurker(journey.weeks, journey.reacted)
        old = journey.stage
        if (new, drifting, lurker) == (old, journey.drifting, journey.lurker):
            return
        journey.stage, journey.drifting, journey.lurker = new, drifting, lurker
        self.store.set_stage(community, member, new, at, drifting, lurker)
        if new == old:
            return
        day = self.ctx.communities.local_day(community, at)
        self.store.record_move(community, member, old, new, at, day)
        self.ctx.publish(StageChanged(community=community, at=at, member=member, old=old,
                                      new=new))
        became_participant = (RANK[new] >= RANK[PARTICIPANT]
                              and (old is None or RANK[old] < RANK[PARTICIPANT]))
        inviter = self._inviters.get((community, member))
        if became_participant and inviter is not None:
            self.ctx.publish(ReferralConverted(community=community, at=at, inviter=inviter,
                                               member=member))
            boss = self._journey(community, inviter)
            boss.signals = replace(boss.signals, referrals=boss.signals.referrals + 1)
            self._evaluate(community, inviter, at, current)

    async def sweep(self, community: str) -> None:
        """Re-evaluate everyone (demotions and drifting happen here, once a week)."""
        now = self.ctx.clock.now()
        current = self._week(community, now)
        for (comm, member) in list(self._members):
            if comm == community and member not in self._bots:
                self._evaluate(community, member, now, current)
        self._schedule_sweep(community, force=True)

    def _schedule_sweep(self, community: str, *, force: bool = False) -> None:
        """Next Monday 00:00 local (a few seconds after, past any midnight rounding)."""
        if community in self._scheduled and not force:
            return
        self._scheduled.add(community)
        zone = self.ctx.communities.timezone(community)
        local = self.ctx.clock.now().astimezone(zone)
        monday = local.date() - timedelta(days=local.weekday()) + timedelta(weeks=1)
        due = datetime.combine(monday, time(0, 0, 5), tzinfo=zone)

        async def run() -> None:
            await self.sweep(community)

        self.ctx.timers.call_at(due, f"journey-sweep:{community}", run)

