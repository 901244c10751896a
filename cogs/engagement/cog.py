"""The engagement cog: wires the pure rules to events, the ledger and commands.

The per-message path never waits for the database: cooldowns, caps, spam prints and
totals live in memory; ledger rows go through the batched writer. What memory holds is
rebuilt from the store at start (totals, announced levels, today's caps and earnings, the
last message award), and what it let go of is read back when needed (a member not seen for
a long time, a message reacted to long after it was posted), so a restart changes nothing:
a reply from before it still earns the helpful-answer bonus, a cap still holds. Every
decision depends on the events and the store, never on what happens to still be in memory.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.context import CogContext
from bot.core.actions import Post, SetRole
from bot.core.attachments import CSV_FILE, Attachment, safe_name
from bot.core.bounded import BoundedDict
from bot.core.cog import Cog, EventHandler, command
from bot.core.commands import (
    ChannelRef,
    CommandError,
    Invocation,
    MemberRef,
    Option,
    OptionKind,
    Reply,
    unknown_channel,
)
from bot.core.events import (
    STAGES,
    ContributionCounted,
    Event,
    HelpfulAnswerGiven,
    MemberForgotten,
    MemberJoined,
    MessagePosted,
    NewcomerGreeted,
    ReactionAdded,
    ReactionRemoved,
    ReferralConverted,
)
from bot.core.ids import platform_of
from bot.core.settings import SettingError, refusal
from bot.core.text import Mention, RichText, compose
from cogs.engagement.rules import (
    MemberState,
    MessageAward,
    Policy,
    award_message,
    award_reaction,
    level_for,
    level_of,
    level_up_due,
    message_points,
    reward_for,
    streaks,
)
from cogs.engagement.settings import ENGAGEMENT
from cogs.journey.stages import week_of_day
from storage.journey import JourneyStore
from storage.points import MessageFacts

log = logging.getLogger(__name__)

MAX_GRANT = 1_000_000
#: Leaderboard pages (10 members each) a member can ask for.
MAX_PAGE = 100_000
#: Points one row of an imported CSV may carry (either sign): another bot's XP totals run
#: into the millions, and a member's sum of them must stay far inside 64-bit integers.
MAX_IMPORTED = 1_000_000_000
STREAK_WINDOW_DAYS = 370
#: The words that clear a setting naming channels.
CLEARED = frozenset({"", "none", "-"})
#: What memory holds at most; the rest is read back from the store when needed.
KNOWN_MESSAGES = 100_000
KNOWN_MEMBERS = 100_000
KNOWN_NAMES = 50_000
KNOWN_BOTS = 10_000
KNOWN_AWARDS = 50_000
#: How far back the ledger is read at start: a whole local day in any time zone (caps and
#: earnings of "today") and the longest cooldown.
RECENT_LEDGER = timedelta(hours=50)
#: Reasons that count towards the daily cap.
EARNING = ("message", "reply", "reaction_received", "helpful_answer", "welcomed_newcomer",
           "referral")


@dataclass(slots=True)
class _Message:
    """What a reaction needs of the message it reacts to."""

    author: str
    channel: str | None
    parent: str | None  # set when the message replies to another member
    #: the helpful-answer bonus is settled (given, or spent at the daily cap)
    helped: bool = False
    #: reaction points the message earned (the per-message cap)
    points: int = 0
    #: (reactor, emoji) -> the points that reaction still holds; a key present means the
    #: reaction was added once, so adding it again earns nothing
    reactions: dict[tuple[str, str], int] | None = None

    @classmethod
    def stored(cls, facts: MessageFacts) -> _Message:
        parent = (facts.reply_to_author
                  if facts.reply_to_author not in (None, facts.author) else None)
        return cls(facts.author, facts.channel, parent, facts.helped, facts.reaction_points,
                   dict(facts.reactions))


MEMBER = Option("member", OptionKind.MEMBER, "The member", required=True)
AMOUNT = Option("amount", OptionKind.INTEGER, "How many points", minimum=1, maximum=MAX_GRANT)


class EngagementCog(Cog):
    name = "engagement"
    declares = ENGAGEMENT

    def __init__(self, ctx: CogContext) -> None:
        super().__init__(ctx)
        self._states: BoundedDict[tuple[str, str], MemberState] = BoundedDict(KNOWN_MEMBERS)
        self._messages: BoundedDict[tuple[str, str], _Message] = BoundedDict(KNOWN_MESSAGES)
        self._bots: BoundedDict[str, None] = BoundedDict(KNOWN_BOTS)
        #: community -> local day -> (reactor, author) -> reaction points given that day
        self._given: dict[str, dict[str, dict[tuple[str, str], int]]] = {}
        self._names: BoundedDict[tuple[str, str], str] = BoundedDict(KNOWN_NAMES)
        #: achievements awarded while running (community, member, reason, ref)
        self._awarded: BoundedDict[tuple[str, str, str, str], None] = BoundedDict(
            KNOWN_AWARDS)
        #: the last week each member's messages counted as contribution (for the journey)
        self._counted_week: BoundedDict[tuple[str, str], int] = BoundedDict(KNOWN_MEMBERS)

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        repo = self.ctx.repository
        latest = await repo.latest_event_time() or self.ctx.clock.now()
        for community in self.ctx.communities.owned():
            season = self.ctx.communities.season(community)
            states = self._states
            for member, points in (await repo.point_totals(community, season)).items():
                states.put((community, member), MemberState(total=points))
            for member, level in (await repo.announced_levels(community, season)).items():
                self._loaded_state(community, member).announced = level
            for member in await repo.bot_members(community):
                self._bots.put(member, None)
            self._rebuild_today(community, await repo.recent_ledger(
                community, latest - RECENT_LEDGER))

    def _loaded_state(self, community: str, member: str) -> MemberState:
        state = self._states.get((community, member))
        if state is None:
            state = MemberState()
            self._states.put((community, member), state)
        return state

    def _rebuild_today(self, community: str, rows: Sequence[Any]) -> None:
        """Caps, earnings and cooldowns of the last days, from the ledger rows of them."""
        earned: dict[str, dict[str, int]] = {}
        for row in rows:
            state = self._loaded_state(community, row.member)
            if row.reason == "message" and row.delta > 0 and (
                    state.last_award is None or row.at > state.last_award):
                state.last_award = row.at
            if row.reason in EARNING:
                days = earned.setdefault(row.member, {})
                days[row.day] = days.get(row.day, 0) + row.delta
            if row.reason == "reaction_received" and row.delta > 0:
                reactor = row.ref.split("|")[1] if row.ref.count("|") >= 2 else ""
                given = self._given_on(community, row.day)
                given[(reactor, row.member)] = given.get((reactor, row.member), 0) + row.delta
        for member, days in earned.items():
            state = self._loaded_state(community, member)
            state.day = max(days)
            state.earned_today = days[state.day]

    def listeners(self) -> Mapping[type[Event], EventHandler]:
        return {
            MemberJoined: self.on_member_joined,
            MessagePosted: self.on_message,
            ReactionAdded: self.on_reaction_added,
            ReactionRemoved: self.on_reaction_removed,
            NewcomerGreeted: self.on_greeting,
            MemberForgotten: self.on_forgotten,
            ReferralConverted: self.on_referral,
        }

    # -- policy ------------------------------------------------------------------------
    def policy(self, community: str) -> Policy:
        """The community's settings: its own, else the config file's, else the declared."""
        policy: Policy = self.settings.values(community)
        return policy

    # -- what memory holds, or the store ----------------------------------------------
    async def _state(self, community: str, member: str, day: str | None = None
                     ) -> MemberState:
        """A member's state: from memory, else (memory let it go) from the store."""
        key = (community, member)
        state = self._states.touch(key)
        if state is not None:
            return state
        if self._states.evicted:
            day = day or self.ctx.communities.local_day(community, self.ctx.clock.now())
            season = self.ctx.communities.season(community)
            stored = await self.ctx.repository.member_standing(community, season, member,
                                                               day, EARNING)
            state = self._states.touch(key)  # filled in meanwhile by another task?
            if state is not None:
                return state
            state = MemberState(last_award=stored.last_award, day=day,
                                earned_today=stored.earned_on_day, total=stored.total,
                                announced=stored.announced)
        else:
            state = MemberState()  # nothing was ever let go: a member never seen
        self._states.put(key, state)
        return state

    async def _message(self, community: str, message: str, author: str | None
                       ) -> _Message | None:
        """A message's facts: from memory, else from the store (posted before a restart or
        long ago); None if nobody knows who wrote it."""
        key = (community, message)
        entry = self._messages.get(key)
        if entry is not None:
            return entry
        facts = await self.ctx.repository.message_facts(community, message, author)
        entry = self._messages.get(key)
        if entry is not None:
            return entry
        if facts is None:
            return None
        if facts.author_is_bot:
            self._bots.put(facts.author, None)
        entry = _Message.stored(facts)
        self._messages.put(key, entry)
        return entry

    def _given_on(self, community: str, day: str) -> dict[tuple[str, str], int]:
        """Reaction points given per (reactor, author) on a local day; two days are kept."""
        days = self._given.get(community)
        if days is None:  # not setdefault: that builds a dict per reaction to throw away
            days = self._given[community] = {}
        given = days.get(day)
        if given is None:
            given = days[day] = {}
            while len(days) > 2:
                del days[min(days)]
        return given

    # -- events ------------------------------------------------------------------------
    async def on_member_joined(self, event: MemberJoined) -> None:
        if event.name:
            self._names.put((event.community, event.member), event.name)
        if event.is_bot:
            self._bots.put(event.member, None)

    async def _name(self, community: str, member: str) -> str:
        """A member's display name: from events seen, else once from the store."""
        name = self._names.get((community, member))
        if name is None:
            stored = await self.ctx.repository.member_names(community, [member])
            name = stored.get(member) or member.split(":", 1)[1]
            self._names.put((community, member), name)
        return name

    async def on_message(self, event: MessagePosted) -> None:
        community, author = event.community, event.author
        if event.author_name:
            self._names.put((community, author), event.author_name)
        parent = (event.reply_to_author if event.reply_to_author not in (None, author)
                  else None)
        self._messages.put((community, event.message), _Message(author, event.channel, parent))
        if event.author_is_bot:
            self._bots.put(author, None)
        policy = self.policy(community)
        day = self.ctx.communities.local_day(community, event.at)
        state = self._states.touch((community, author)) or await self._state(community, author,
                                                                             day)
        excluded = (event.channel in policy.excluded_channels
                    or (event.thread is not None and event.thread in policy.excluded_channels))
        award = award_message(
            policy, state, at=event.at, day=day, length=event.length, text=event.text,
            is_bot=event.author_is_bot, excluded=excluded,
            replies_to_other=parent is not None and parent not in self._bots,
            drawn=message_points(policy, community, event.message),
            has_media=event.has_media,
        )
        if not event.author_is_bot:
            self._count_contribution(event, day, award)
        earned = award.message_points + award.reply_points
        if not earned:
            return
        if award.message_points:
            self._ledger(community, author, award.message_points, "message", event.message,
                         event.at, day)
        if award.reply_points:
            self._ledger(community, author, award.reply_points, "reply", event.message,
                         event.at, day)
        # the next level to announce is almost never reached: no coroutine for that
        if level_up_due(state.total - earned, state.total, state.announced,
                        policy.level_curve):
            await self._maybe_level_up(community, author, state, state.total - earned,
                                       event.channel, policy)

    def _count_contribution(self, event: MessagePosted, day: str, award: MessageAward) -> None:
        """Farming is not contribution: a refused message is stored as farmed (the weekly
        rollups leave it out), a counted one tells the journey, once per member and week."""
        key = (event.community, event.author)
        if award.farmed:
            self.ctx.repository.record_farmed(event.community, event.message, event.author,
                                              award.why_not, event.at, day)
        elif self._counted_week.get(key) != (week := week_of_day(day)):
            self._counted_week.put(key, week)
            self.ctx.publish(ContributionCounted(community=event.community, at=event.at,
                                                 member=event.author, message=event.message))

    async def on_reaction_added(self, event: ReactionAdded) -> None:
        community = event.community
        if event.reactor_is_bot:
            return
        entry = self._messages.get((community, event.message)) or await self._message(
            community, event.message, event.message_author)
        if entry is None:
            return  # nobody knows who wrote it: there is nobody to credit
        author = entry.author
        if author == event.reactor or author in self._bots:
            return
        policy = self.policy(community)
        if entry.channel is not None and entry.channel in policy.excluded_channels:
            return
        day = self.ctx.communities.local_day(community, event.at)
        state = self._states.touch((community, author)) or await self._state(community, author,
                                                                             day)
        before = state.total
        reactions = entry.reactions
        if reactions is None:
            reactions = entry.reactions = {}
        key, pair = (event.reactor, event.emoji), (event.reactor, author)
        first = key not in reactions
        given = self._given_on(community, day) if first else {}
        award = award_reaction(policy, state, day=day, first_time=first,
                               given_by_reactor=given.get(pair, 0), message_points=entry.points,
                               answers_member=entry.parent is not None, helped=entry.helped)
        if first:
            reactions[key] = award.points
        if award.points:
            given[pair] = given.get(pair, 0) + award.points
            entry.points += award.points
            self._ledger(community, author, award.points, "reaction_received",
                         _reaction_ref(event), event.at, day)
        if award.helpful_bonus is not None:
            entry.helped = True
            # a row even at the cap (0 points): the store must know the bonus is settled
            self._ledger(community, author, award.helpful_bonus, "helpful_answer",
                         event.message, event.at, day)
            self.ctx.publish(HelpfulAnswerGiven(community=community, at=event.at,
                                                member=author, message=event.message))
        if level_up_due(before, state.total, state.announced, policy.level_curve):
            await self._maybe_level_up(community, author, state, before, entry.channel,
                                       policy)

    async def on_forgotten(self, event: MemberForgotten) -> None:
        community, member = event.community, event.member
        self._states.pop((community, member), None)
        self._names.pop((community, member), None)
        for key in [k for k, m in self._messages.items()
                    if k[0] == community and m.author == member]:
            del self._messages[key]
        self._counted_week.pop((community, member), None)

    async def on_greeting(self, event: NewcomerGreeted) -> None:
        # The welcome cog, the one publisher of NewcomerGreeted, makes sure before it
        # publishes that this very row (member, "welcomed_newcomer", newcomer) is not in
        # the ledger (see ``_credit_greeting`` in cogs/welcome/cog.py: from its memory for
        # a newcomer the store had never seen, else by asking), and only ``_award`` writes
        # such rows: a row that check could not see is one this process wrote for an
        # earlier greeting, which ``_awarded`` (and the bus, by the event's key)
        # remembers. Asking again was one more store trip per greeting, same answer.
        await self._award(event.community, event.member, self.policy(event.community)
                          .welcome_points, "welcomed_newcomer", event.newcomer, event.at,
                          event.channel, asked=True)

    async def on_referral(self, event: ReferralConverted) -> None:
        # the journey publishes a conversion without asking the ledger: asked here
        await self._award(event.community, event.inviter, self.policy(event.community)
                          .referral_points, "referral", event.member, event.at, None)

    async def _award(self, community: str, member: str, points: int, reason: str, ref: str,
                     at: datetime, channel: str | None, *, asked: bool = False) -> None:
        """Points for a derived achievement, once per ref, within the daily cap. Its event
        can come again after a restart, so the ledger is asked (achievements are rare),
        unless the publisher asked it already (``asked``)."""
        if points <= 0 or member in self._bots:
            return
        done = (community, member, reason, ref)
        if done in self._awarded:
            return
        self._awarded.put(done, None)
        if not asked and await self.ctx.repository.ledger_has(community, member, reason, ref):
            return
        day = self.ctx.communities.local_day(community, at)
        state = await self._state(community, member, day)
        points = min(points, state.room_today(day, self.policy(community).daily_cap))
        before = state.total
        state.earn(points)
        # a row even at the cap (0 points), so that a second delivery is known
        self._ledger(community, member, points, reason, ref, at, day)
        await self._maybe_level_up(community, member, state, before, channel)

    async def on_reaction_removed(self, event: ReactionRemoved) -> None:
        community = event.community
        entry = await self._message(community, event.message, event.message_author)
        if entry is None:
            return
        reactions = entry.reactions
        if reactions is None:
            reactions = entry.reactions = {}
        key = (event.reactor, event.emoji)
        held = reactions.get(key, 0)
        reactions[key] = 0  # a later re-add of the same reaction earns nothing
        if held <= 0:
            return
        day = self.ctx.communities.local_day(community, event.at)
        state = await self._state(community, entry.author, day)
        state.total -= held
        self._ledger(community, entry.author, -held, "reaction_removed", _reaction_ref(event),
                     event.at, day)

    def _ledger(
        self, community: str, member: str, delta: int, reason: str, ref: str, at: datetime,
        day: str, *, actor: str | None = None, note: str = "",
    ) -> None:
        self.ctx.repository.add_ledger(
            community, member, season=self.ctx.communities.season(community), delta=delta,
            reason=reason, ref=ref, at=at, day=day, actor=actor, note=note,
        )

    async def _maybe_level_up(
        self, community: str, member: str, state: MemberState, before: int,
        channel: str | None, policy: Policy | None = None,
    ) -> None:
        """Announce a level the total crossed, once: never one announced before (this
        season), whatever the total did in between or how often an event is re-delivered.
        ``policy``: the community's, when the caller has it at hand already."""
        after = state.total
        if policy is None:
            policy = self.policy(community)
        if not level_up_due(before, after, state.announced, policy.level_curve):
            return  # the level reached now was announced already (the usual case)
        new = level_of(after, policy.level_curve)
        old = max(level_of(before, policy.level_curve), state.announced)
        if new <= old:
            return
        state.announced = new
        await self._level_up(community, member, policy, old, new, channel)
        # stored once announced: a crash in between announces it again rather than never
        self.ctx.repository.set_announced_level(
            community, self.ctx.communities.season(community), member, new)

    async def _level_up(
        self, community: str, member: str, policy: Policy, old: int, new: int,
        channel: str | None,
    ) -> None:
        reward, lower = reward_for(new, policy.level_rewards)
        old_reward, _ = reward_for(old, policy.level_rewards)
        new_reward = reward if reward != old_reward else None
        if new_reward is not None:
            await self.ctx.outbox.send(SetRole(community=community, member=member,
                                               role=new_reward))
            if policy.remove_lower_rewards:
                for role in lower:
                    await self.ctx.outbox.send(SetRole(community=community, member=member,
                                                       role=role, grant=False))
        target = (policy.level_up_channel or channel
                  or self.ctx.communities.get(community, "default_channel"))
        if not policy.level_up_announcements or not target:
            return
        name = await self._name(community, member)
        text = self._level_up_text(community, policy, member, name, new, new_reward)
        await self.ctx.outbox.send(Post(community=community, channel=target, text=text,
                                        kind="level_up"))

    def _level_up_text(
        self, community: str, policy: Policy, member: str, name: str, level: int,
        reward: str | None,
    ) -> RichText:
        tr = self.ctx.communities.catalog(community)
        values = {"member": Mention(member, name), "name": name, "level": level,
                  "reward": reward or ""}
        default = self.settings.default("level_up_template")
        template = policy.level_up_template
        if template == default:
            text = tr.gettext("🎉 {member} reached level {level}!", **values)
        else:
            text = compose(template, values, isolate=tr.rtl)
        if reward:
            text = text + tr.gettext(" New reward: {reward}.", reward=reward)
        return text

    # -- commands ----------------------------------------------------------------------
    def _tr(self, inv: Invocation) -> Any:
        return self.ctx.communities.catalog(inv.community)

    @command("rank", "Your level, points, rank and streak",
             Option("member", OptionKind.MEMBER, "Whose rank (default: yours)", required=False))
    async def cmd_rank(self, inv: Invocation) -> Reply:
        tr = self._tr(inv)
        who: MemberRef = inv.args.get("member") or inv.invoker
        community = inv.community
        season = self.ctx.communities.season(community)
        repo = self.ctx.repository
        standing = await repo.standing(community, season, who.id)
        points = standing.points if standing else 0
        policy = self.policy(community)
        progress = level_for(points, policy.level_curve)
        today = date.fromisoformat(self.ctx.communities.local_day(community, inv.at))
        window = [(today - timedelta(days=n)).isoformat() for n in range(STREAK_WINDOW_DAYS)]
        days = [date.fromisoformat(d) for d in await repo.active_days(community, who.id, window)]
        day_streak, week_streak = streaks(days, today)
        text = tr.gettext(
            "{member}: level {level}, {points} points ({into}/{needed} to level {next}).",
            member=Mention(who.id, who.name), level=progress.level, points=points,
            into=progress.into_level, needed=progress.needed, next=progress.level + 1,
        )
        if standing is not None and points > 0:
            text = text + tr.gettext(" Rank #{rank}.", rank=standing.rank)
        text = text + tr.ngettext(" Streak: {n} day", " Streak: {n} days", day_streak)
        text = text + tr.ngettext(", {n} week.", ", {n} weeks.", week_streak)
        stage = await JourneyStore(repo).stage_of(community, who.id)
        if stage is not None:
            text = text + tr.gettext(" Stage: {stage}.", stage=_stage_label(tr, stage.stage))
        if season > 1:
            last = await repo.standing(community, season - 1, who.id)
            if last is not None:
                text = text + tr.gettext(" Last season: {points} points.", points=last.points)
        return Reply(text)

    @command("top", "The leaderboard",
             Option("period", OptionKind.CHOICE, "week, month or all", required=False,
                    choices=("week", "month", "all")),
             Option("page", OptionKind.INTEGER, "Page number", required=False, minimum=1,
                    maximum=MAX_PAGE))
    async def cmd_top(self, inv: Invocation) -> Reply:
        tr = self._tr(inv)
        community = inv.community
        if not self.policy(community).public_leaderboard:
            return Reply(tr.gettext("The public leaderboard is turned off here; "
                                    "/rank still shows your own standing."), private=True)
        period = inv.args.get("period") or "all"
        page = max(int(inv.args.get("page") or 1), 1)
        today = date.fromisoformat(self.ctx.communities.local_day(community, inv.at))
        since = {"week": today - timedelta(days=today.weekday()),
                 "month": today.replace(day=1)}.get(period)
        rows = await self.ctx.repository.leaderboard(
            community, self.ctx.communities.season(community),
            since_day=since.isoformat() if since else None, limit=10, offset=(page - 1) * 10,
        )
        titles = {"week": tr.gettext("Top members this week"),
                  "month": tr.gettext("Top members this month"),
                  "all": tr.gettext("Top members this season")}
        text = titles[period] + tr.gettext(" (page {page}):", page=page)
        if not rows:
            return Reply(text + tr.gettext(" nobody has points yet."))
        for row in rows:
            text = text + tr.gettext("\n{rank}. {name} — {points}", rank=row.rank,
                                     name=row.name or row.member.split(":", 1)[1],
                                     points=row.points)
        return Reply(text)

    @command("points history", "Why you have your points",
             Option("member", OptionKind.MEMBER, "Whose history (moderators)", required=False))
    async def cmd_history(self, inv: Invocation) -> Reply:
        tr = self._tr(inv)
        who: MemberRef = inv.args.get("member") or inv.invoker
        if who.id != inv.invoker.id and not inv.is_moderator:
            raise CommandError(tr.gettext("Only moderators can see another member's history."))
        rows = await self.ctx.repository.ledger_history(inv.community, who.id, limit=10)
        if not rows:
            return Reply(tr.gettext("{member} has no points yet.",
                                    member=Mention(who.id, who.name)), private=True)
        text = tr.gettext("Last points of {member}:", member=Mention(who.id, who.name))
        tz = self.ctx.communities.timezone(inv.community)
        for row in rows:
            text = text + tr.gettext("\n{delta} {reason} · {when}", delta=f"{row.delta:+d}",
                                     reason=_reason_label(tr, row.reason, row.note),
                                     when=row.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"))
        return Reply(text, private=True)

    async def _manual(self, inv: Invocation, delta: int, reason: str, note: str) -> None:
        who: MemberRef = inv.args["member"]
        community = inv.community
        day = self.ctx.communities.local_day(community, inv.at)
        state = await self._state(community, who.id, day)
        before = state.total
        state.total += delta
        self._ledger(community, who.id, delta, reason, f"cmd:{uuid.uuid4().hex}", inv.at, day,
                     actor=inv.invoker.id, note=note)
        await self._maybe_level_up(community, who.id, state, before, inv.channel)

    def _amount(self, inv: Invocation) -> int:
        amount = int(inv.args["amount"])
        if not 1 <= amount <= MAX_GRANT:
            raise CommandError(self._tr(inv).gettext(
                "The amount must be between 1 and {max}.", max=MAX_GRANT))
        return amount

    @command("points give", "Give points to a member", MEMBER, AMOUNT,
             Option("reason", OptionKind.TEXT, "Why"), moderator=True)
    async def cmd_give(self, inv: Invocation) -> Reply:
        amount = self._amount(inv)
        await self._manual(inv, amount, "moderator", inv.args["reason"])
        who: MemberRef = inv.args["member"]
        return Reply(self._tr(inv).gettext("Gave {points} points to {member}.", points=amount,
                                           member=Mention(who.id, who.name)))

    @command("points take", "Take points from a member", MEMBER, AMOUNT,
             Option("reason", OptionKind.TEXT, "Why"), moderator=True)
    async def cmd_take(self, inv: Invocation) -> Reply:
        amount = self._amount(inv)
        await self._manual(inv, -amount, "moderator", inv.args["reason"])
        who: MemberRef = inv.args["member"]
        return Reply(self._tr(inv).gettext("Took {points} points from {member}.", points=amount,
                                           member=Mention(who.id, who.name)))

    @command("points reset", "Reset a member's points this season", MEMBER, moderator=True)
    async def cmd_reset(self, inv: Invocation) -> Reply:
        who: MemberRef = inv.args["member"]
        total = (await self._state(inv.community, who.id)).total
        if total:
            await self._manual(inv, -total, "reset", "")
        return Reply(self._tr(inv).gettext("{member} now has 0 points this season.",
                                           member=Mention(who.id, who.name)))

    @command("points import", "Import points from another bot (CSV)",
             Option("file", OptionKind.FILE, "CSV: member id, points", accepts=CSV_FILE),
             moderator=True)
    async def cmd_import(self, inv: Invocation) -> Reply:
        tr = self._tr(inv)
        upload: Attachment = inv.args["file"]
        data = upload.data
        rows = parse_points_csv(data, platform_of(inv.community), tr)
        ref = "import:" + hashlib.sha256(data).hexdigest()[:16]
        day = self.ctx.communities.local_day(inv.community, inv.at)
        for member, points in rows:
            if await self.ctx.repository.ledger_has(inv.community, member, "imported", ref):
                continue
            state = await self._state(inv.community, member, day)
            state.total += points
            self._ledger(inv.community, member, points, "imported", ref, inv.at, day,
                         actor=inv.invoker.id, note=safe_name(upload.name))
        return Reply(tr.ngettext("Imported points for {n} member.",
                                 "Imported points for {n} members.", len(rows)))

    @command("season close", "Archive totals and restart the leaderboard", moderator=True)
    async def cmd_season_close(self, inv: Invocation) -> Reply:
        community = inv.community
        await self.ctx.repository.flush()
        season = self.ctx.communities.season(community) + 1
        self.ctx.communities.set_season(community, season)
        self.ctx.repository.set_season(community, season)
        for (comm, _), state in self._states.items():
            if comm == community:
                state.total = state.announced = 0
        return Reply(self._tr(inv).gettext(
            "Season {season} has started: the leaderboard starts from zero and last season's "
            "totals stay visible in /rank.", season=season))

    @command("engagement set", "Change an engagement setting",
             Option("key", OptionKind.TEXT, "Setting name"),
             Option("value", OptionKind.TEXT, "New value"), moderator=True)
    async def cmd_set(self, inv: Invocation) -> Reply:
        tr = self._tr(inv)
        key, raw = str(inv.args["key"]), str(inv.args["value"])
        try:
            value, shown = self.settings.parse(key, raw), None
            if ENGAGEMENT[key].channels is not None:  # typed as #name, a name, an id or
                value, shown = self._channel_setting(inv, key, raw)  # here; stored as ids
            stored = self.settings.change(inv.community, key, value)
        except SettingError as exc:
            raise refusal(tr, exc) from None
        return Reply(tr.gettext("{key} is now {value}.", key=key,
                                value=shown or json.dumps(stored, ensure_ascii=False)))

    def _channel_setting(self, inv: Invocation, key: str, raw: str
                         ) -> tuple[list[str] | str, str]:
        """(ids to store, names to show) for a setting that names channels; ``none`` clears
        it. A list is separated by commas (or spaces, when no channel has the whole name)."""
        text = raw.strip()
        many = bool(ENGAGEMENT[key].channels)
        if text.lower() in CLEARED:
            return ([] if many else ""), "—"
        found: dict[str, ChannelRef] = {}
        for part in ([p.strip() for p in text.split(",") if p.strip()] if many else [text]):
            whole = inv.channels(part)
            words = [part] if whole is not None or not many else part.split()
            for word in words:
                channel = whole if whole is not None else inv.channels(word)
                if channel is None:
                    raise unknown_channel(f"engagement set {key}", word, self._tr(inv))
                found.setdefault(channel.id, channel)
        shown = ", ".join(f"#{c.name}" for c in found.values())
        return (list(found) if many else next(iter(found))), shown

    @command("engagement show", "Show the engagement settings", moderator=True)
    async def cmd_show(self, inv: Invocation) -> Reply:
        tr = self._tr(inv)
        policy = self.policy(inv.community)
        text = tr.gettext("Engagement settings:")
        names = dict(await self.ctx.repository.channels(inv.community))
        for key, value in policy.model_dump().items():
            shown = json.dumps(value, ensure_ascii=False)
            if ENGAGEMENT[key].channels is not None:  # stored as ids, shown as the channels' names
                ids = value if isinstance(value, list | tuple) else [value] if value else []
                shown = ", ".join(f"#{names[c]}" if c in names else c for c in ids) or "—"
            text = text + tr.gettext("\n{key} = {value}", key=key, value=shown)
        return Reply(text, private=True)


def _stage_label(tr: Any, stage: str) -> str:
    return str(tr.phrase(stage)) if stage in STAGES else stage


def _reaction_ref(event: ReactionAdded | ReactionRemoved) -> str:
    return f"{event.message}|{event.reactor}|{event.emoji}"


def _reason_label(tr: Any, reason: str, note: str) -> str:
    labels = {
        "message": tr.phrase("message"), "reply": tr.phrase("reply to a member"),
        "reaction_received": tr.phrase("reaction received"),
        "reaction_removed": tr.phrase("reaction removed"),
        "helpful_answer": tr.phrase("helpful answer"), "imported": tr.phrase("imported"),
        "reset": tr.phrase("reset"), "moderator": tr.phrase("by a moderator"),
        "welcomed_newcomer": tr.phrase("welcomed a newcomer"), "referral": tr.phrase("referral"),
    }
    label = labels.get(reason, reason)
    return f"{label}: {note}" if note and reason == "moderator" else label


def parse_points_csv(data: bytes, platform: str, tr: Any) -> list[tuple[str, int]]:
    """Rows of (member id, points) from a CSV; every problem is reported, nothing applied."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CommandError(tr.gettext("The file is not UTF-8 text; export it as CSV.")) from None
    rows: dict[str, int] = {}
    problems: list[RichText] = []
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise CommandError(tr.gettext("The file is not a CSV file ({problem}).",
                                      problem=str(exc))) from None
    for number, row in enumerate(lines, start=1):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2:
            problems.append(tr.gettext("line {line}: expected member id, points", line=number))
            continue
        member, points = row[0].strip(), row[1].strip()
        whole = points.lstrip("-").isdigit() and points.isascii()
        if number == 1 and not whole:
            continue  # a header line
        if not whole:
            problems.append(tr.gettext("line {line}: points must be a whole number, not "
                                       "“{value}”", line=number, value=points[:30]))
            continue
        value = int(points) if len(points) <= 20 else MAX_IMPORTED + 1
        if not -MAX_IMPORTED <= value <= MAX_IMPORTED:
            problems.append(tr.gettext(
                "line {line}: points must be between -{max} and {max}, not “{value}”",
                line=number, max=MAX_IMPORTED, value=points[:30]))
            continue
        if not member:
            problems.append(tr.gettext("line {line}: the member id is empty", line=number))
            continue
        if len(member) > 200 or any(ch < " " for ch in member):
            problems.append(tr.gettext("line {line}: “{value}” is not a member id",
                                       line=number, value=member[:30]))
            continue
        member_id = member if member.startswith(f"{platform}:") else f"{platform}:{member}"
        total = rows.get(member_id, 0) + value
        if not -MAX_IMPORTED <= total <= MAX_IMPORTED:
            problems.append(tr.gettext(
                "line {line}: {member} would get more than {max} points in all",
                line=number, member=member[:30], max=MAX_IMPORTED))
            continue
        rows[member_id] = total
    if problems:
        raise CommandError(tr.gettext("Nothing was imported: {problems}",
                                      problems="; ".join(p.plain() for p in problems[:5])))
    if not rows:
        raise CommandError(tr.gettext(
            "Nothing was imported: the file has no rows of member id, points."))
    return [(m, p) for m, p in rows.items() if p != 0]
