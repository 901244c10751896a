"""discord.py client <-> Tribebot bus: builds the client and turns its events into ours.

The client is a plain ``discord.Client``, or an ``AutoShardedClient`` with ``shards`` or
``shard_count`` (and ``shard_ids``: this process's range of them); the ``Bridge``
attaches its ``on_*`` coroutines to it, translates with ``translate.py`` and publishes.
Reconnects and resumes are the library's; events re-delivered after a resume carry the
same key and the core drops them.

Start-up: READY names the guilds, then Discord sends each one (GUILD_CREATE), a big bot's
over minutes, and ``on_ready`` comes only after the last. discord.py dispatches every
event of a guild from its GUILD_CREATE on, so the bridge does not wait for ``on_ready``:
a guild becomes a community when it is available (``on_guild_available``), or at its
first event if that comes first, and the outbox opens at READY.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.adapters.discord import translate
from bot.adapters.discord.translate import InviteCount
from bot.config import DiscordSection
from bot.core.authors import with_authors
from bot.core.events import CommunityLeft, Event, InviteUsed
from bot.core.port import BotPort

log = logging.getLogger(__name__)

#: The client events the bridge listens to (raw ones work on uncached messages).
EVENTS = (
    "on_connect", "on_ready", "on_guild_available", "on_guild_join", "on_guild_remove",
    "on_member_join", "on_raw_member_remove",
    "on_message", "on_raw_message_edit", "on_raw_message_delete",
    "on_raw_bulk_message_delete", "on_raw_reaction_add", "on_raw_reaction_remove",
    "on_invite_create", "on_invite_delete",
)


def build_intents(settings: DiscordSection, *, store_text: bool) -> discord.Intents:
    """Only what the bot uses; message content (privileged) only when text is needed."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True          # privileged: joins, leaves, member names
    intents.guild_messages = True
    intents.guild_reactions = True
    intents.invites = True
    intents.message_content = settings.prefix_commands or store_text
    return intents


def point_rest_at(api_base_url: str) -> None:
    """Send discord.py's REST calls to ``api_base_url`` (a proxy or compatible server).

    ``Route.BASE`` is the class attribute discord.py builds every URL from, so this is
    process-wide, as is the library's own ``http._set_api_version``.
    """
    Route.BASE = api_base_url.rstrip("/")


def use_gateway(url: str) -> None:
    """Connect (and reconnect after an invalidated session) to the gateway the API named.

    The sharded client asks ``/gateway/bot`` itself; the plain client starts from this
    default, so the adapter sets it from the same answer.
    """
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)


def build_client(
    settings: DiscordSection, intents: discord.Intents, *, guild_ready_timeout: float = 2.0
) -> discord.Client:
    options = {
        "intents": intents,
        # Chunking every guild's member list at start-up does not scale; members are
        # learned from events instead.
        "chunk_guilds_at_startup": False,
        "guild_ready_timeout": guild_ready_timeout,
        "allowed_mentions": discord.AllowedMentions.none(),
        "max_messages": 5000,
    }
    if settings.shards == "auto":
        return discord.AutoShardedClient(**options)
    if isinstance(settings.shards, int):
        return discord.AutoShardedClient(shard_count=settings.shards, **options)
    if settings.shard_count is not None:
        # this process's range of the bot's shards; Discord sends it only their guilds
        ids = list(settings.shard_ids) if settings.shard_ids is not None else None
        return discord.AutoShardedClient(shard_count=settings.shard_count, shard_ids=ids,
                                         **options)
    return discord.Client(**options)


class Bridge:
    """Listens on the client and publishes platform-neutral events."""

    def __init__(self, port: BotPort, client: discord.Client) -> None:
        self.port = port
        self.client = client
        #: Gateway events fully handled; tests wait on it.
        self.handled = 0
        #: READY arrived (the session is up, REST and events flow); on_ready comes later
        self.connected = asyncio.Event()
        self.ready = asyncio.Event()
        #: communities (guilds) published in this process
        self._announced: set[str] = set()
        self._invites: dict[int, dict[str, InviteCount]] = {}
        self._vanished: dict[int, dict[str, InviteCount]] = {}
        self._invite_locks: dict[int, asyncio.Lock] = {}
        #: Answers a "!command" message and returns True, or returns False for a message
        #: that is conversation; set by the adapter when prefix commands are on.
        self.prefix_command: Callable[[discord.Message], Awaitable[bool]] | None = None

    def attach(self) -> None:
        for name in EVENTS:
            setattr(self.client, name, getattr(self, name))

    def _publish(self, events: Iterable[Event | None]) -> None:
        for event in events:
            if event is not None:
                self._announce(event.community)
                self.port.publish(event)

    def _announce(self, community: str) -> None:
        """Publish a guild as a community before its first event, if its
        ``on_guild_available`` has not run yet (both are dispatched on GUILD_CREATE, in an
        order discord.py does not promise)."""
        if community in self._announced:  # per event: a set lookup, nothing more
            return
        guild = self.client.get_guild(translate.snowflake(community))
        if guild is not None and not guild.unavailable:
            self._announced.add(community)
            self.port.publish(translate.community_joined(guild, self.port.clock.now()))

    def _done(self) -> None:
        self.handled += 1

    # -- guilds ------------------------------------------------------------------------
    async def on_connect(self) -> None:
        """READY: the session is up; actions held in the outbox can go (REST works)."""
        self.connected.set()
        self.port.adapter_connected(translate.PLATFORM)

    async def on_ready(self) -> None:
        try:
            for guild in self.client.guilds:
                if (translate.community_id(guild.id) not in self._announced
                        and not guild.unavailable):
                    await self._joined(guild)
            log.info("Discord is ready: %d guilds", len(self.client.guilds))
        finally:
            self.ready.set()
            self._done()

    async def on_guild_available(self, guild: discord.Guild) -> None:
        try:
            await self._joined(guild)
        finally:
            self._done()

    async def on_guild_join(self, guild: discord.Guild) -> None:
        try:
            await self._joined(guild)
        finally:
            self._done()

    async def _joined(self, guild: discord.Guild) -> None:
        """The guild as a community, with its channels as they are now."""
        self._announced.add(translate.community_id(guild.id))
        self.port.publish(translate.community_joined(guild, self.port.clock.now()))
        await self._refresh_invites(guild)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        self._invites.pop(guild.id, None)
        self._announced.discard(translate.community_id(guild.id))
        self._publish([CommunityLeft(community=translate.community_id(guild.id),
                                     at=self.port.clock.now())])
        self._done()

    # -- members and invites -----------------------------------------------------------
    async def _fetch_invites(self, guild: discord.Guild) -> dict[str, InviteCount] | None:
        """The guild's invites and their use counts; None without Manage Server."""
        try:
            invites = await guild.invites()
        except discord.HTTPException as exc:
            log.info("cannot read the invites of guild %s (%s); invites are not credited",
                     guild.id, exc)
            return None
        return {i.code: InviteCount(i.uses or 0, i.inviter.id if i.inviter else None)
                for i in invites}

    async def _refresh_invites(self, guild: discord.Guild) -> None:
        found = await self._fetch_invites(guild)
        if found is not None:
            self._invites[guild.id] = found

    async def on_invite_create(self, invite: discord.Invite) -> None:
        if invite.guild is not None and invite.guild.id in self._invites:
            self._invites[invite.guild.id][invite.code] = InviteCount(
                invite.uses or 0, invite.inviter.id if invite.inviter else None)
        self._done()

    async def on_invite_delete(self, invite: discord.Invite) -> None:
        if invite.guild is not None:
            known = self._invites.get(invite.guild.id, {}).pop(invite.code, None)
            if known is not None:  # a single-use invite vanishes when it is used
                self._vanished.setdefault(invite.guild.id, {})[invite.code] = known
        self._done()

    async def on_member_join(self, member: discord.Member) -> None:
        try:
            now = self.port.clock.now()
            joined = translate.member_joined(member, now)
            self._publish([joined])
            used = await self._invite_used(member.guild)
            if used is not None and not member.bot:
                code, inviter = used
                # a personal link the bot made for a member credits that member, not the bot
                personal = self.port.personal_invites(joined.community)
                credited = personal.get(code) or (
                    translate.member_id(inviter) if inviter else None)
                self._publish([InviteUsed(
                    community=joined.community, at=joined.at, member=joined.member,
                    inviter=credited, code=code)])
        finally:
            self._done()

    async def _invite_used(self, guild: discord.Guild) -> tuple[str, int | None] | None:
        """Diff the use counts; a lock per guild keeps two joins from sharing one diff."""
        if guild.id not in self._invites:
            return None
        lock = self._invite_locks.setdefault(guild.id, asyncio.Lock())
        async with lock:
            after = await self._fetch_invites(guild)
            if after is None:
                return None
            before = self._invites.get(guild.id, {})
            used = translate.used_invite(before, after, self._vanished.pop(guild.id, None))
            self._invites[guild.id] = after
            return used

    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        self._publish([translate.member_left(payload, self.port.clock.now())])
        self._done()

    # -- messages ----------------------------------------------------------------------
    async def on_message(self, message: discord.Message) -> None:
        try:
            if (self.prefix_command is not None and not message.author.bot
                    and await self.prefix_command(message)):
                return  # a command is not conversation: it earns nothing
            visible = self.client.intents.message_content
            self._publish([translate.message_posted(message, visible)])
        finally:
            self._done()

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        self._publish([translate.message_edited(payload)])
        self._done()

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        self._publish(translate.messages_deleted(payload.guild_id, [payload.message_id],
                                                 self.port.clock.now()))
        self._done()

    async def on_raw_bulk_message_delete(
        self, payload: discord.RawBulkMessageDeleteEvent
    ) -> None:
        self._publish(translate.messages_deleted(payload.guild_id, sorted(payload.message_ids),
                                                 self.port.clock.now()))
        self._done()

    # -- reactions ---------------------------------------------------------------------
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload)

    async def _reaction(self, payload: discord.RawReactionActionEvent) -> None:
        try:
            if payload.guild_id is None:
                return
            user = self.client.get_user(payload.user_id)
            # a reaction add names the message's author; for a removal the bot recalls it
            event = translate.reaction_event(
                payload, self.port.clock.now(), translate.reaction_author(payload),
                reactor_is_bot=user.bot if user is not None else False)
            self._publish([await with_authors(self.port, event) if event else None])
        finally:
            self._done()
