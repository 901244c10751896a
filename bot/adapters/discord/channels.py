"""A channel as a Discord moderator types it: ``#general`` (Discord sends ``<#123>`` for a
picked mention), ``general``, ``General Chat`` for ``general-chat``, ``123`` (Copy
Channel ID) or ``here``. Only channels of the guild the command came from, and only those
the bot can post in (text, voice and stage chats, threads), never categories or forums.
"""

from __future__ import annotations

import discord

from bot.adapters.discord.translate import channel_id, mention_target
from bot.core.commands import ChannelRef

Postable = discord.TextChannel | discord.VoiceChannel | discord.StageChannel | discord.Thread


class AmbiguousChannel(LookupError):
    """Several channels have the name that was typed."""


def _normal(name: str) -> str:
    return "-".join(name.lower().split())


def find_channel(guild: discord.Guild | None, word: str, here: int | None) -> ChannelRef | None:
    """The channel ``word`` names in ``guild``; None when there is none (or it is in
    another guild). Raises AmbiguousChannel when a name fits several channels."""
    if guild is None:
        return None
    text = word.strip()
    if text.lower() in ("here", "#here"):
        target = here
    else:
        target = mention_target(text, "#") or (int(text) if text.isdigit() else None)
    if target is not None:
        found = guild.get_channel_or_thread(target)
        return _ref(found) if isinstance(found, Postable) else None
    wanted = _normal(text.removeprefix("#"))
    if not wanted:
        return None
    candidates: list[Postable] = [*guild.text_channels, *guild.voice_channels,
                                  *guild.stage_channels, *guild.threads]
    matches = [c for c in candidates if _normal(c.name) == wanted]
    if len(matches) > 1:
        raise AmbiguousChannel(text)
    return _ref(matches[0]) if matches else None


def _ref(channel: Postable) -> ChannelRef:
    return ChannelRef(channel_id(channel.id), channel.name)
