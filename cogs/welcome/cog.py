"""The welcome cog: greets newcomers, batches raids, and watches their first message.

A newcomer's first message is the moment a visitor decides whether this is a community:
the cog measures how long until another member answers it, and tells the moderators once
when nobody has after a few hours. Regulars who opt in are named as buddies, and a
regular who greets a newcomer within a day earns points (through a NewcomerGreeted event).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.context import CogContext
from bot.core.actions import CreateInvite, DeleteMessage, DirectMessage, Post
from bot.core.bounded import BoundedDict
from bot.core.cog import Cog, EventHandler, command
from bot.core.commands import (
    ChannelRef,
    CommandError,
    Invocation,
    Option,
    OptionKind,
    Reply,
)
from bot.core.events import (
    CHAMPION,
    REGULAR,
    CommunityJoined,
    Event,
    MemberForgotten,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    NewcomerGreeted,
    ReactionAdded,
    StageChanged,
)
from bot.core.settings import SettingError
from bot.core.text import ChannelLink, Mention, MessageLink, RichText
from bot.i18n import Catalog
from cogs.welcome.rules import (
    WELCOME_FIELDS,
    in_burst,
    is_newcomer,
    render_welcome,
)
from cogs.welcome.settings import WELCOME
from storage.welcome import WelcomeStore

log = logging.getLogger(__name__)

BUDDY_STAGES = (REGULAR, CHAMPION)
#: A buddy is named only if they posted on one of the last this many local days.
BUDDY_RECENT_DAYS = 7
#: What memory holds at most per community; the rest is read back from the store.
KNOWN_MEMBERS = 100_000
KNOWN_NAMES = 50_000
KNOWN_BOTS = 10_000


@dataclass(slots=True)
class Greeters:
    """The members credited for greeting one newcomer."""

    members: set[str] = field(default_factory=set)
    #: every credit there is: the newcomer first joined while the bot was running (the
    #: store had never seen them), so the ledger need not be asked
    complete: bool = False


@dataclass(slots=True)
class _Community:
    """What the cog knows of one community; all of it rebuilt from the store at start."""

    channels: list[str] = field(default_factory=list)
    member_count: int = 0
    last_welcome: datetime | None = None
    #: newcomers gathered for the next burst post, in the order they came: member ->
    #: (name, when the post is due); also stored, so that a restart still welcomes them
    pending: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    #: member -> present (True) or gone (False), as the store has it; a member missing
    #: was never seen, unless memory let some go (then the store is asked)
    presence: BoundedDict[str, bool] = field(
        default_factory=lambda: BoundedDict(KNOWN_MEMBERS))
    #: newcomers of the last ``newcomer_days``, in the order they joined
    joined_at: dict[str, datetime] = field(default_factory=dict)
    names: BoundedDict[str, str] = field(default_factory=lambda: BoundedDict(KNOWN_NAMES))
    #: regulars and champions (the stages that can greet and be buddies)
    regulars: set[str] = field(default_factory=set)
    #: buddies -> the last local day they posted
    buddy_days: dict[str, str] = field(default_factory=dict)
    #: welcome post message id -> (when, the newcomers it named), within the greeting window
    posts: dict[str, tuple[datetime, list[str]]] = field(default_factory=dict)
    #: member -> their first message id (bounded; kept past the newcomer days: a member who
    #: leaves and comes back has had theirs, even if the store has not committed it yet,
    #: as a fast replay outruns commits), and first message id -> newcomer
    first: BoundedDict[str, str] = field(default_factory=lambda: BoundedDict(KNOWN_MEMBERS))
    unanswered: dict[str, str] = field(default_factory=dict)
    #: newcomer -> whose greeting of them was credited; kept past the newcomer days
    #: (bounded), so a member who comes back is not credited again on the strength of a
    #: store read that may not see a credit still queued (a fast replay outruns commits)
    greeted: BoundedDict[str, Greeters] = field(
        default_factory=lambda: BoundedDict(KNOWN_MEMBERS))


class WelcomeCog(Cog):
    name = "welcome"
    declares = WELCOME

    def __init__(self, ctx: CogContext) -> None:
        super().__init__(ctx)
        self.store = WelcomeStore(ctx.repository)
        self._state: dict[str, _Community] = {}
        self._bots: BoundedDict[str, None] = BoundedDict(KNOWN_BOTS)
        #: communities already told (in the log) that they have no welcome channel
        self._no_channel: set[str] = set()

    def _c(self, community: str) -> _Community:
        state = self._state.get(community)
        if state is None:
            state = self._state[community] = _Community()
        return state

    # -- settings ----------------------------------------------------------------------
    def setting(self, community: str, key: str) -> Any:
        return self.settings.get(community, key)

    def _tr(self, community: str) -> Catalog:
        return self.ctx.communities.catalog(community)

    def template(self, community: str, *, back: bool = False) -> str:
        own = self.settings.get(community, "template")
        tr = self._tr(community)
        if back:
            return tr.phrase("Welcome back, {member}! Good to see you again.")
        return own or tr.phrase("Welcome to {community}, {member}! You are member number "
                             "{member_count}.")

    def channel(self, community: str) -> str | None:
        """The configured welcome channel, else the first channel the platform listed."""
        chosen = self.setting(community, "channel")
        channels = self._c(community).channels
        return chosen or self.ctx.communities.get(community, "default_channel") or (
            channels[0] if channels else None)

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        now = self.ctx.clock.now()
        days = self.settings.default("newcomer_days")
        for community in self.ctx.communities.owned():
            state = self._c(community)
            members = await self.store.members(community)
            state.member_count = sum(1 for _, present in members.values() if present)
            for member, (bot, present) in members.items():
                if bot:
                    self._bots.put(member, None)
                state.presence.put(member, present)
            state.joined_at = dict(sorted(
                (await self.store.recent_joins(community, now - timedelta(days=days))).items(),
                key=lambda item: item[1]))
            state.regulars = {m for m, row in (await self.store.stages(community)).items()
                              if row.stage in BUDDY_STAGES}
            state.channels = [c for c, _ in await self.ctx.repository.channels(community)]
            state.last_welcome = await self.store.last_welcome(community)
            window = timedelta(hours=int(self.setting(community, "greeting_hours")))
            for at, message, newcomers in await self.store.welcome_posts(community,
                                                                         now - window):
                if message is not None:
                    state.posts[message] = (at, newcomers)
            buddies = list(self.setting(community, "buddies"))
            since = self._day(community, now - timedelta(days=BUDDY_RECENT_DAYS + 1))
            state.buddy_days = await self.store.last_active_days(community, buddies, since)
            for member, name in (await self.ctx.repository.member_names(
                    community, buddies)).items():
                state.names.put(member, name)
            waiting = await self.store.pending_welcomes(community)
            if waiting:
                state.pending = {w.member: (w.name, w.due) for w in waiting}
                for w in waiting:
                    state.names.put(w.member, w.name)
                self._schedule_burst(community, max(w.due for w in waiting))
            for deletion in await self.store.welcome_deletions(community):
                self._schedule_delete(community, deletion.channel, deletion.message,
                                      deletion.due)
            for member, first in (await self.store.first_messages(community)).items():
                unanswered = first.answered_at is None and not first.alerted
                if member in state.joined_at:
                    state.first.put(member, first.message)
                if unanswered:
                    state.unanswered[first.message] = member
                    self._schedule_alert(community, member, first.message, first.channel,
                                         first.at)

    def _day(self, community: str, at: datetime) -> str:
        return self.ctx.communities.local_day(community, at)

    async def _presence(self, community: str, member: str) -> bool | None:
        """Present, gone, or never seen (None), from memory or else from the store."""
        state = self._c(community)
        known = state.presence.touch(member)
        if known is not None or not state.presence.evicted:
            return known
        return await self.store.presence(community, member)

    async def _name(self, community: str, member: str) -> str:
        """A member's display name: from events seen, else from the store."""
        names = self._c(community).names
        name = names.get(member)
        if name is None:
            stored = await self.ctx.repository.member_names(community, [member])
            name = stored.get(member) or member.split(":", 1)[1]
            names.put(member, name)
        return name

    def _forget_old_newcomers(self, community: str, now: datetime) -> None:
        """Newcomers stop being newcomers: their join times expire (their first messages
        and greeters are kept, bounded: a member may come back)."""
        state = self._c(community)
        limit = timedelta(days=int(self.setting(community, "newcomer_days")))
        while state.joined_at:
            member, joined = next(iter(state.joined_at.items()))
            if now - joined <= limit:
                break
            del state.joined_at[member]
        window = timedelta(hours=int(self.setting(community, "greeting_hours")))
        while state.posts:
            message, (at, _) = next(iter(state.posts.items()))
            if now - at <= window:
                break
            del state.posts[message]

    def listeners(self) -> Mapping[type[Event], EventHandler]:
        return {
            CommunityJoined: self.on_community,
            MemberJoined: self.on_join,
            MemberLeft: self.on_leave,
            MessagePosted: self.on_message,
            ReactionAdded: self.on_reaction,
            StageChanged: self.on_stage,
            MemberForgotten: self.on_forgotten,
        }

    # -- events ------------------------------------------------------------------------
    async def on_community(self, event: CommunityJoined) -> None:
        state = self._c(event.community)
        for channel in event.channels:
            if channel.id not in state.channels:
                state.channels.append(channel.id)
        if event.channels and not self.ctx.communities.get(event.community, "default_channel"):
            self.ctx.communities.set(event.community, "default_channel", event.channels[0].id)

    async def on_forgotten(self, event: MemberForgotten) -> None:
        state = self._c(event.community)
        for table in (state.joined_at, state.names, state.buddy_days, state.first,
                      state.presence, state.greeted):
            table.pop(event.member, None)
        state.regulars.discard(event.member)
        state.pending.pop(event.member, None)

    async def on_stage(self, event: StageChanged) -> None:
        regulars = self._c(event.community).regulars
        if event.new in BUDDY_STAGES:
            regulars.add(event.member)
        else:
            regulars.discard(event.member)

    async def on_leave(self, event: MemberLeft) -> None:
        state = self._c(event.community)
        if await self._presence(event.community, event.member) is not False:
            state.member_count = max(state.member_count - 1, 0)
        state.presence.put(event.member, False)
        state.joined_at.pop(event.member, None)

    async def on_join(self, event: MemberJoined) -> None:
        community, state = event.community, self._c(event.community)
        if event.is_bot:
            self._bots.put(event.member, None)
            return
        present = await self._presence(community, event.member)
        state.presence.put(event.member, True)
        if present:
            # the store has them here already: a join delivered again, or a leave the
            # bot never saw; either way nobody is welcomed twice
            return
        if present is None:  # never seen: nobody can have been credited for greeting them
            state.greeted.put(event.member, Greeters(complete=True))
        state.member_count = event.member_count or state.member_count + 1
        state.names.put(event.member, event.name or event.member.split(":", 1)[1])
        returning = present is False  # the store says they left
        if returning and event.member not in state.first:
            # a first message is a member's first ever: coming back starts no second one
            first = await self.store.first_message_of(community, event.member)
            if first is not None:
                state.first.put(event.member, first)
        self._forget_old_newcomers(community, event.at)
        state.joined_at.pop(event.member, None)
        state.joined_at[event.member] = event.at
        if not self.setting(community, "enabled"):
            return
        if returning:
            await self._post(community, [(event.member, state.names[event.member])], back=True)
            return
        seconds = int(self.setting(community, "burst_seconds"))
        if in_burst(state.last_welcome, event.at, seconds):
            assert state.last_welcome is not None
            due = state.last_welcome + timedelta(seconds=seconds)
            name = state.names[event.member]
            state.pending[event.member] = (name, due)
            self.store.add_pending_welcome(community, event.member, name, event.at, due)
            self._schedule_burst(community, due)
        else:
            await self._post(community, [(event.member, state.names[event.member])])
        if self.setting(community, "dm") in ("also", "only"):
            await self._dm(community, event.member, state.names[event.member])

    def _schedule_burst(self, community: str, due: datetime) -> None:
        async def flush() -> None:
            await self._flush(community)

        self.ctx.timers.call_at(due, f"welcome-burst:{community}", flush)

    async def _flush(self, community: str) -> None:
        if not await self.ctx.outbox.until_connected(community):
            return  # stopping before the platform connected: still pending at the next start
        state = self._c(community)
        batch, state.pending = state.pending, {}
        if batch:
            await self._post(community, [(member, name) for member, (name, _) in batch.items()])
        for member, (_, due) in batch.items():
            self.store.done_pending_welcome(community, member, due)

    async def on_message(self, event: MessagePosted) -> None:
        if event.author_is_bot or event.author in self._bots:
            return
        community, state, author = event.community, self._c(event.community), event.author
        values = self.settings.values(community)  # read once: this runs for every message
        if author in state.buddy_days or author in values.buddies:
            state.buddy_days[author] = self._day(community, event.at)
        if author in state.regulars:  # only regulars greet newcomers
            await self._credit_greeting(event, state)
        if event.author_name:
            state.names.put(author, event.author_name)
        newcomer = state.unanswered.get(event.reply_to or "")
        if newcomer is not None and newcomer != author:
            self._answered(community, newcomer, event.reply_to or "", author, event.at)
        days = int(values.newcomer_days)
        if author not in state.first and is_newcomer(state.joined_at.get(author), event.at,
                                                      days):
            state.first.put(author, event.message)
            state.unanswered[event.message] = author
            day = self.ctx.communities.local_day(community, event.at)
            self.store.record_first_message(community, author, event.message, event.channel,
                                            event.at, day)
            self._schedule_alert(community, author, event.message, event.channel, event.at)

    async def on_reaction(self, event: ReactionAdded) -> None:
        if event.reactor_is_bot or event.reactor in self._bots:
            return
        newcomer = self._c(event.community).unanswered.get(event.message)
        if newcomer is not None and newcomer != event.reactor:
            self._answered(event.community, newcomer, event.message, event.reactor, event.at)

    def _answered(self, community: str, newcomer: str, message: str, by: str,
                  at: datetime) -> None:
        self._c(community).unanswered.pop(message, None)
        self.store.record_first_answer(community, newcomer, by, at)
        self.ctx.timers.cancel(f"first-response:{community}:{newcomer}")

    async def _credit_greeting(self, event: MessagePosted, state: _Community) -> None:
        """A regular's reply to a newcomer (or to their welcome) within the greeting window,
        credited once per newcomer and regular (the ledger remembers it across restarts)."""
        post = state.posts.get(event.reply_to or "")
        greeted = list(post[1]) if post else []
        if event.reply_to_author is not None:
            greeted.append(event.reply_to_author)
        window = timedelta(hours=int(self.setting(event.community, "greeting_hours")))
        for newcomer in greeted:
            joined = state.joined_at.get(newcomer)
            if newcomer == event.author or joined is None or event.at - joined > window:
                continue
            credited = state.greeted.get(newcomer)
            if credited is None:
                credited = Greeters()
                state.greeted.put(newcomer, credited)
            if event.author in credited.members:
                continue
            credited.members.add(event.author)
            if not credited.complete and await self.ctx.repository.ledger_has(
                    event.community, event.author, "welcomed_newcomer", newcomer):
                continue
            self.ctx.publish(NewcomerGreeted(community=event.community, at=event.at,
                                             member=event.author, newcomer=newcomer,
                                             channel=event.channel))

    def _buddies(self, community: str) -> list[str]:
        """The members who offered to be buddies, in the order they offered."""
        return list(self.setting(community, "buddies"))

    # -- sending -----------------------------------------------------------------------
    def _buddy(self, community: str, at: datetime, newcomers: Sequence[str]) -> str | None:
        """The regular buddy who posted most recently (by local day; the first to offer
        among those of the same day), if within the last ``BUDDY_RECENT_DAYS`` days."""
        state = self._c(community)
        since = self._day(community, at - timedelta(days=BUDDY_RECENT_DAYS))
        candidates = [m for m in self._buddies(community) if m in state.regulars
                      and m not in newcomers and state.buddy_days.get(m, "") >= since]
        latest = max((state.buddy_days[m] for m in candidates), default=None)
        return next((m for m in candidates if state.buddy_days[m] == latest), None)

    def render(self, community: str, newcomers: Sequence[tuple[str, str]], at: datetime, *,
               back: bool = False) -> RichText:
        """The welcome post for one newcomer or a batch (named up to the configured N)."""
        tr = self._tr(community)
        state = self._c(community)
        limit = int(self.setting(community, "burst_max_names"))
        shown = newcomers[:limit]
        mentions: list[Any] = []
        for index, (member, name) in enumerate(shown):
            if index:
                mentions.append(", ")
            mentions.append(Mention(member, name))
        buddy = self._buddy(community, at, [m for m, _ in newcomers])
        rules = self.setting(community, "rules_channel")
        values: dict[str, Any] = {
            "member": Mention(*shown[0]), "name": shown[0][1],
            "community": self.ctx.communities.name(community),
            "member_count": state.member_count,
            "rules_channel": ChannelLink(rules, rules.split(":", 1)[1]) if rules else "",
            "buddy": Mention(buddy, state.names.get(buddy) or buddy.split(":", 1)[1])
            if buddy else "",
        }
        text = render_welcome(self.template(community, back=back), values, rtl=tr.rtl)
        if len(shown) > 1:
            text = RichText(tuple(_replace_first_mention(text.segments, shown[0][0],
                                                         mentions)))
        if len(newcomers) > limit:
            text = text + tr.ngettext(" …and {n} more newcomer!", " …and {n} more newcomers!",
                                      len(newcomers) - limit)
        own = self.template(community)
        if buddy and "{buddy}" not in own and not back:
            text = text + tr.gettext(" {buddy} is around to help you find your way.",
                                     buddy=values["buddy"])
        if self.setting(community, "intro_prompt") and not back:
            text = text + tr.gettext(" Tell us a little about yourself!")
        return text

    async def _post(self, community: str, newcomers: list[tuple[str, str]], *,
                    back: bool = False) -> None:
        state = self._c(community)
        now = self.ctx.clock.now()
        state.last_welcome = now = _whole_second(now)  # as stored: a restart sees the same
        named = [m for m, _ in newcomers]
        channel = self.channel(community)
        if channel is None and community not in self._no_channel:
            self._no_channel.add(community)
            log.warning("no channel to welcome newcomers in %s: the platform listed none and "
                        "no moderator ran /welcome channel", community)
        if channel is None or self.setting(community, "dm") == "only":
            self.store.add_welcome_post(community, now, None, named)
            return
        text = self.render(community, newcomers, now, back=back)
        delivery = await self.ctx.outbox.send(Post(community=community, channel=channel,
                                                   text=text, kind="welcome"))
        if not delivery.ok or delivery.message is None:
            log.warning("welcome post in %s failed: %s", community, delivery.error)
            self.store.add_welcome_post(community, now, None, named)
            return
        self.store.add_welcome_post(community, now, delivery.message, named)
        self._forget_old_newcomers(community, now)
        state.posts[delivery.message] = (now, named)
        minutes = int(self.setting(community, "delete_after_minutes"))
        if minutes:
            due = now + timedelta(minutes=minutes)
            self.store.add_welcome_deletion(community, delivery.message, channel, due)
            self._schedule_delete(community, channel, delivery.message, due)

    def _schedule_delete(self, community: str, channel: str, message: str,
                         due: datetime) -> None:
        async def delete() -> None:
            await self.ctx.outbox.send(DeleteMessage(community=community, channel=channel,
                                                     message=message))
            # done even if the platform refused: the post may be gone already, and a
            # refusal (missing permission) would only repeat at every start
            self.store.done_welcome_deletion(community, message)

        self.ctx.timers.call_at(due, f"welcome-delete:{message}", delete)

    async def _dm(self, community: str, member: str, name: str) -> None:
        text = self.render(community, [(member, name)], self.ctx.clock.now())
        delivery = await self.ctx.outbox.send(DirectMessage(community=community, member=member,
                                                            text=text, kind="welcome"))
        if not delivery.ok:
            log.info("welcome DM to %s not delivered: %s", member, delivery.error)

    def _schedule_alert(self, community: str, member: str, message: str, channel: str,
                        at: datetime) -> None:
        hours = float(self.setting(community, "first_response_hours"))

        async def alert() -> None:
            await self._alert(community, member, message, channel)

        self.ctx.timers.call_at(_whole_second(at) + timedelta(hours=hours),
                                f"first-response:{community}:"
                                f"{member}", alert)

    async def _alert(self, community: str, member: str, message: str, channel: str) -> None:
        if not await self.ctx.outbox.until_connected(community):
            return  # stopping before the platform connected: rescheduled at the next start
        state = self._c(community)
        if state.unanswered.pop(message, None) is None:
            return
        owners = self.ctx.communities.get(community, "owners_channel")
        now = self.ctx.clock.now()
        if not owners:
            self.store.record_first_alert(community, member, now)
            log.warning("no owners' channel in %s: first-response alert for %s not sent",
                        community, member)
            return
        tr = self._tr(community)
        hours = float(self.setting(community, "first_response_hours"))
        name = await self._name(community, member)
        text = tr.gettext(
            "Nobody has answered {member}'s first message yet ({hours} hours): {link}",
            member=Mention(member, name), hours=f"{hours:g}",
            link=MessageLink(community, channel, message, tr.phrase("open the message")))
        await self.ctx.outbox.send(Post(community=community, channel=owners, text=text,
                                        kind="first_response_alert"))
        # recorded once sent: a crash in between sends it again rather than never
        self.store.record_first_alert(community, member, now)

    # -- commands ----------------------------------------------------------------------
    @command("welcome set", "Set the welcome text (placeholders: "
             + ", ".join("{" + f + "}" for f in sorted(WELCOME_FIELDS)) + ")",
             Option("text", OptionKind.TEXT, "The welcome text"), moderator=True)
    async def cmd_set(self, inv: Invocation) -> Reply:
        tr = self._tr(inv.community)
        try:  # stored for the community's language
            self.settings.change(inv.community, "template", str(inv.args["text"]))
        except SettingError as exc:
            raise CommandError(tr.gettext("The welcome text was not changed: {problem}",
                                          problem=exc.describe(tr))) from None
        return Reply(tr.gettext("Welcome text saved. Try /welcome test to see it."))

    @command("welcome channel", "Where welcomes are posted",
             Option("channel", OptionKind.CHANNEL, "The channel"), moderator=True)
    async def cmd_channel(self, inv: Invocation) -> Reply:
        channel: ChannelRef = inv.args["channel"]
        self.settings.change(inv.community, "channel", channel.id)
        return Reply(self._tr(inv.community).gettext(
            "Welcomes will be posted in {channel}.",
            channel=ChannelLink(channel.id, channel.name)))

    @command("welcome rules", "The rules channel for {rules_channel}",
             Option("channel", OptionKind.CHANNEL, "The channel"), moderator=True)
    async def cmd_rules(self, inv: Invocation) -> Reply:
        channel: ChannelRef = inv.args["channel"]
        self.settings.change(inv.community, "rules_channel", channel.id)
        return Reply(self._tr(inv.community).gettext(
            "Welcomes will point newcomers to the rules in {channel}.",
            channel=ChannelLink(channel.id, channel.name)))

    @command("welcome dm", "Also (on), never (off) or only (only) welcome by DM",
             Option("mode", OptionKind.CHOICE, "on, off or only", choices=("on", "off", "only")),
             moderator=True)
    async def cmd_dm(self, inv: Invocation) -> Reply:
        mode = {"on": "also", "off": "off", "only": "only"}[str(inv.args["mode"])]
        self.settings.change(inv.community, "dm", mode)
        tr = self._tr(inv.community)
        texts = {"also": tr.gettext("Newcomers get the welcome in the channel and by DM."),
                 "off": tr.gettext("Newcomers get the welcome in the channel only."),
                 "only": tr.gettext("Newcomers get the welcome by DM only.")}
        return Reply(texts[mode])

    @command("welcome test", "Show the welcome as a newcomer would see it", moderator=True)
    async def cmd_test(self, inv: Invocation) -> Reply:
        preview = self.render(inv.community, [(inv.invoker.id, inv.invoker.name)], inv.at)
        return Reply(preview, private=True)

    @command("welcome off", "Stop welcoming newcomers", moderator=True)
    async def cmd_off(self, inv: Invocation) -> Reply:
        self.settings.change(inv.community, "enabled", False)
        return Reply(self._tr(inv.community).gettext(
            "Welcomes are off. /welcome on turns them back on."))

    @command("welcome on", "Welcome newcomers again", moderator=True)
    async def cmd_on(self, inv: Invocation) -> Reply:
        self.settings.change(inv.community, "enabled", True)
        return Reply(self._tr(inv.community).gettext("Welcomes are on."))

    @command("welcome buddy", "Offer to be named as a buddy for newcomers",
             Option("choice", OptionKind.CHOICE, "on or off", choices=("on", "off")))
    async def cmd_buddy(self, inv: Invocation) -> Reply:
        tr = self._tr(inv.community)
        buddies = list(self.setting(inv.community, "buddies"))
        me = inv.invoker.id
        if inv.args["choice"] == "on":
            if me not in buddies:
                buddies.append(me)
            self._c(inv.community).names.put(me, inv.invoker.name)
            self.settings.change(inv.community, "buddies", buddies)
            return Reply(tr.gettext("Thank you! While you are a regular, I may name you in "
                                    "welcomes so newcomers know whom to ask."), private=True)
        self.settings.change(inv.community, "buddies", [b for b in buddies if b != me])
        return Reply(tr.gettext("You will not be named in welcomes."), private=True)

    @command("invite", "Your personal invite link")
    async def cmd_invite(self, inv: Invocation) -> Reply:
        tr = self._tr(inv.community)
        delivery = await self.ctx.outbox.send(CreateInvite(community=inv.community,
                                                           member=inv.invoker.id))
        if not delivery.ok or not delivery.message:
            raise CommandError(tr.gettext("I can't create invite links here; ask a moderator "
                                          "to give me that permission."))
        return Reply(tr.gettext("Your personal invite link: {link} — when someone you invite "
                                "starts taking part, you get the credit.",
                                link=delivery.message), private=True)


def _replace_first_mention(segments: Sequence[Any], member: str,
                           mentions: list[Any]) -> list[Any]:
    """Put the list of newcomers where the template mentions the first one."""
    out: list[Any] = []
    done = False
    for segment in segments:
        if not done and isinstance(segment, Mention) and segment.member == member:
            out.extend(mentions)
            done = True
        else:
            out.append(segment)
    return out


def _whole_second(moment: datetime) -> datetime:
    """Times the store keeps (in whole seconds) and timers are planned from: the same
    before and after a restart."""
    return moment.replace(microsecond=0)
