"""The engagement cog: wires the pure rules to events, the ledger and commands.

The per-message path never waits for the database: cooldowns, caps, spam prints and
totals live in memory; ledger rows go through the batched writer.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from bot.config import LEVEL_UP_FIELDS, EngagementSection, describe_errors
from bot.core.actions import Post, SetRole
from bot.core.attachments import CSV_FILE, Attachment, safe_name
from bot.core.bounded import BoundedDict
from bot.core.cog import Cog, CogContext, EventHandler
from bot.core.commands import (
    ChannelRef,
    Command,
    CommandError,
    Invocation,
    MemberRef,
    Option,
    OptionKind,
    Reply,
    unknown_channel,
)
from bot.core.events import (
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
from bot.core.text import Mention, RichText, TemplateError, check_template, compose
from cogs.engagement.rules import (
    MemberState,
    MessageAward,
    Policy,
    award_message,
    level_for,
    level_of,
    reward_for,
    streaks,
)
from cogs.journey.stages import week_of_day
from storage.journey import JourneyStore

log = logging.getLogger(__name__)

RECENT_MESSAGES = 200_000
MAX_GRANT = 1_000_000
STREAK_WINDOW_DAYS = 370
#: Settings whose value names channels (True: a list of them), and the words that clear one.
CHANNEL_SETTINGS = {"excluded_channels": True, "level_up_channel": False}
CLEARED = frozenset({"", "none", "-"})


@dataclass(frozen=True, slots=True)
class _MessageFacts:
    author: str
    channel: str
    parent_author: str | None  # set when the message replies to another member


class EngagementCog(Cog):
    name = "engagement"

    def __init__(self, ctx: CogContext, *, rng: random.Random | None = None) -> None:
        super().__init__(ctx)
        self._rng = rng or random.Random()
        self._states: dict[tuple[str, str], MemberState] = {}
        self._policies: dict[str, Policy] = {}
        # bounded: a bot runs for months, and reactions mostly hit recent messages
        self._recent: BoundedDict[str, _MessageFacts] = BoundedDict(RECENT_MESSAGES)
        self._bots: set[str] = set()
        self._reaction_awards: BoundedDict[tuple[str, str, str], int] = BoundedDict(
            RECENT_MESSAGES)
        self._message_reaction_points: BoundedDict[str, int] = BoundedDict(RECENT_MESSAGES)
        self._given_today: BoundedDict[tuple[str, str, str], int] = BoundedDict(
            RECENT_MESSAGES)
        self._helpful: BoundedDict[str, None] = BoundedDict(RECENT_MESSAGES)
        #: the last week each member's messages counted as contribution (for the journey)
        self._counted_week: BoundedDict[tuple[str, str], int] = BoundedDict(RECENT_MESSAGES)
        self._last_channel: dict[tuple[str, str], str] = {}
        self._names: dict[tuple[str, str], str] = {}

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        repo = self.ctx.repository
        for community in self.ctx.communities.all():
            season = self.ctx.communities.season(community)
            for member, points in (await repo.point_totals(community, season)).items():
                self._state(community, member).total = points

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
        policy = self._policies.get(community)
        if policy is None:
            overrides = self.ctx.communities.overrides(community, self.name)
            base = self.ctx.settings.engagement.model_dump()
            try:
                policy = EngagementSection.model_validate({**base, **overrides})
            except ValidationError:
                log.exception("stored engagement settings of %s are invalid; using defaults",
                              community)
                policy = self.ctx.settings.engagement
            self._policies[community] = policy
        return policy

    def _state(self, community: str, member: str) -> MemberState:
        key = (community, member)
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = MemberState()
        return state

    # -- events ------------------------------------------------------------------------
    async def on_member_joined(self, event: MemberJoined) -> None:
        if event.name:
            self._names[(event.community, event.member)] = event.name
        if event.is_bot:
            self._bots.add(event.member)

    async def _name(self, community: str, member: str) -> str:
        """A member's display name: from events seen, else once from the store."""
        name = self._names.get((community, member))
        if name is None:
            stored = await self.ctx.repository.member_names(community, [member])
            name = stored.get(member) or member.split(":", 1)[1]
            self._names[(community, member)] = name
        return name

    async def on_message(self, event: MessagePosted) -> None:
        community, author = event.community, event.author
        if event.author_name:
            self._names[(community, author)] = event.author_name
        parent = (event.reply_to_author if event.reply_to_author not in (None, author)
                  else None)
        self._recent.put(event.message, _MessageFacts(author, event.channel, parent))
        if event.author_is_bot:
            self._bots.add(author)
        policy = self.policy(community)
        day = self.ctx.communities.local_day(community, event.at)
        state = self._state(community, author)
        self._last_channel[(community, author)] = event.channel
        excluded = (event.channel in policy.excluded_channels
                    or (event.thread is not None and event.thread in policy.excluded_channels))
        award = award_message(
            policy, state, at=event.at, day=day, length=event.length, text=event.text,
            is_bot=event.author_is_bot, excluded=excluded,
            replies_to_other=parent is not None and parent not in self._bots, rng=self._rng,
            has_media=event.has_media,
        )
        if not event.author_is_bot:
            self._count_contribution(event, day, award)
        before = state.total - award.message_points - award.reply_points
        if award.message_points:
            self._ledger(community, author, award.message_points, "message", event.message,
                         event.at, day)
        if award.reply_points:
            self._ledger(community, author, award.reply_points, "reply", event.message,
                         event.at, day)
        if state.total > before:
            await self._maybe_level_up(community, author, before, state.total, event.channel)

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
        facts = self._recent.get(event.message)
        author = event.message_author or (facts.author if facts else None)
        if (author is None or event.reactor_is_bot or author == event.reactor
                or author in self._bots):
            return
        policy = self.policy(community)
        if facts is not None and facts.channel in policy.excluded_channels:
            return
        day = self.ctx.communities.local_day(community, event.at)
        state = self._state(community, author)
        before = state.total
        key = (event.message, event.reactor, event.emoji)
        if key not in self._reaction_awards:
            points = self._reaction_points(policy, state, event, author, day)
            self._reaction_awards.put(key, points)
            if points:
                state.earn(points)
                self._ledger(community, author, points, "reaction_received",
                             _reaction_ref(event), event.at, day)
        if (facts is not None and facts.parent_author is not None
                and event.message not in self._helpful and policy.helpful_answer_bonus):
            self._helpful.put(event.message, None)
            bonus = min(policy.helpful_answer_bonus, state.room_today(day, policy.daily_cap))
            if bonus:
                state.earn(bonus)
                self._ledger(community, author, bonus, "helpful_answer", event.message,
                             event.at, day)
            self.ctx.publish(HelpfulAnswerGiven(community=community, at=event.at,
                                                member=author, message=event.message))
        channel = facts.channel if facts else self._last_channel.get((community, author))
        await self._maybe_level_up(community, author, before, state.total, channel)

    async def on_forgotten(self, event: MemberForgotten) -> None:
        self._states.pop((event.community, event.member), None)
        self._names.pop((event.community, event.member), None)
        self._counted_week.pop((event.community, event.member), None)

    async def on_greeting(self, event: NewcomerGreeted) -> None:
        await self._award(event.community, event.member, self.policy(event.community)
                          .welcome_points, "welcomed_newcomer", event.newcomer, event.at)

    async def on_referral(self, event: ReferralConverted) -> None:
        await self._award(event.community, event.inviter, self.policy(event.community)
                          .referral_points, "referral", event.member, event.at)

    async def _award(self, community: str, member: str, points: int, reason: str, ref: str,
                     at: datetime) -> None:
        """Points for a derived achievement (once per ref), within the daily cap."""
        if points <= 0 or member in self._bots:
            return
        day = self.ctx.communities.local_day(community, at)
        state = self._state(community, member)
        points = min(points, state.room_today(day, self.policy(community).daily_cap))
        if points <= 0:
            return
        before = state.total
        state.earn(points)
        self._ledger(community, member, points, reason, ref, at, day)
        await self._maybe_level_up(community, member, before, state.total,
                                   self._last_channel.get((community, member)))

    def _reaction_points(
        self, policy: Policy, state: MemberState, event: ReactionAdded, author: str, day: str
    ) -> int:
        given_key = (event.reactor, author, day)
        given = self._given_today.get(given_key, 0)
        on_message = self._message_reaction_points.get(event.message, 0)
        points = min(
            policy.reaction_points,
            policy.reaction_cap_per_member_per_day - given,
            policy.reaction_cap_per_message - on_message,
            state.room_today(day, policy.daily_cap),
        )
        if points <= 0:
            return 0
        self._given_today.put(given_key, given + points)
        self._message_reaction_points.put(event.message, on_message + points)
        return points

    async def on_reaction_removed(self, event: ReactionRemoved) -> None:
        key = (event.message, event.reactor, event.emoji)
        community = event.community
        facts = self._recent.get(event.message)
        author = event.message_author or (facts.author if facts else None)
        if author is None:
            return
        ref = _reaction_ref(event)
        if key in self._reaction_awards:
            points = self._reaction_awards[key]
            self._reaction_awards[key] = 0  # a later re-add of the same reaction earns nothing
        else:  # added before a restart: the ledger knows what it earned
            points = await self.ctx.repository.ledger_amount(
                community, author, "reaction_received", ref)
            self._reaction_awards.put(key, 0)  # and a re-add still earns nothing
        if points <= 0:
            return
        state = self._state(community, author)
        state.total -= points
        day = self.ctx.communities.local_day(community, event.at)
        self._ledger(community, author, -points, "reaction_removed", ref, event.at, day)

    def _ledger(
        self, community: str, member: str, delta: int, reason: str, ref: str, at: datetime,
        day: str, *, actor: str | None = None, note: str = "",
    ) -> None:
        self.ctx.repository.add_ledger(
            community, member, season=self.ctx.communities.season(community), delta=delta,
            reason=reason, ref=ref, at=at, day=day, actor=actor, note=note,
        )

    async def _maybe_level_up(
        self, community: str, member: str, before: int, after: int, channel: str | None
    ) -> None:
        if after <= before:
            return
        policy = self.policy(community)
        old = level_of(before, policy.level_curve)
        new = level_of(after, policy.level_curve)
        if new > old:
            await self._level_up(community, member, policy, old, new, channel)

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
        target = policy.level_up_channel or channel
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
        default = self.ctx.settings.engagement.level_up_template
        template = policy.level_up_template
        if template == default:
            text = tr.gettext("🎉 {member} reached level {level}!", **values)
        else:
            text = compose(template, values, isolate=tr.rtl)
        if reward:
            text = text + tr.gettext(" New reward: {reward}.", reward=reward)
        return text

    # -- commands ----------------------------------------------------------------------
    def commands(self) -> Sequence[Command]:
        member_opt = Option("member", OptionKind.MEMBER, "The member", required=True)
        return [
            Command(("rank",), "Your level, points, rank and streak", self.cmd_rank,
                    (Option("member", OptionKind.MEMBER, "Whose rank (default: yours)",
                            required=False),)),
            Command(("top",), "The leaderboard", self.cmd_top,
                    (Option("period", OptionKind.CHOICE, "week, month or all",
                            required=False, choices=("week", "month", "all")),
                     Option("page", OptionKind.INTEGER, "Page number", required=False))),
            Command(("points", "history"), "Why you have your points", self.cmd_history,
                    (Option("member", OptionKind.MEMBER, "Whose history (moderators)",
                            required=False),)),
            Command(("points", "give"), "Give points to a member", self.cmd_give,
                    (member_opt, Option("amount", OptionKind.INTEGER, "How many points"),
                     Option("reason", OptionKind.TEXT, "Why")), moderator=True),
            Command(("points", "take"), "Take points from a member", self.cmd_take,
                    (member_opt, Option("amount", OptionKind.INTEGER, "How many points"),
                     Option("reason", OptionKind.TEXT, "Why")), moderator=True),
            Command(("points", "reset"), "Reset a member's points this season", self.cmd_reset,
                    (member_opt,), moderator=True),
            Command(("points", "import"), "Import points from another bot (CSV)",
                    self.cmd_import,
                    (Option("file", OptionKind.FILE, "CSV: member id, points",
                            accepts=CSV_FILE),),
                    moderator=True),
            Command(("season", "close"), "Archive totals and restart the leaderboard",
                    self.cmd_season_close, moderator=True),
            Command(("engagement", "set"), "Change an engagement setting", self.cmd_set,
                    (Option("key", OptionKind.TEXT, "Setting name"),
                     Option("value", OptionKind.TEXT, "New value")), moderator=True),
            Command(("engagement", "show"), "Show the engagement settings", self.cmd_show,
                    moderator=True),
        ]

    def _tr(self, inv: Invocation) -> Any:
        return self.ctx.communities.catalog(inv.community)

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
        state = self._state(community, who.id)
        before = state.total
        state.total += delta
        day = self.ctx.communities.local_day(community, inv.at)
        self._ledger(community, who.id, delta, reason, f"cmd:{uuid.uuid4().hex}", inv.at, day,
                     actor=inv.invoker.id, note=note)
        await self._maybe_level_up(community, who.id, before, state.total, inv.channel)

    def _amount(self, inv: Invocation) -> int:
        amount = int(inv.args["amount"])
        if not 1 <= amount <= MAX_GRANT:
            raise CommandError(self._tr(inv).gettext(
                "The amount must be between 1 and {max}.", max=MAX_GRANT))
        return amount

    async def cmd_give(self, inv: Invocation) -> Reply:
        amount = self._amount(inv)
        await self._manual(inv, amount, "moderator", inv.args["reason"])
        who: MemberRef = inv.args["member"]
        return Reply(self._tr(inv).gettext("Gave {points} points to {member}.", points=amount,
                                           member=Mention(who.id, who.name)))

    async def cmd_take(self, inv: Invocation) -> Reply:
        amount = self._amount(inv)
        await self._manual(inv, -amount, "moderator", inv.args["reason"])
        who: MemberRef = inv.args["member"]
        return Reply(self._tr(inv).gettext("Took {points} points from {member}.", points=amount,
                                           member=Mention(who.id, who.name)))

    async def cmd_reset(self, inv: Invocation) -> Reply:
        who: MemberRef = inv.args["member"]
        total = self._state(inv.community, who.id).total
        if total:
            await self._manual(inv, -total, "reset", "")
        return Reply(self._tr(inv).gettext("{member} now has 0 points this season.",
                                           member=Mention(who.id, who.name)))

    async def cmd_import(self, inv: Invocation) -> Reply:
        tr = self._tr(inv)
        upload: Attachment = inv.args["file"]
        data = upload.data
        rows = parse_points_csv(data, platform_of(inv.community), tr)
        ref = "import:" + hashlib.sha256(data).hexdigest()[:16]
        day = self.ctx.communities.local_day(inv.community, inv.at)
        for member, points in rows:
            state = self._state(inv.community, member)
            already = await self.ctx.repository.ledger_amount(inv.community, member,
                                                              "imported", ref)
            if already:
                continue
            state.total += points
            self._ledger(inv.community, member, points, "imported", ref, inv.at, day,
                         actor=inv.invoker.id, note=safe_name(upload.name))
        return Reply(tr.ngettext("Imported points for {n} member.",
                                 "Imported points for {n} members.", len(rows)))

    async def cmd_season_close(self, inv: Invocation) -> Reply:
        community = inv.community
        await self.ctx.repository.flush()
        season = self.ctx.communities.season(community) + 1
        self.ctx.communities.set_season(community, season)
        self.ctx.repository.set_season(community, season)
        for (comm, _), state in self._states.items():
            if comm == community:
                state.total = 0
        return Reply(self._tr(inv).gettext(
            "Season {season} has started: the leaderboard starts from zero and last season's "
            "totals stay visible in /rank.", season=season))

    async def cmd_set(self, inv: Invocation) -> Reply:
        tr = self._tr(inv)
        key, raw = str(inv.args["key"]), str(inv.args["value"])
        fields = EngagementSection.model_fields
        if key not in fields:
            raise CommandError(tr.gettext("There is no setting “{key}”. Settings: {keys}.",
                                          key=key, keys=", ".join(sorted(fields))))
        value = _parse_value(raw, fields[key].annotation)
        shown = json.dumps(value, ensure_ascii=False)
        if key in CHANNEL_SETTINGS:  # typed as #name, a name, an id or here; stored as ids
            value, shown = self._channel_setting(inv, key, raw)
        current = self.policy(inv.community).model_dump()
        try:
            if key == "level_up_template":
                check_template(str(value), LEVEL_UP_FIELDS, community=inv.community)
            EngagementSection.model_validate({**current, key: value})
        except (ValidationError, ValueError) as exc:
            detail = ("; ".join(describe_errors(exc)) if isinstance(exc, ValidationError)
                      else tr.gettext(exc.message, **exc.values).plain()
                      if isinstance(exc, TemplateError) else str(exc))
            raise CommandError(tr.gettext("{key} was not changed: {problem}", key=key,
                                          problem=detail.replace("[", "").replace("]", ""))
                               ) from None
        self.ctx.communities.set(inv.community, f"{self.name}.{key}", value)
        self._policies.pop(inv.community, None)
        return Reply(tr.gettext("{key} is now {value}.", key=key, value=shown))

    def _channel_setting(self, inv: Invocation, key: str, raw: str
                         ) -> tuple[list[str] | str, str]:
        """(ids to store, names to show) for a setting that names channels; ``none`` clears
        it. A list is separated by commas (or spaces, when no channel has the whole name)."""
        text = raw.strip()
        many = CHANNEL_SETTINGS[key]
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

    async def cmd_show(self, inv: Invocation) -> Reply:
        tr = self._tr(inv)
        policy = self.policy(inv.community)
        text = tr.gettext("Engagement settings:")
        names = dict(await self.ctx.repository.channels(inv.community))
        for key, value in policy.model_dump().items():
            shown = json.dumps(value, ensure_ascii=False)
            if key in CHANNEL_SETTINGS:  # stored as ids, shown as the channels' names
                ids = value if isinstance(value, list | tuple) else [value] if value else []
                shown = ", ".join(f"#{names[c]}" if c in names else c for c in ids) or "—"
            text = text + tr.gettext("\n{key} = {value}", key=key, value=shown)
        return Reply(text, private=True)


def _stage_label(tr: Any, stage: str) -> str:
    labels = {"visitor": tr.phrase("visitor"), "audience": tr.phrase("audience"),
              "participant": tr.phrase("participant"), "regular": tr.phrase("regular"),
              "champion": tr.phrase("champion")}
    return labels.get(stage, stage)


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


def _parse_value(raw: str, annotation: Any) -> Any:
    """Read a command-line value: JSON when it parses, lists split on commas."""
    text = raw.strip()
    if "tuple" in str(annotation) and not text.startswith("["):
        return [part.strip() for part in text.split(",") if part.strip()]
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_points_csv(data: bytes, platform: str, tr: Any) -> list[tuple[str, int]]:
    """Rows of (member id, points) from a CSV; every problem is reported, nothing applied."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CommandError(tr.gettext("The file is not UTF-8 text; export it as CSV.")) from None
    rows: dict[str, int] = {}
    problems: list[str] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2:
            problems.append(f"line {number}: expected member id, points")
            continue
        member, points = row[0].strip(), row[1].strip()
        if number == 1 and not points.lstrip("-").isdigit():
            continue  # a header line
        if not points.lstrip("-").isdigit():
            problems.append(f"line {number}: points must be a whole number, not {points!r}")
            continue
        if not member:
            problems.append(f"line {number}: the member id is empty")
            continue
        member_id = member if member.startswith(f"{platform}:") else f"{platform}:{member}"
        rows[member_id] = rows.get(member_id, 0) + int(points)
    if problems:
        raise CommandError(tr.gettext("Nothing was imported: {problems}",
                                      problems="; ".join(problems[:5])))
    if not rows:
        raise CommandError(tr.gettext(
            "Nothing was imported: the file has no rows of member id, points."))
    return [(m, p) for m, p in rows.items() if p != 0]
