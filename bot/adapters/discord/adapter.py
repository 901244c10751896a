"""The Discord adapter: a discord.py 2.x client in Tribebot's event loop.

Setting the bot up (for the README):

* In the Developer Portal (Applications -> your app -> Bot -> Privileged Gateway Intents)
  switch on **Server Members Intent**: the bot needs joins, leaves and member names.
  Switch on **Message Content Intent** only if ``[privacy] store_message_text`` or
  ``[discord] prefix_commands`` is true; without it Discord sends messages without their
  text, which is all the bot needs to award points (the length is then unknown, so the
  minimum-length and duplicate checks are skipped; cooldown and caps still apply). The
  bot asks for exactly these
  intents; if one is requested but not switched on, Discord refuses the connection and
  ``tribebot run`` says which intent is missing.
* Invite the bot with the ``bot`` and ``applications.commands`` scopes and the
  permissions View Channels, Send Messages, Embed Links, Attach Files, Read Message
  History, Add Reactions, **Manage Roles** (level roles; keep the bot's role above the
  reward roles) and **Manage Server** (to read invite use counts, which credit inviters).
* Moderator commands need Manage Server, or the role named by ``moderator_role``.

Lifecycle: ``login`` (REST, on ``api_base_url``), then the gateway address from that
API's ``/gateway/bot`` answer, then ``connect()`` in a task; ``start()`` returns once
Discord answered READY: a big bot receives its guilds for minutes after that before
``on_ready``, and their events are handled meanwhile (see ``gateway.py``). Never
``client.run()``, which would take the event loop away.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord import commands as slash
from bot.adapters.discord import translate
from bot.adapters.discord.channels import AmbiguousChannel, find_channel
from bot.adapters.discord.gateway import (
    Bridge,
    build_client,
    build_intents,
    point_rest_at,
    use_gateway,
)
from bot.adapters.discord.ids import command_key
from bot.adapters.discord.translate import (
    DM_CLOSED_CODE,
    allowed_mentions,
    render,
    render_chunks,
    role_problem,
    snowflake,
)
from bot.config import DiscordSection
from bot.core.actions import (
    Action,
    CreateInvite,
    DeleteMessage,
    Delivery,
    DirectMessage,
    Post,
    SetRole,
)
from bot.core.attachments import Attachment, safe_name
from bot.core.commands import (
    ChannelRef,
    ChannelResolver,
    Command,
    CommandError,
    Invocation,
    MemberRef,
    Option,
    OptionKind,
    Reply,
    UsageError,
    attach_files,
    check_declared_size,
    file_options,
    split_words,
)
from bot.core.port import BotPort
from bot.core.text import RichText
from bot.core.text_commands import TypedCommand, rights, run_text_command
from bot.i18n import Catalog

log = logging.getLogger(__name__)

DM_CLOSED = "dm_closed"
#: Discord wants an answer within 3 s; slower commands are deferred ("thinking…").
ANSWER_WITHIN = 2.0
#: Replies of these commands are shown as embeds (mentions in embeds never ping).
EMBED_COMMANDS = frozenset({"rank", "top", "summary"})
EMBED_LIMIT = 4096
READY_TIMEOUT = 120.0
#: Typed commands (``[discord] prefix_commands``) start with this.
COMMAND_PREFIX = "!"


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class DiscordAdapter:
    platform = "discord"

    def __init__(
        self, port: BotPort, settings: DiscordSection, *, guild_ready_timeout: float = 2.0
    ) -> None:
        self.port = port
        self.settings = settings
        point_rest_at(settings.api_base_url)
        intents = build_intents(settings, store_text=port.settings.privacy.store_message_text)
        self.client = build_client(settings, intents, guild_ready_timeout=guild_ready_timeout)
        self.bridge = Bridge(port, self.client)
        self.bridge.attach()
        if settings.prefix_commands:
            self.bridge.prefix_command = self._run_prefix_command
        self.tree: app_commands.CommandTree[Any] = app_commands.CommandTree(self.client)
        #: Whether the last start synced the command definitions to Discord.
        self.synced = False
        #: Seconds a command may run before the answer is deferred ("thinking…").
        self.answer_within = ANSWER_WITHIN
        self._task: asyncio.Task[None] | None = None
        self._role_notices: set[tuple[str, str]] = set()
        # actions wait in the outbox until the gateway answers READY
        port.register_sender(self.platform, self, connected=False)

    @property
    def handled_events(self) -> int:
        return self.bridge.handled

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        if self.settings.token is None:
            raise ValueError("[discord] token is missing: set it in the config or in "
                             "TRIBEBOT_DISCORD_TOKEN (Developer Portal -> Bot -> Token)")
        point_rest_at(self.settings.api_base_url)
        await self.client.login(self.settings.token.get_secret_value())
        _, gateway, _ = await self.client.http.get_bot_gateway()
        use_gateway(gateway)
        for built in slash.build_commands(self.port.command_catalog(), self._run_command,
                                          moderator_role=self.settings.moderator_role):
            self.tree.add_command(built)
        await self._sync_commands()
        self._task = asyncio.create_task(self.client.connect(reconnect=True),
                                         name="discord-gateway")
        connected = asyncio.create_task(self.bridge.connected.wait())
        done, _ = await asyncio.wait({connected, self._task}, timeout=READY_TIMEOUT,
                                     return_when=asyncio.FIRST_COMPLETED)
        if connected not in done:
            connected.cancel()
            if self._task in done:
                self._task.result()  # raises why the connection failed (token, intents)
            raise TimeoutError("Discord did not answer READY within "
                               f"{READY_TIMEOUT:.0f} seconds")

    async def until_ready(self) -> None:
        """Until discord.py's ``on_ready``: every guild READY named has arrived."""
        await self.bridge.ready.wait()

    async def _sync_commands(self) -> None:
        """Sync only when the definitions changed since the last sync (see commands.py)."""
        application = self.client.application_id or 0
        digest = slash.definitions_hash(self.tree)
        path = slash.hash_file(self.port.local_files, application)
        self.synced = slash.needs_sync(path, digest)
        if self.synced:
            await self.tree.sync()
            slash.remember_sync(path, digest)
            log.info("synced %d slash commands", len(self.tree.get_commands()))

    async def stop(self) -> None:
        await self.client.close()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, discord.DiscordException):
                await self._task

    # -- commands ----------------------------------------------------------------------
    async def _run_command(
        self, command: Command, interaction: discord.Interaction, values: dict[str, Any]
    ) -> None:
        deferred = False
        if file_options(command):  # a download can take longer than Discord waits
            await interaction.response.defer(thinking=True, ephemeral=True)
            deferred = True
        invocation = self._invocation(interaction, {})
        try:
            args = self._arguments(command, values)
            if not command.moderator or invocation.is_moderator:  # else refused unread
                tr = self.port.catalog(invocation.community)
                files = [await _download(command, option, values[option.name], tr)
                         for option in file_options(command)
                         if values.get(option.name) is not None]
                attach_files(command, args, files, tr)
        except CommandError as exc:
            await self._answer(interaction, command, Reply(exc.text, private=True),
                               deferred=deferred)
            return
        invocation = dataclasses.replace(invocation, args=args)
        running = asyncio.ensure_future(self.port.invoke(command, invocation))
        if not deferred:
            done, _ = await asyncio.wait({running}, timeout=self.answer_within)
            if not done:
                await interaction.response.defer(thinking=True)
                deferred = True
        reply = await running
        await self._answer(interaction, command, reply, deferred=deferred)

    async def _run_prefix_command(self, message: discord.Message) -> bool:
        """``!rank``, ``!points give @dana 50 thanks``: the same commands as the slash
        ones, typed in a message. Returns False for a message that is not a command."""
        if message.guild is None or not message.content.startswith(COMMAND_PREFIX):
            return False
        community = translate.community_id(message.guild.id)
        tr = self.port.catalog(community)
        mentioned = {user.id: user for user in message.mentions}

        def members(word: str) -> MemberRef | None:
            user = mentioned.get(translate.mention_target(word, "@") or 0)
            return (MemberRef(translate.member_id(user.id), user.display_name)
                    if user is not None else None)

        async def files(command: Command, tr: Catalog) -> list[Attachment]:
            # a file comes attached to the message, never typed: words fill the rest
            wanted = file_options(command)
            return [await _download(command, wanted[0], message.attachments[0], tr)
                    ] if wanted and message.attachments else []

        author = message.author
        permissions = (author.guild_permissions if isinstance(author, discord.Member)
                       else discord.Permissions.none())
        outcome = await run_text_command(self.port, TypedCommand(
            community=community, channel=translate.channel_id(message.channel.id),
            invoker=MemberRef(translate.member_id(author.id), author.display_name),
            at=self.port.clock.now(), words=split_words(message.content[1:]),
            members=members, channels=self._channels(message.guild, message.channel.id, tr),
            is_moderator=rights(self._is_moderator(author, permissions)), files=files,
            key=command_key(message.id),
        ))
        if outcome.command is None:
            return False  # "!!!", "!important": conversation
        if outcome.reply is not None:
            await self._reply_to(message, outcome.reply)
        return True

    async def _reply_to(self, message: discord.Message, reply: Reply) -> None:
        """Answer in the channel, as a reply (a typed command has no ephemeral answers)."""
        reference = message.to_reference(fail_if_not_exists=False)
        try:
            await self._send(message.channel, reply.text, reply.file, reference=reference)
        except discord.HTTPException as exc:
            log.warning("could not answer a command in %s: %s", message.channel.id, exc)

    def _arguments(self, command: Command, values: dict[str, Any]) -> dict[str, Any]:
        """The typed options' values; FILE options are downloaded separately."""
        args: dict[str, Any] = {}
        for option in command.options:
            value = values.get(option.name)
            if value is None or option.kind is OptionKind.FILE:
                continue
            if option.kind is OptionKind.MEMBER:
                args[option.name] = MemberRef(translate.member_id(value.id), value.display_name)
            elif option.kind is OptionKind.CHANNEL:
                args[option.name] = ChannelRef(translate.channel_id(value.id), value.name)
            elif option.kind is OptionKind.CHOICE:
                args[option.name] = str(value).lower()
            else:
                args[option.name] = value
        return args

    def _invocation(self, interaction: discord.Interaction, args: dict[str, Any]) -> Invocation:
        user = interaction.user
        assert interaction.guild_id is not None and interaction.channel_id is not None
        community = translate.community_id(interaction.guild_id)
        return Invocation(
            community=community,
            channel=translate.channel_id(interaction.channel_id),
            invoker=MemberRef(translate.member_id(user.id), user.display_name),
            is_moderator=self._is_moderator(user, interaction.permissions),
            at=self.port.clock.now(), args=args,
            channels=self._channels(self.client.get_guild(interaction.guild_id),
                                    interaction.channel_id, self.port.catalog(community)),
        )

    def _channels(self, guild: discord.Guild | None, here: int, tr: Catalog
                  ) -> ChannelResolver:
        """The one channel resolver of typed and slash commands (see ``channels.py``)."""

        def resolve(word: str) -> ChannelRef | None:
            try:
                return find_channel(guild, word, here)
            except AmbiguousChannel:
                raise UsageError(tr.gettext(
                    "Several channels here are called “{value}”; mention the one you mean "
                    "(type # and pick it) or give its id.", value=word)) from None

        return resolve

    def _is_moderator(self, user: discord.User | discord.Member,
                      permissions: discord.Permissions) -> bool:
        """One rule for slash and typed commands: Manage Server, or the configured role."""
        roles = [r.name for r in user.roles] if isinstance(user, discord.Member) else []
        return translate.is_moderator(permissions, roles, self.settings.moderator_role)

    async def _answer(
        self, interaction: discord.Interaction, command: Command, reply: Reply, *,
        deferred: bool,
    ) -> None:
        kwargs: dict[str, Any] = {"ephemeral": reply.private,
                                  "allowed_mentions": allowed_mentions(reply.text)}
        rest: list[str] = []
        if command.path[0] in EMBED_COMMANDS and not reply.private:
            embed = discord.Embed(description=_fit(render(reply.text), EMBED_LIMIT))
            if reply.file is not None and reply.file.suffix.lower() in (".png", ".jpg"):
                embed.set_image(url=f"attachment://{reply.file.name}")
            kwargs["embed"] = embed
        else:
            first, *rest = render_chunks(reply.text) or [""]
            kwargs["content"] = first
        if reply.file is not None:
            kwargs["file"] = discord.File(reply.file)
        if deferred:
            await interaction.followup.send(**kwargs)
        else:
            await interaction.response.send_message(**kwargs)
        for content in rest:  # a long answer continues in follow-up messages
            await interaction.followup.send(content=content, ephemeral=reply.private,
                                            allowed_mentions=kwargs["allowed_mentions"])

    # -- actions -----------------------------------------------------------------------
    async def deliver(self, action: Action) -> Delivery:
        """Send an action; platform failures come back as a Delivery, never raised."""
        try:
            if isinstance(action, Post):
                return await self._post(action)
            if isinstance(action, DirectMessage):
                return await self._direct(action)
            if isinstance(action, SetRole):
                return await self._set_role(action)
            if isinstance(action, DeleteMessage):
                await self.client.http.delete_message(snowflake(action.channel),
                                                      snowflake(action.message))
                return Delivery(True)
            if isinstance(action, CreateInvite):
                return await self._invite(action)
        except discord.HTTPException as exc:
            log.warning("Discord refused %s: %s", type(action).__name__, exc)
            return Delivery(False, error=f"http {exc.status}: {exc.text}")
        return Delivery(False, error=f"discord cannot send {type(action).__name__}")

    async def _send(self, channel: discord.abc.Messageable, text: RichText,
                    file: Path | None, **first: Any) -> discord.Message:
        """The text in as many messages as Discord's limit needs, in order; the file (and
        ``first``, e.g. a reply reference) go with the first. Returns the first message."""
        mentions = allowed_mentions(text)
        contents = render_chunks(text) or [""]
        if file is not None:
            first["file"] = discord.File(file)
        opening = await channel.send(content=contents[0], allowed_mentions=mentions, **first)
        for content in contents[1:]:
            await channel.send(content=content, allowed_mentions=mentions)
        return opening

    async def _post(self, action: Post) -> Delivery:
        channel = self.client.get_partial_messageable(
            snowflake(action.channel), guild_id=snowflake(action.community))
        first: dict[str, Any] = {}
        if action.reply_to is not None:
            first["reference"] = discord.MessageReference(
                message_id=snowflake(action.reply_to), channel_id=channel.id,
                fail_if_not_exists=False)
        sent = await self._send(channel, action.text, action.file, **first)
        return Delivery(True, message=translate.message_id(sent.id))

    async def _invite(self, action: CreateInvite) -> Delivery:
        """A never-expiring personal invite in the welcome (default) channel; its code is
        remembered so whoever joins by it is credited to the member who asked."""
        channel: int | None = None
        chosen = self.port.invite_channel(action.community)
        if chosen:
            channel = snowflake(chosen)
        else:
            guild = self.client.get_guild(snowflake(action.community))
            fallback = guild and (guild.system_channel or next(iter(guild.text_channels), None))
            channel = fallback.id if fallback else None
        if channel is None:
            return Delivery(False, error="no channel to make an invite for")
        invite = await self.client.http.create_invite(
            channel, reason=f"personal invite for {action.member}", max_age=0, unique=True)
        code = str(invite["code"])
        self.port.remember_personal_invite(action.community, code, action.member)
        return Delivery(True, message=f"https://discord.gg/{code}")

    async def _direct(self, action: DirectMessage) -> Delivery:
        try:
            channel = await self.client.create_dm(discord.Object(id=snowflake(action.member)))
            sent = await self._send(channel, action.text, action.file)
        except discord.Forbidden as exc:
            if exc.code == DM_CLOSED_CODE:
                log.info("%s does not accept direct messages", action.member)
                return Delivery(False, error=DM_CLOSED)
            raise
        return Delivery(True, message=translate.message_id(sent.id))

    async def _set_role(self, action: SetRole) -> Delivery:
        guild = self.client.get_guild(snowflake(action.community))
        if guild is None:
            return Delivery(False, error="unknown_guild")
        role = discord.utils.get(guild.roles, name=action.role)
        me = guild.me
        problem = role_problem(role, me.guild_permissions if me else discord.Permissions.none(),
                               me.top_role if me else None)
        if problem is None and role is not None:
            try:
                member, reason = snowflake(action.member), "Tribebot level reward"
                if action.grant:
                    await self.client.http.add_role(guild.id, member, role.id, reason=reason)
                else:
                    await self.client.http.remove_role(guild.id, member, role.id, reason=reason)
                return Delivery(True)
            except discord.Forbidden:
                problem = "role_above_bot"
        assert problem is not None
        await self._tell_moderators_about_role(guild, action, problem)
        return Delivery(False, error=problem)

    async def _tell_moderators_about_role(
        self, guild: discord.Guild, action: SetRole, problem: str
    ) -> None:
        """One notice per (guild, role), so a missing permission is not a silent failure."""
        key = (action.community, action.role)
        if key in self._role_notices:
            return
        self._role_notices.add(key)
        tr = self.port.catalog(action.community)
        if problem == "role_missing":
            text = tr.gettext("I could not give the level role “{role}”: there is no role with "
                              "that name. Create it, or change the level rewards.",
                              role=action.role)
        elif problem == "no_manage_roles":
            text = tr.gettext("I could not give the level role “{role}”: I need the Manage "
                              "Roles permission.", role=action.role)
        else:
            text = tr.gettext("I could not give the level role “{role}”: it is above my own "
                              "highest role. Move my role above it in Server Settings -> "
                              "Roles.", role=action.role)
        owners = self.port.owners_channel(action.community)
        target = (snowflake(owners) if owners else
                  guild.system_channel.id if guild.system_channel else None)
        if target is None:
            log.warning("no channel to tell the moderators of %s: %s", guild.id, text.plain())
            return
        channel = self.client.get_partial_messageable(target, guild_id=guild.id)
        try:
            await self._send(channel, text, None)
        except discord.HTTPException as exc:
            log.warning("could not tell the moderators of %s about role %s: %s",
                        guild.id, action.role, exc)


async def _download(command: Command, option: Option, attachment: discord.Attachment,
                    tr: Catalog) -> Attachment:
    """The attachment's bytes, if Discord says it fits the option's limit (checked again on
    the bytes by ``attach_files``)."""
    name = safe_name(attachment.filename)
    check_declared_size(command, option, name, attachment.size, tr)
    try:
        data = await attachment.read()
    except discord.HTTPException as exc:
        log.warning("could not download the attachment %s: %s", attachment.id, exc)
        raise UsageError(tr.gettext("/{command}: I could not download “{name}”; attach it "
                                    "again.", command=command.name, name=name)) from None
    return Attachment(name, data, attachment.content_type or "")
