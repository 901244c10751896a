"""Pure translation between discord.py objects and Tribebot's core types.

Nothing here does I/O or awaits: each function reads attributes of a discord.py object
(or plain values) and returns a frozen core event, an id or rendered text, so it can be
tested with plain asserts on objects discord.py builds from gateway payloads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import discord

from bot.adapters.discord.ids import channel_id, community_id, member_id, message_id
from bot.core.chunks import atoms, pack
from bot.core.events import (
    Channel,
    CommunityJoined,
    MemberJoined,
    MemberLeft,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
)
from bot.core.ids import native_part, platform_of
from bot.core.text import (
    ChannelLink,
    Mention,
    MessageLink,
    RichText,
    Segment,
    visible_length,
)

PLATFORM = "discord"
#: Message types people write; joins, pins, boosts and other system notices earn nothing.
PERSON_MESSAGE_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})
#: Discord's JSON error code for "Cannot send messages to this user" (closed DMs).
DM_CLOSED_CODE = 50007
def snowflake(identifier: str) -> int:
    """The Discord snowflake inside one of our ids (``discord:123`` -> 123)."""
    if platform_of(identifier) != PLATFORM:
        raise ValueError(f"{identifier!r} is not a Discord id")
    return int(native_part(identifier))


# -- inbound: guilds and members ---------------------------------------------------------
def community_joined(guild: discord.Guild, at: datetime) -> CommunityJoined:
    """The guild with its text channels; the system channel (where Discord greets
    newcomers) comes first, since cogs take the first channel as the default one."""
    system = guild.system_channel
    ordered = sorted(guild.text_channels, key=lambda c: (system is None or c.id != system.id,
                                                         c.position, c.id))
    channels = tuple(Channel(id=channel_id(c.id), name=c.name) for c in ordered)
    return CommunityJoined(community=community_id(guild.id), at=at, name=guild.name,
                           channels=channels)


def member_joined(member: discord.Member, at: datetime) -> MemberJoined:
    guild = member.guild
    return MemberJoined(
        community=community_id(guild.id), at=member.joined_at or at,
        member=member_id(member.id), name=member.display_name, is_bot=member.bot,
        member_count=guild.member_count,
    )


def member_left(payload: discord.RawMemberRemoveEvent, at: datetime) -> MemberLeft:
    return MemberLeft(community=community_id(payload.guild_id), at=at,
                      member=member_id(payload.user.id))


# -- inbound: messages -------------------------------------------------------------------
def message_posted(message: discord.Message, content_visible: bool = True
                   ) -> MessagePosted | None:
    """A guild message written by someone; None for DMs and system notices.

    Webhook messages count as bot messages: they have no member behind them. ``text`` is
    only set when Discord sent the content (the message content intent is on); without
    the intent an empty content means "not shown", so the length is unknown (None).
    """
    guild = message.guild
    if guild is None or message.type not in PERSON_MESSAGE_TYPES:
        return None
    channel = message.channel
    thread: str | None = None
    parent = channel.id
    if isinstance(channel, discord.Thread):
        thread, parent = channel_id(channel.id), channel.parent_id
    reply_to = reply_author = None
    reference = message.reference
    if reference is not None and reference.message_id is not None:
        reply_to = message_id(reference.message_id)
        resolved = reference.resolved
        if isinstance(resolved, discord.Message):
            reply_author = member_id(resolved.author.id)
    content = message.content
    author = message.author
    return MessagePosted(
        community=community_id(guild.id), at=message.created_at,
        message=message_id(message.id), author=member_id(author.id),
        channel=channel_id(parent), author_name=author.display_name,
        author_is_bot=author.bot or message.webhook_id is not None,
        thread=thread, reply_to=reply_to, reply_to_author=reply_author,
        length=visible_length(content) if content or content_visible else None,
        has_media=bool(message.attachments), text=content or None,
    )


def message_edited(payload: discord.RawMessageUpdateEvent) -> MessageEdited | None:
    """A real edit of a guild message (Discord also sends updates for link embeds)."""
    data = payload.data
    edited = data.get("edited_timestamp")
    if payload.guild_id is None or not edited:
        return None
    content = data.get("content") or ""
    return MessageEdited(
        community=community_id(payload.guild_id), at=datetime.fromisoformat(edited),
        message=message_id(payload.message_id), length=visible_length(content),
        text=content or None,
    )


def messages_deleted(
    guild: int | None, messages: Iterable[int], at: datetime
) -> list[MessageDeleted]:
    if guild is None:
        return []
    return [MessageDeleted(community=community_id(guild), at=at, message=message_id(m))
            for m in messages]


# -- inbound: reactions ------------------------------------------------------------------
def emoji_key(emoji: discord.PartialEmoji) -> str:
    """Unicode emoji as themselves, custom ones by name and id (names can be reused)."""
    return f"{emoji.name}:{emoji.id}" if emoji.id else str(emoji.name)


def reaction_event(
    payload: discord.RawReactionActionEvent, at: datetime, message_author: str | None,
    *, reactor_is_bot: bool = False,
) -> ReactionAdded | ReactionRemoved | None:
    """Reactions from raw events, so reactions on messages not in the cache count too."""
    guild = payload.guild_id
    if guild is None:
        return None
    cls = ReactionAdded if payload.event_type == "REACTION_ADD" else ReactionRemoved
    member = payload.member
    return cls(
        community=community_id(guild), at=at, message=message_id(payload.message_id),
        reactor=member_id(payload.user_id), emoji=emoji_key(payload.emoji),
        message_author=message_author,
        reactor_is_bot=member.bot if member is not None else reactor_is_bot,
    )


def reaction_author(payload: discord.RawReactionActionEvent) -> str | None:
    """The reacted message's author when Discord says (reaction adds carry it)."""
    author = payload.message_author_id
    return member_id(author) if author else None


# -- inbound: invites --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class InviteCount:
    uses: int
    inviter: int | None


def used_invite(
    before: Mapping[str, InviteCount], after: Mapping[str, InviteCount],
    vanished: Mapping[str, InviteCount] | None = None,
) -> tuple[str, int | None] | None:
    """Which invite a new member used: the one whose use count went up.

    A single-use invite disappears when used, so when no count went up, the one invite
    that vanished (from the fresh list, or by an invite-delete event) is the answer.
    Ambiguous cases answer None rather than guess.
    """
    grown = [code for code, now in after.items()
             if now.uses > (before[code].uses if code in before else 0)]
    if len(grown) == 1:
        code = grown[0]
        return code, after[code].inviter
    if grown:
        return None
    gone = {code: count for code, count in before.items() if code not in after}
    gone.update(vanished or {})
    if len(gone) == 1:
        code, count = next(iter(gone.items()))
        return code, count.inviter
    return None


# -- outbound: text ----------------------------------------------------------------------
#: Discord's limit on a message's content.
CONTENT_LIMIT = 2000


def escape(text: str) -> str:
    """Owner and member text cannot format, link or ping: markdown and @mentions escaped."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def _render_segment(segment: Segment) -> str:
    if isinstance(segment, Mention):
        return f"<@{snowflake(segment.member)}>"
    if isinstance(segment, ChannelLink):
        return f"<#{snowflake(segment.channel)}>"
    if isinstance(segment, MessageLink):
        return message_url(segment)
    return escape(segment)


def mention_target(word: str, sigil: str) -> int | None:
    """The id in a typed mention: ``<@123>``/``<@!123>`` for ``@``, ``<#123>`` for ``#``."""
    if not (word.startswith(f"<{sigil}") and word.endswith(">")):
        return None
    digits = word[2:-1].lstrip("!")
    return int(digits) if digits.isdigit() else None


def render(text: RichText) -> str:
    """One message's content (no length limit)."""
    return "".join(_render_segment(segment) for segment in text.segments)


def render_chunks(text: RichText, limit: int = CONTENT_LIMIT) -> list[str]:
    """Message contents of at most ``limit`` units, split between lines or words."""
    return pack(atoms(text, render=_render_segment, escape=escape, limit=limit), limit)


def message_url(link: MessageLink) -> str:
    return (f"https://discord.com/channels/{snowflake(link.community)}/"
            f"{snowflake(link.channel)}/{snowflake(link.message)}")


def allowed_mentions(text: RichText) -> discord.AllowedMentions:
    """Only the members the text mentions on purpose may be pinged; never roles or @everyone."""
    users = [discord.Object(id=snowflake(m)) for m in dict.fromkeys(text.mentions())]
    return discord.AllowedMentions(everyone=False, roles=False, users=users,
                                   replied_user=False)


# -- permissions -------------------------------------------------------------------------
def is_moderator(
    permissions: discord.Permissions, role_names: Iterable[str], moderator_role: str
) -> bool:
    """Manage Server makes a moderator; so does the configured role, when one is set."""
    if permissions.manage_guild or permissions.administrator:
        return True
    return bool(moderator_role) and moderator_role in role_names


def role_problem(
    role: discord.Role | None, bot_permissions: discord.Permissions,
    bot_top_role: discord.Role | None,
) -> str | None:
    """Why the bot cannot give ``role`` (a short code), or None when it can."""
    if role is None:
        return "role_missing"
    if not (bot_permissions.manage_roles or bot_permissions.administrator):
        return "no_manage_roles"
    if bot_top_role is None or role >= bot_top_role or role.managed:
        return "role_above_bot"
    return None
