"""Discord gateway and REST payloads, shaped as Discord sends them (API v10).

One small guild, "Tribe", with a moderator, three members and the bot; the same
builders feed the fake gateway and the translation unit tests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import discord

from tests.conftest import START

APP_ID = 1000
GUILD = 500
GENERAL = 501
OWNERS = 502
THREAD = 503
#: Roles: the bot's role sits above Regular and below Elite.
REGULAR_ROLE, BOT_ROLE, ELITE_ROLE, MODS_ROLE = 600, 601, 602, 603

Json = dict[str, Any]


def iso(at: datetime) -> str:
    return at.isoformat()


def snowflake(at: datetime, n: int = 0) -> int:
    """An id Discord would have issued at ``at`` (ids encode their creation time)."""
    return discord.utils.time_snowflake(at) + n


def user(user_id: int, name: str, *, bot: bool = False) -> Json:
    return {"id": str(user_id), "username": name.lower(), "global_name": name,
            "discriminator": "0", "avatar": None, "bot": bot}


BOT = user(APP_ID, "Tribebot", bot=True)
MONA = user(7, "Mona")     # owns the guild: a moderator
ALICE = user(1, "Alice")
BOB = user(2, "Bob")
CAROL = user(3, "Carol")   # has closed her direct messages
HOOK = user(900, "Announcements", bot=True)


def member(who: Json, *, roles: tuple[int, ...] = (), joined: datetime = START,
           permissions: int | None = None) -> Json:
    data: Json = {"user": who, "roles": [str(r) for r in roles], "joined_at": iso(joined),
                  "deaf": False, "mute": False, "flags": 0, "nick": None}
    if permissions is not None:
        data["permissions"] = str(permissions)
    return data


def without_user(data: Json) -> Json:
    return {k: v for k, v in data.items() if k != "user"}


def role(role_id: int, name: str, position: int, permissions: int = 0) -> Json:
    return {"id": str(role_id), "name": name, "color": 0, "hoist": False,
            "position": position, "permissions": str(permissions), "managed": False,
            "mentionable": False, "flags": 0}


def text_channel(channel_id: int, name: str, position: int, guild: int = GUILD) -> Json:
    return {"id": str(channel_id), "type": 0, "guild_id": str(guild), "name": name,
            "position": position, "permission_overwrites": [], "nsfw": False,
            "parent_id": None, "topic": None, "last_message_id": None}


def thread(thread_id: int, parent: int, name: str, guild: int = GUILD) -> Json:
    return {"id": str(thread_id), "type": 11, "guild_id": str(guild), "parent_id": str(parent),
            "name": name, "owner_id": ALICE["id"], "message_count": 0, "member_count": 1,
            "rate_limit_per_user": 0, "flags": 0,
            "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                "archive_timestamp": iso(START), "locked": False}}


MANAGE_ROLES = 1 << 28
MANAGE_GUILD = 1 << 5
SEND = (1 << 10) | (1 << 11)  # view channel, send messages


def guild(*, guild_id: int = GUILD, name: str = "Tribe", bot_permissions: int = MANAGE_ROLES,
          members: tuple[Json, ...] | None = None, member_count: int | None = None,
          general: int = GENERAL, owners: int = OWNERS, thread_id: int = THREAD) -> Json:
    """A GUILD_CREATE; with ``member_count`` above the members listed it is a large guild
    (Discord lists only some members of those). A second guild the bot holds at the same
    time needs channel ids of its own (``general``, ``owners``, ``thread_id``)."""
    roles = [role(guild_id, "@everyone", 0, SEND), role(REGULAR_ROLE, "Regular", 1),
             role(BOT_ROLE, "Tribebot", 2, bot_permissions), role(ELITE_ROLE, "Elite", 3),
             role(MODS_ROLE, "Mods", 4)]
    if members is None:
        members = (member(BOT, roles=(BOT_ROLE,)), member(MONA), member(ALICE), member(BOB),
                   member(CAROL))
    return {
        "id": str(guild_id), "name": name, "icon": None, "owner_id": MONA["id"],
        "roles": roles, "emojis": [], "stickers": [], "features": [],
        "channels": [text_channel(owners, "owners", 1, guild_id),
                     text_channel(general, "general", 0, guild_id)],
        "threads": [thread(thread_id, general, "questions", guild_id)],
        "members": list(members), "member_count": member_count or len(members),
        "presences": [], "voice_states": [], "stage_instances": [],
        "guild_scheduled_events": [], "large": (member_count or 0) > 250,
        "unavailable": False, "joined_at": iso(START),
        "system_channel_id": str(general), "verification_level": 0,
        "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0,
        "premium_tier": 0, "preferred_locale": "en-US", "nsfw_level": 0, "afk_timeout": 300,
    }


def message(message_id: int, author: Json, content: str = "hello there friends", *,
            channel: int = GENERAL, guild_id: int = GUILD, reply_to: Json | None = None,
            attachments: tuple[Json, ...] = (), webhook_id: int | None = None,
            at: datetime | None = None) -> Json:
    data: Json = {
        "id": str(message_id), "channel_id": str(channel), "guild_id": str(guild_id),
        "author": author, "content": content,
        "timestamp": iso(at or discord.utils.snowflake_time(message_id)),
        "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
        "mention_roles": [], "attachments": list(attachments), "embeds": [], "pinned": False,
        "type": 19 if reply_to else 0,
    }
    if webhook_id is None:
        data["member"] = without_user(member(author))
    else:
        data["webhook_id"] = str(webhook_id)
    if reply_to is not None:
        data["message_reference"] = {"type": 0, "message_id": reply_to["id"],
                                     "channel_id": reply_to["channel_id"],
                                     "guild_id": str(guild_id)}
        data["referenced_message"] = reply_to
    return data


def attachment(attachment_id: int, filename: str, url: str, size: int = 10) -> Json:
    return {"id": str(attachment_id), "filename": filename, "size": size, "url": url,
            "proxy_url": url, "content_type": "text/csv"}


def reaction(message_id: int, reactor: Json, emoji: str = "👍", *, author: Json | None = None,
             channel: int = GENERAL) -> Json:
    """MESSAGE_REACTION_ADD; Discord includes the message's author on adds."""
    data: Json = {"user_id": reactor["id"], "channel_id": str(channel),
                  "message_id": str(message_id), "guild_id": str(GUILD),
                  "emoji": {"id": None, "name": emoji}, "member": member(reactor),
                  "burst": False, "type": 0}
    if author is not None:
        data["message_author_id"] = author["id"]
    return data


def reaction_removed(message_id: int, reactor: Json, emoji: str = "👍",
                     channel: int = GENERAL) -> Json:
    return {"user_id": reactor["id"], "channel_id": str(channel),
            "message_id": str(message_id), "guild_id": str(GUILD),
            "emoji": {"id": None, "name": emoji}, "burst": False, "type": 0}


def member_add(who: Json, joined: datetime = START) -> Json:
    return {**member(who, joined=joined), "guild_id": str(GUILD)}


def invite(code: str, inviter: Json, uses: int, max_uses: int = 0) -> Json:
    return {"code": code, "type": 0, "guild": {"id": str(GUILD), "name": "Tribe"},
            "channel": {"id": str(GENERAL), "name": "general", "type": 0},
            "inviter": inviter, "uses": uses, "max_uses": max_uses, "max_age": 0,
            "temporary": False, "created_at": iso(START)}


def interaction(
    interaction_id: int, invoker: Json, name: str, *, sub: str | None = None,
    options: tuple[Json, ...] = (), resolved: Json | None = None, permissions: int = SEND,
    roles: tuple[int, ...] = (), channel: int = GENERAL,
) -> Json:
    """INTERACTION_CREATE for a slash command (type 2), as a guild member runs it."""
    opts = list(options)
    if sub is not None:
        opts = [{"type": 1, "name": sub, "options": opts}]
    data: Json = {"id": str(interaction_id), "name": name, "type": 1, "options": opts}
    if resolved:
        data["resolved"] = resolved
    return {
        "id": str(interaction_id), "application_id": str(APP_ID), "type": 2, "data": data,
        "guild_id": str(GUILD), "channel_id": str(channel),
        "channel": {"id": str(channel), "type": 0, "guild_id": str(GUILD), "name": "general"},
        "member": member(invoker, roles=roles, permissions=permissions),
        "token": f"token-{interaction_id}", "version": 1, "app_permissions": str(SEND),
        "locale": "en-US", "guild_locale": "en-US", "entitlements": [],
        "authorizing_integration_owners": {"0": str(GUILD)}, "context": 0,
        "attachment_size_limit": 10_000_000,
    }


def member_option(name: str, who: Json) -> tuple[Json, Json]:
    """A member option and the ``resolved`` data Discord sends with it."""
    resolved = {"users": {who["id"]: who},
                "members": {who["id"]: without_user(member(who, permissions=SEND))}}
    return {"type": 6, "name": name, "value": who["id"]}, resolved
