"""Which communities this process serves, when several ``tribebot run`` share one store.

Discord assigns a guild to shard ``(guild_id >> 22) % shard_count`` and sends its events
only to the connection of that shard, so a process that takes ``shard_ids`` hears only
its guilds; Telegram's updates go to the one process that polls (or takes the webhook).
What a process does on its own initiative (weekly summaries, scheduled content, pending
welcomes, the weekly journey sweep) it does only for the communities it owns, and it
keeps in memory only theirs: each community lives in exactly one process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core.ids import PLATFORMS, native_part

if TYPE_CHECKING:
    from bot.config import Settings


def discord_shard(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends a guild's events to (its documented sharding formula)."""
    return (guild_id >> 22) % shard_count


@dataclass(frozen=True, slots=True)
class Ownership:
    """``platforms``: the platforms this process connects to; None for every community
    (the default: only ``tribebot run`` sets communities aside, while a replay, an import,
    the demo and the tests see them all).
    ``shards``: this process's Discord shard ids and the bot's shard count, when it takes
    only a part of them."""

    platforms: frozenset[str] | None = None
    shards: tuple[frozenset[int], int] | None = None

    @classmethod
    def of(cls, settings: Settings) -> Ownership:
        enabled = frozenset(p for p in ("discord", "telegram") if getattr(settings, p).enabled)
        discord = settings.discord
        shards = None
        if discord.sharded:
            assert discord.shard_ids is not None and discord.shard_count is not None
            shards = (frozenset(discord.shard_ids), discord.shard_count)
        return cls(enabled or None, shards)

    def owns(self, community: str) -> bool:
        if self.platforms is None:
            return True
        platform = community.partition(":")[0]
        if platform not in PLATFORMS or platform == "console":
            return True  # not a platform's community: nobody else could serve it
        if platform not in self.platforms:
            return False  # another process (or nobody) connects to that platform
        if platform == "discord" and self.shards is not None:
            ids, count = self.shards
            guild = native_part(community)
            return guild.isdigit() and discord_shard(int(guild), count) in ids
        return True

    def describe(self) -> str:
        """For the log: what this process serves."""
        if self.platforms is None:
            return "every community"
        parts = []
        for platform in sorted(self.platforms):
            if platform == "discord" and self.shards is not None:
                ids, count = self.shards
                parts.append(f"Discord shards {', '.join(map(str, sorted(ids)))} of {count}")
            else:
                parts.append(platform.title())
        return " and ".join(parts)
