"""Discord ids <-> Tribebot ids, without discord.py: the live adapter (``translate.py``)
and the history import both build their ids here, so the two cannot drift apart.

Each id is what ``bot.core.ids.make_id("discord", x)`` gives, written as one f-string: every
live message makes four or five of them, and the generic builder (platform check, tuple,
join) took about 0.8 µs an id, a third of translating a message.
"""

from __future__ import annotations

PLATFORM = "discord"


def community_id(guild_id: int | str) -> str:
    return f"discord:{guild_id!s}"


def member_id(user_id: int | str) -> str:
    return f"discord:{user_id!s}"


def channel_id(channel: int | str) -> str:
    return f"discord:{channel!s}"


def message_id(message: int | str) -> str:
    return f"discord:{message!s}"


def command_key(message: int | str) -> str:
    """The handled key of a command typed in a message: a message delivered twice (a
    gateway resume, two processes on one shard) runs its command once."""
    return f"discord:command:{message!s}"


def emoji_key(name: str, emoji_id: int | str | None) -> str:
    """Unicode emoji as themselves, custom ones by name and id (as ``translate.emoji_key``)."""
    return f"{name}:{emoji_id}" if emoji_id else name
