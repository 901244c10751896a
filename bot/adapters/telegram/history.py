"""Telegram Desktop's JSON export ("Export chat history", format JSON) -> core events.

Streamed with ijson (its C parser when installed): a year of a busy group is a gigabyte,
and only one message is in memory at a time. Ids are made by the live adapter's own
functions (``ids.py``), so imported members, messages and channels are the ones live
updates name later; this module imports no python-telegram-bot.

What the export does and does not say, and what follows:
* the chat id is bare: Bot API clients see a supergroup as ``-100<id>`` and a basic group
  as ``-<id>``, which is the community id (``telegram:-100…``);
* ``from_id`` is ``user<id>``, or ``channel<id>`` for posts sent as a channel or as the
  group itself (anonymous admins): authored by a chat, never earning points, as live;
* joins name the joiner by id (``actor_id``) when they joined by themselves or by a link;
  members added or removed by an admin are named by *name only*, so they are matched to a
  member seen earlier in the export with that exact name, or left out;
* reactions carry a count per emoji and, when Telegram had them, the latest reactors
  (``recent``: id and a local time); reactions without a reactor are counted only;
* the export does not say who is a bot: the caller passes the bots it knows.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ijson

from bot.adapters.telegram.ids import channel_id, community_id, member_id, message_id
from bot.core.bounded import BoundedDict
from bot.core.events import (
    Channel,
    CommunityJoined,
    Event,
    InviteUsed,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    ReactionAdded,
    ReactionsCounted,
)
from bot.core.history import ByteCounter, ImportProblem, Record, skip_bom
from bot.core.text import visible_length

#: Chat types of groups, and how the Bot API writes their ids.
SUPERGROUPS = frozenset({"private_supergroup", "public_supergroup"})
GROUPS = frozenset({"private_group"}) | SUPERGROUPS
#: Fields of a message that carry an attachment (the live adapter's effective_attachment).
MEDIA_KEYS = frozenset({
    "photo", "file", "media_type", "sticker_emoji", "poll", "location_information",
    "contact_information", "place_name", "game_title", "invoice_information",
    "giveaway_information", "paid_stars_amount", "todo_list",
})
#: Replied-to messages remembered (author and forum topic); older ones are asked of the store.
RECENT = 20_000
#: What a name stands for when two members of the export share it.
AMBIGUOUS = ""


def bot_api_chat_id(bare: int, chat_type: str) -> int:
    """The id Bot API clients (and so the live adapter) use for an exported group."""
    if chat_type in SUPERGROUPS:
        return int(f"-100{bare}")
    return -bare


@dataclass(frozen=True, slots=True)
class ChatInfo:
    id: int  # as the export writes it (bare)
    name: str
    type: str

    @property
    def is_group(self) -> bool:
        return self.type in GROUPS

    @property
    def chat_id(self) -> int:
        return bot_api_chat_id(self.id, self.type)

    @property
    def community(self) -> str:
        return community_id(self.chat_id)


# -- reading the file ------------------------------------------------------------------
class TelegramExport:
    """One chat of an export file: a single chat's export, or one chosen from the
    whole-account "machine-readable JSON" (``chats`` and ``left_chats`` lists)."""

    def __init__(self, path: Path, *, chat: str | None = None, community: str | None = None
                 ) -> None:
        self.path = path
        self.size = path.stat().st_size
        self._choice = chat
        self._community = community
        self._counter: ByteCounter | None = None
        self._single = True
        self._wanted: ChatInfo | None = None
        self.info = self._find_chat()

    @property
    def bytes_read(self) -> int:
        return self._counter.position if self._counter is not None else 0

    def messages(self) -> Iterator[dict[str, Any]]:
        """The chat's messages, one parsed object at a time; ``ImportProblem`` if the file
        breaks off or stops being JSON (everything yielded before stays valid)."""
        with self.path.open("rb") as raw:
            self._counter = ByteCounter(skip_bom(raw))
            last = "none"
            try:
                if self._single:
                    items: Iterator[Any] = ijson.items(self._counter, "messages.item",
                                                       use_float=True)
                else:
                    items = self._chosen_chat_items(ijson.parse(self._counter,
                                                                use_float=True))
                for item in items:
                    if isinstance(item, dict):
                        last = str(item.get("id", last))
                        yield item
            except (ijson.JSONError, UnicodeDecodeError) as exc:
                raise ImportProblem("broken_json", file=self.path.name, after=last,
                                    offset=self.bytes_read,
                                    detail=str(exc).splitlines()[0]) from None

    # -- which chat ------------------------------------------------------------------
    def _find_chat(self) -> ChatInfo:
        top: dict[str, Any] = {}
        with self.path.open("rb") as raw:
            try:
                events = ijson.parse(skip_bom(raw), use_float=True)
                first = next(events, None)
                if first is None or first[1] != "start_map":
                    raise ImportProblem("not_an_export", file=self.path.name)
                for prefix, event, value in events:
                    if prefix == "" and event == "map_key":
                        if value == "messages":
                            break
                        if value == "chats":
                            self._single = False
                            break
                    elif prefix in ("name", "type", "id") and event in ("string", "number"):
                        top[prefix] = value
                else:
                    raise ImportProblem("not_an_export", file=self.path.name)
            except (ijson.JSONError, UnicodeDecodeError):
                raise ImportProblem("not_an_export", file=self.path.name) from None
        if not self._single:
            return self._choose()
        info = _chat_info(top)
        if info is None:
            raise ImportProblem("not_an_export", file=self.path.name)
        if self._choice is not None and not _matches(info, self._choice):
            raise ImportProblem("chat_not_in_file", file=self.path.name, chat=self._choice,
                                found=_describe_chat(info))
        return self._check(info)

    def _check(self, info: ChatInfo) -> ChatInfo:
        if not info.is_group:
            raise ImportProblem("not_a_group", chat=_describe_chat(info), type=info.type)
        if self._community is not None and self._community != info.community:
            raise ImportProblem("wrong_community", chat=_describe_chat(info),
                                given=self._community, expected=info.community)
        return info

    def _list_chats(self, until: Callable[[ChatInfo], bool] | None = None
                    ) -> list[ChatInfo]:
        """The chats of a whole-account export, each read up to its messages; ``until``
        ends the pass at the first chat it accepts (an id is unique: no need to read the
        gigabytes after it)."""
        chats: list[ChatInfo] = []
        with self.path.open("rb") as raw:
            try:
                for fields in _chat_headers(ijson.parse(skip_bom(raw), use_float=True)):
                    info = _chat_info(fields)
                    if info is not None:
                        chats.append(info)
                        if until is not None and until(info):
                            break
            except (ijson.JSONError, UnicodeDecodeError) as exc:
                raise ImportProblem("broken_json", file=self.path.name, after="none",
                                    offset=0, detail=str(exc).splitlines()[0]) from None
        return chats

    def _choose(self) -> ChatInfo:
        choice, community = self._choice, self._community
        if choice is not None and not choice.strip().lstrip("-").isdigit():
            chats = self._list_chats()  # a name may be shared: read every chat's
            found = [c for c in chats if _matches(c, choice)]
        else:
            def wanted(info: ChatInfo) -> bool:
                if choice is not None:
                    return _matches(info, choice)
                return community is not None and info.is_group and info.community == community

            chats = self._list_chats(until=wanted if choice or community else None)
            found = [c for c in chats if wanted(c)]
        if len(found) == 1:
            self._wanted = found[0]
            return self._check(found[0])
        listing = "; ".join(_describe_chat(c) for c in chats if c.is_group) or "-"
        if len(found) > 1:
            raise ImportProblem("chat_ambiguous", file=self.path.name, chat=str(choice),
                                chats=listing)
        raise ImportProblem("choose_chat", file=self.path.name,
                            count=sum(1 for c in chats if c.is_group), chats=listing)

    def _chosen_chat_items(self, events: Iterator[tuple[str, str, Any]]
                           ) -> Iterator[Any]:
        """The chosen chat's messages out of a whole-account export: only that chat's
        parser events reach the object builder (the others are only walked through)."""
        assert self._wanted is not None, "a whole-account export has a chosen chat"
        chosen = _events_of_chat(events, self._wanted)
        first = next(chosen, None)
        if first is None:
            return iter(())
        return ijson.items(itertools.chain([first], chosen), first[0] + ".item")


def _chat_headers(events: Iterator[tuple[str, str, Any]]) -> Iterator[dict[str, Any]]:
    """{name, type, id} of each chat of a whole-account export, as soon as its messages
    begin (the fields come first)."""
    bases = ("chats.list.item", "left_chats.list.item")
    fields: dict[str, Any] = {}
    told = False
    for prefix, event, value in events:
        if prefix in bases:
            if event == "start_map":
                fields, told = {}, False
            elif (event == "map_key" and value == "messages") or (
                    event == "end_map" and not told):
                told = True
                yield fields
        elif event in ("string", "number"):
            base, _, key = prefix.rpartition(".")
            if base in bases and key in ("name", "type", "id"):
                fields[key] = value


def _events_of_chat(events: Iterator[tuple[str, str, Any]], wanted: ChatInfo
                    ) -> Iterator[tuple[str, str, Any]]:
    bases = ("chats.list.item", "left_chats.list.item")
    fields: dict[str, Any] = {}
    inside = ""
    for prefix, event, value in events:
        if inside:
            if prefix == inside and event == "end_array":
                yield prefix, event, value
                return
            yield prefix, event, value
            continue
        if prefix in bases:
            if event == "start_map":
                fields = {}
            elif event == "map_key" and value == "messages" and _chat_info(fields) == wanted:
                inside = prefix + ".messages"
        elif event in ("string", "number"):
            base, _, key = prefix.rpartition(".")
            if base in bases and key in ("name", "type", "id"):
                fields[key] = value


def _chat_info(fields: Mapping[str, Any]) -> ChatInfo | None:
    try:
        return ChatInfo(int(fields["id"]), str(fields.get("name") or ""),
                        str(fields.get("type") or ""))
    except (KeyError, TypeError, ValueError):
        return None


def _matches(info: ChatInfo, choice: str) -> bool:
    text = choice.strip()
    if text.lstrip("-").isdigit():
        return int(text) in (info.id, info.chat_id)
    return info.name.casefold() == text.casefold()


def _describe_chat(info: ChatInfo) -> str:
    return f"“{info.name}” ({info.community})" if info.is_group else f"“{info.name}” ({info.id})"


# -- translating messages --------------------------------------------------------------
@dataclass(slots=True)
class _Seen:
    author: str
    topic: int | None


@dataclass
class TelegramHistory:
    """Turns one chat's exported messages into events, in export order. It remembers
    what later messages need: recent authors (replies), member names (joins by name),
    forum topics."""

    chat: ChatInfo
    #: user ids known to be bots (the export does not say)
    bots: frozenset[int] = frozenset()
    #: the bot itself: its own posts and joins are not the community's (live never sees them)
    own_bot: int | None = None
    recent: int = RECENT
    _seen: BoundedDict[int, _Seen] = field(init=False)
    _names: dict[str, str] = field(default_factory=dict)
    _members: dict[int, str] = field(default_factory=dict)
    _topics: set[int] = field(default_factory=set)
    _last: datetime = datetime(1970, 1, 1, tzinfo=UTC)

    def __post_init__(self) -> None:
        self._seen = BoundedDict(self.recent)
        self._bot_members = frozenset(member_id(b) for b in self.bots)
        self.community = self.chat.community
        self._chat = self.chat.chat_id
        self._channel = channel_id(self._chat)

    def opening(self, at: datetime) -> CommunityJoined:
        """The community as the import first meets it (its name and its one channel)."""
        return CommunityJoined(community=self.community, at=at, name=self.chat.name,
                               channels=(Channel(id=self._channel, name=self.chat.name),))

    def translate(self, raw: Mapping[str, Any]) -> Record:
        where = str(raw.get("id", "?"))
        number = raw.get("id")
        at = _moment(raw)
        if not isinstance(number, int) or at is None:
            return Record(where, self._last, skipped="unreadable")
        self._last = at
        kind = raw.get("type")
        if kind == "message":
            return self._message(number, at, raw)
        if kind == "service":
            return self._service(number, at, raw)
        return Record(where, at, skipped="unsupported")

    # -- people ------------------------------------------------------------------------
    def _member(self, user: int) -> str:
        member = self._members.get(user)
        if member is None:
            member = self._members[user] = member_id(user)
        return member

    def _peer(self, raw_id: object, name: object) -> tuple[str, bool, bool] | None:
        """(member id, is_bot, is a user) of an export peer id like ``user123``."""
        if not isinstance(raw_id, str):
            return None
        kind = raw_id.rstrip("0123456789")
        digits = raw_id[len(kind):]
        if not digits or kind not in ("user", "channel", "chat"):
            return None
        number = int(digits)
        if kind != "user":  # a post or reaction sent as a chat: no person behind it
            chat = int(f"-100{number}") if kind == "channel" else -number
            return member_id(chat), True, False
        member = self._member(number)
        if isinstance(name, str) and name:
            known = self._names.get(name)
            if known is None:
                self._names[name] = member
            elif known != member:
                self._names[name] = AMBIGUOUS
        return member, number in self.bots, True

    def _by_name(self, name: object) -> str | None:
        if not isinstance(name, str):
            return None
        return self._names.get(name) or None

    def _is_own(self, member: str) -> bool:
        return self.own_bot is not None and member == self._member(self.own_bot)

    # -- messages ----------------------------------------------------------------------
    def _message(self, number: int, at: datetime, raw: Mapping[str, Any]) -> Record:
        where = str(number)
        author = self._peer(raw.get("from_id"), raw.get("from"))
        if author is None:
            return Record(where, at, skipped="no_author")
        member, is_bot, _ = author
        if self._is_own(member):
            return Record(where, at, skipped="own_post")
        parts = raw.get("text")
        if _is_command(parts):
            return Record(where, at, skipped="command")
        text = _plain(parts)
        has_media = not MEDIA_KEYS.isdisjoint(raw)
        if not text and not has_media:
            return Record(where, at, skipped="empty")
        reply_to, reply_author, topic = self._reply(raw)
        self._seen.put(number, _Seen(member, topic))
        message = message_id(self._chat, number)
        name = raw.get("from")
        posted = MessagePosted(
            community=self.community, at=at, message=message, author=member,
            author_name=name if isinstance(name, str) else "", author_is_bot=is_bot,
            channel=channel_id(self._chat, topic) if topic is not None else self._channel,
            reply_to=reply_to, reply_to_author=reply_author, length=visible_length(text),
            has_media=has_media, text=text or None,
        )
        reactions, counts = self._reactions(raw, at, message, member)
        events: list[Event] = [posted, *reactions]
        if counts:
            events.append(ReactionsCounted(community=self.community, at=at, message=message,
                                           counts=tuple(counts)))
        return Record(where, at, tuple(events))

    def _reply(self, raw: Mapping[str, Any]) -> tuple[str | None, str | None, int | None]:
        """(replied message, its author if known, forum topic): in a forum, a "reply" to
        the topic's first message only says which topic the message is in."""
        parent = raw.get("reply_to_message_id")
        if not isinstance(parent, int) or raw.get("reply_to_peer_id") is not None:
            return None, None, None  # none, or a reply to a message of another chat
        if parent in self._topics:
            return None, None, parent
        seen = self._seen.get(parent)
        topic = seen.topic if seen is not None else None
        return (message_id(self._chat, parent), seen.author if seen is not None else None,
                topic)

    def _reactions(self, raw: Mapping[str, Any], at: datetime, message: str, author: str
                   ) -> tuple[list[Event], list[tuple[str, int]]]:
        """Reactions by named members (they earn the author points) and, per emoji, how
        many more were only counted."""
        listed = raw.get("reactions")
        if not isinstance(listed, list):
            return [], []
        offset = _local_offset(raw)
        events: list[Event] = []
        counts: list[tuple[str, int]] = []
        for reaction in listed:
            if not isinstance(reaction, dict):
                continue
            label = _reaction_label(reaction)
            named = 0
            for who in reaction.get("recent") or ():
                if not isinstance(who, dict):
                    continue
                peer = self._peer(who.get("from_id"), who.get("from"))
                if peer is None or not peer[2]:
                    continue  # sent as a chat: anonymous, like live
                named += 1
                if self._is_own(peer[0]):
                    continue
                events.append(ReactionAdded(
                    community=self.community, at=_reaction_moment(who.get("date"), offset, at),
                    message=message, reactor=peer[0], emoji=label, message_author=author,
                    reactor_is_bot=peer[1]))
            count = reaction.get("count")
            if isinstance(count, int) and count > named:
                counts.append((label, count - named))
        return events, counts

    # -- service messages: joins and leaves --------------------------------------------
    def _service(self, number: int, at: datetime, raw: Mapping[str, Any]) -> Record:
        where = str(number)
        action = raw.get("action")
        if action == "topic_created":
            self._topics.add(number)
            return Record(where, at, skipped="service")
        actor = self._peer(raw.get("actor_id"), raw.get("actor"))
        if action in ("join_group_by_link", "join_group_by_request") and actor is not None:
            events = self._joined(actor, raw.get("actor"), at)
            inviter = self._by_name(raw.get("inviter"))
            if events and inviter is not None and inviter != actor[0]:
                events.append(InviteUsed(community=self.community, at=at, member=actor[0],
                                         inviter=inviter))
            return Record(where, at, tuple(events))
        if action in ("invite_members", "create_group") and actor is not None:
            return self._named_members(where, at, raw, actor, joined=True)
        if action == "remove_members" and actor is not None:
            return self._named_members(where, at, raw, actor, joined=False)
        return Record(where, at, skipped="service")

    def _joined(self, who: tuple[str, bool, bool], name: object, at: datetime) -> list[Event]:
        member, is_bot, user = who
        if not user or self._is_own(member):
            return []
        return [MemberJoined(community=self.community, at=at, member=member,
                             name=name if isinstance(name, str) else "", is_bot=is_bot)]

    def _named_members(self, where: str, at: datetime, raw: Mapping[str, Any],
                       actor: tuple[str, bool, bool], *, joined: bool) -> Record:
        """Members added or removed, named by name only: the actor themself (joined or
        left on their own), else a member seen earlier under that exact name."""
        events: list[Event] = []
        unknown = False
        actor_name = raw.get("actor")
        names = raw.get("members")
        for name in names if isinstance(names, list) else ():
            if not isinstance(name, str) or not name:
                unknown = True
                continue
            member = actor[0] if name == actor_name and actor[2] else self._by_name(name)
            if member is None:
                unknown = True
                continue
            if self._is_own(member):
                continue
            is_bot = member in self._bot_members
            if joined:
                events.append(MemberJoined(community=self.community, at=at, member=member,
                                           name=name, is_bot=is_bot))
            else:
                events.append(MemberLeft(community=self.community, at=at, member=member))
        if joined and raw.get("action") == "create_group":
            events = [*self._joined(actor, actor_name, at), *events]
        skipped = ("joined_by_name" if joined else "left_by_name") if unknown else None
        return Record(where, at, tuple(events), skipped=skipped)


def _moment(raw: Mapping[str, Any]) -> datetime | None:
    """When a message was sent: ``date_unixtime`` (newer exports), else ``date`` read as UTC
    (older exports write only the exporting computer's local time)."""
    stamp = raw.get("date_unixtime")
    try:
        if stamp is not None:
            return datetime.fromtimestamp(int(stamp), UTC)
        date = raw.get("date")
        if isinstance(date, str):
            return datetime.fromisoformat(date).replace(tzinfo=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return None


def _local_offset(raw: Mapping[str, Any]) -> float | None:
    """Seconds the exporting computer's clock was ahead of UTC: reactors' ``date`` is local
    time without a zone, and the message carries both forms of its own time."""
    try:
        local = datetime.fromisoformat(str(raw["date"])).replace(tzinfo=UTC)
        return local.timestamp() - int(raw["date_unixtime"])
    except (KeyError, TypeError, ValueError, OverflowError):
        return None


def _reaction_moment(date: object, offset: float | None, posted: datetime) -> datetime:
    """When a reactor reacted; never before the message, and the message's time when the
    export does not say."""
    if not isinstance(date, str) or offset is None:
        return posted
    try:
        local = datetime.fromisoformat(date).replace(tzinfo=UTC)
    except ValueError:
        return posted
    at = datetime.fromtimestamp(local.timestamp() - offset, UTC)
    return max(at, posted)


def _reaction_label(reaction: Mapping[str, Any]) -> str:
    """As the live adapter names reactions: the emoji, ``custom:<id>``, or the type."""
    kind = reaction.get("type")
    if kind == "custom_emoji" and reaction.get("document_id"):
        return f"custom:{reaction['document_id']}"
    emoji = reaction.get("emoji")
    if isinstance(emoji, str) and emoji:
        return emoji
    return str(kind or "unknown")


def _plain(parts: object) -> str:
    """The text of a message: a string, or a list of strings and entity objects."""
    if isinstance(parts, str):
        return parts
    if not isinstance(parts, list):
        return ""
    return "".join(p if isinstance(p, str) else str(p.get("text", "")) if isinstance(p, dict)
                   else "" for p in parts)


def _is_command(parts: object) -> bool:
    """Starts with a /command: live, that is a command (for us or another bot), not talk."""
    if not isinstance(parts, list):
        return False
    for part in parts:
        if isinstance(part, str) and not part:
            continue
        return isinstance(part, dict) and part.get("type") == "bot_command"
    return False


def bots_from(ids: Iterable[str | int]) -> frozenset[int]:
    """User ids from ``--bot`` values (``123``, ``user123`` or ``telegram:123``)."""
    found = set()
    for raw in ids:
        text = str(raw).strip().removeprefix("telegram:").removeprefix("user")
        if text.isdigit():
            found.add(int(text))
    return frozenset(found)
