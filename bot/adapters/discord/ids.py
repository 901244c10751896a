"""Discord ids <-> Tribebot ids, without discord.py: the history import needs the very ids
the live adapter makes (``translate.py`` builds the same ones from discord.py objects, and a
test keeps the two in step)."""

from __future__ import annotations

from bot.core.ids import make_id

PLATFORM = "discord"


def community_id(guild_id: int | str) -> str:
    return make_id(PLATFORM, guild_id)


def member_id(user_id: int | str) -> str:
    return make_id(PLATFORM, user_id)


def channel_id(channel: int | str) -> str:
    return make_id(PLATFORM, channel)


def message_id(message: int | str) -> str:
    return make_id(PLATFORM, message)


def emoji_key(name: str, emoji_id: int | str | None) -> str:
    """Unicode emoji as themselves, custom ones by name and id (as ``translate.emoji_key``)."""
    return f"{name}:{emoji_id}" if emoji_id else name
