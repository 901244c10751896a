"""DiscordChatExporter's JSON (one file per channel) -> core events.

Streamed with ijson, one message in memory at a time. Ids come from ``ids.py``, the same
ones the live adapter makes, so imported members and messages are the ones live events
name later; this module imports no discord.py.

What the export says, and what follows:
* ``guild`` and ``channel`` head the file; a thread's file names its parent channel as
  ``categoryId``, and live, a thread's messages count in their parent channel;
* ``Default`` and ``Reply`` messages are what people write (as live); ``GuildMemberJoin``
  is a join; other types (pins, boosts, thread notices) are left out;
* reactions have a count and, when exported, the reacting users; reactions have no time
  in the export, so they are placed at their message's time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import ijson

from bot.adapters.discord.ids import channel_id, community_id, emoji_key, member_id, message_id
from bot.core.bounded import BoundedDict
from bot.core.events import (
    CommunityJoined,
    Event,
    MemberJoined,
    MessagePosted,
    ReactionAdded,
    ReactionsCounted,
)
from bot.core.history import ByteCounter, ImportProblem, Record, skip_bom
from bot.core.text import visible_length

#: Message types people write (the live adapter's PERSON_MESSAGE_TYPES).
PERSON_TYPES = frozenset({"Default", "Reply"})
#: Replied-to messages whose author is remembered; older ones are asked of the store.
RECENT = 20_000
#: A file whose messages go back in time by more than this was exported newest first.
OUT_OF_ORDER = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """Where a file's messages count: a channel, or a thread and its parent channel."""

    channel: str
    name: str
    thread: str | None = None


class DiscordExport:
    """One channel file: its guild and channel, then its messages one at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self._counter: ByteCounter | None = None
        header = self._header()
        guild, channel = header.get("guild", {}), header.get("channel", {})
        guild_id, channel_raw = str(guild.get("id", "")), str(channel.get("id", ""))
        if not guild_id.isdigit() or not channel_raw.isdigit():
            raise ImportProblem("not_a_discord_export", file=path.name)
        if int(guild_id) == 0:  # DiscordChatExporter's "Direct Messages"
            raise ImportProblem("not_a_server", file=path.name)
        self.guild = guild_id
        self.guild_name = str(guild.get("name") or "")
        kind = str(channel.get("type") or "")
        parent = str(channel.get("categoryId") or "")
        name = str(channel.get("name") or "")
        if "Thread" in kind and parent.isdigit():
            self.channel = ChannelInfo(channel_id(parent), str(channel.get("category") or ""),
                                       thread=channel_id(channel_raw))
        else:
            self.channel = ChannelInfo(channel_id(channel_raw), name)

    @property
    def community(self) -> str:
        return community_id(self.guild)

    @property
    def bytes_read(self) -> int:
        return self._counter.position if self._counter is not None else 0

    def messages(self) -> Iterator[dict[str, Any]]:
        with self.path.open("rb") as raw:
            self._counter = ByteCounter(skip_bom(raw))
            last = "none"
            try:
                for item in ijson.items(self._counter, "messages.item", use_float=True):
                    if isinstance(item, dict):
                        last = str(item.get("id", last))
                        yield item
            except (ijson.JSONError, UnicodeDecodeError) as exc:
                raise ImportProblem("broken_json", file=self.path.name, after=last,
                                    offset=self.bytes_read,
                                    detail=str(exc).splitlines()[0]) from None

    def _header(self) -> dict[str, dict[str, Any]]:
        """``guild`` and ``channel``: they come before the messages."""
        found: dict[str, dict[str, Any]] = {"guild": {}, "channel": {}}
        with self.path.open("rb") as raw:
            try:
                events = ijson.parse(skip_bom(raw), use_float=True)
                first = next(events, None)
                if first is None or first[1] != "start_map":
                    raise ImportProblem("not_a_discord_export", file=self.path.name)
                for prefix, event, value in events:
                    if prefix == "" and event == "map_key" and value == "messages":
                        return found
                    section, _, key = prefix.partition(".")
                    if section in found and key and "." not in key and event in (
                            "string", "number"):
                        found[section][key] = value
            except (ijson.JSONError, UnicodeDecodeError):
                pass
        raise ImportProblem("not_a_discord_export", file=self.path.name)


@dataclass
class DiscordHistory:
    """Turns one server's exported messages (from any of its channel files) into events."""

    guild: str
    name: str = ""
    recent: int = RECENT
    _authors: BoundedDict[str, str] = field(init=False)
    _last: dict[ChannelInfo, datetime] = field(default_factory=dict)
    _members: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._authors = BoundedDict(self.recent)
        self.community = community_id(self.guild)

    def opening(self, at: datetime) -> CommunityJoined:
        """The server by name only: which channel is its default one (the system channel,
        where welcomes go) the live adapter knows when it connects; the exported files do
        not say, and the first one named here would stick."""
        return CommunityJoined(community=self.community, at=at, name=self.name)

    def _member(self, user: str) -> str:
        member = self._members.get(user)
        if member is None:
            member = self._members[user] = member_id(user)
        return member

    def translate(self, raw: Mapping[str, Any], source: ChannelInfo) -> Record:
        where = str(raw.get("id", "?"))
        at = _moment(raw.get("timestamp"))
        author = raw.get("author")
        if not where.isdigit() or at is None or not isinstance(author, dict) or not str(
                author.get("id", "")).isdigit():
            return Record(where, self._last.get(source, datetime(1970, 1, 1, tzinfo=UTC)),
                          skipped="unreadable")
        previous = self._last.get(source)
        if previous is not None and at < previous - OUT_OF_ORDER:
            raise ImportProblem("newest_first", message=where)
        self._last[source] = max(at, previous) if previous is not None else at
        member = self._member(str(author["id"]))
        name = str(author.get("nickname") or author.get("name") or "")
        is_bot = author.get("isBot") is True
        kind = raw.get("type")
        if kind == "GuildMemberJoin":
            return Record(where, at, (MemberJoined(community=self.community, at=at,
                                                   member=member, name=name, is_bot=is_bot),))
        if kind not in PERSON_TYPES:
            return Record(where, at, skipped="system")
        message = message_id(where)
        reply_to = reply_author = None
        reference = raw.get("reference")
        if kind == "Reply" and isinstance(reference, dict):
            target = str(reference.get("messageId") or "")
            if target.isdigit():
                reply_to = message_id(target)
                reply_author = self._authors.get(reply_to)
        self._authors.put(message, member)
        content = raw.get("content")
        text = content if isinstance(content, str) else ""
        posted = MessagePosted(
            community=self.community, at=at, message=message, author=member,
            channel=source.channel, thread=source.thread, author_name=name,
            author_is_bot=is_bot, reply_to=reply_to, reply_to_author=reply_author,
            length=visible_length(text), has_media=bool(raw.get("attachments")),
            text=text or None,
        )
        events: list[Event] = [posted]
        counts: list[tuple[str, int]] = []
        for reaction in raw.get("reactions") or ():
            if not isinstance(reaction, dict) or not isinstance(reaction.get("emoji"), dict):
                continue
            emoji = reaction["emoji"]
            label = emoji_key(str(emoji.get("name") or ""), emoji.get("id") or None)
            users = [u for u in reaction.get("users") or ()
                     if isinstance(u, dict) and str(u.get("id", "")).isdigit()]
            for user in users:
                events.append(ReactionAdded(
                    community=self.community, at=at, message=message,
                    reactor=self._member(str(user["id"])), emoji=label, message_author=member,
                    reactor_is_bot=user.get("isBot") is True))
            count = reaction.get("count")
            if isinstance(count, int) and count > len(users):
                counts.append((label, count - len(users)))
        if counts:
            events.append(ReactionsCounted(community=self.community, at=at, message=message,
                                           counts=tuple(counts)))
        return Record(where, at, tuple(events))


def _moment(stamp: object) -> datetime | None:
    """DiscordChatExporter writes ISO 8601 with an offset (``…+00:00``, or local)."""
    if not isinstance(stamp, str):
        return None
    try:
        at = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return at.astimezone(UTC) if at.tzinfo is not None else at.replace(tzinfo=UTC)
