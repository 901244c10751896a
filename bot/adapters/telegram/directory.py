"""What the adapter has learned from updates: who is @who in each chat, topic names,
and short-lived memories (admin checks, recent joins, DM hints).

Telegram has no "look up a member by @username" call, so the adapter remembers every
username it sees per chat; that is how ``/points give @bob 5`` finds Bob.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Hashable

from telegram import Message, User

from bot.adapters.telegram.ids import channel_id, member_id, parse_channel
from bot.adapters.telegram.translate import member_name
from bot.core.bounded import BoundedDict
from bot.core.commands import ChannelRef, MemberRef

MAX_ENTRIES = 200_000


class Expiring:
    """A bounded map whose entries expire ``ttl`` seconds (monotonic) after being set."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._items: BoundedDict[Hashable, tuple[float, object]] = BoundedDict(MAX_ENTRIES)

    def get(self, key: Hashable) -> object | None:
        item = self._items.get(key)
        if item is None or item[0] < self._clock():
            self._items.pop(key, None)
            return None
        return item[1]

    def set(self, key: Hashable, value: object) -> None:
        self._items.put(key, (self._clock() + self._ttl, value))


class MemberCounts:
    """Each group's member count from getChatMemberCount, trusted for ``ttl`` seconds and
    kept up to date meanwhile by the joins and leaves the bot sees, so a raid of joins
    costs one call rather than one per join (the rate limiter allows 20 calls a minute
    per group, shared with the bot's posts)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._counts: BoundedDict[int, tuple[float, int]] = BoundedDict(MAX_ENTRIES)

    def fetched(self, chat_id: int, count: int) -> None:
        self._counts.put(chat_id, (self._clock(), count))

    def changed(self, chat_id: int, delta: int) -> int | None:
        """Apply a join (+1) or leave (-1) to a fresh count; the new count, or None."""
        item = self._counts.get(chat_id)
        if item is None or self._clock() - item[0] > self._ttl:
            return None
        count = max(item[1] + delta, 0)
        self._counts.put(chat_id, (item[0], count))
        return count


class Directory:
    def __init__(self) -> None:
        self._usernames: BoundedDict[tuple[int, str], MemberRef] = BoundedDict(MAX_ENTRIES)
        self._names: BoundedDict[tuple[int, int], str] = BoundedDict(MAX_ENTRIES)
        #: forum topics: (chat, lower-case name) -> thread, and (chat, thread) -> name
        self._topics: BoundedDict[tuple[int, str], int] = BoundedDict(MAX_ENTRIES)
        self._topic_names: BoundedDict[tuple[int, int], str] = BoundedDict(MAX_ENTRIES)
        self._renamed: BoundedDict[tuple[int, int], None] = BoundedDict(MAX_ENTRIES)
        #: group titles and public @usernames (for t.me links)
        self._titles: BoundedDict[int, str] = BoundedDict(MAX_ENTRIES)
        self._chat_usernames: BoundedDict[int, str] = BoundedDict(MAX_ENTRIES)

    def learn_user(self, chat_id: int, user: User | None) -> None:
        if user is None:
            return
        ref = MemberRef(member_id(user.id), member_name(user))
        if user.username:
            self._usernames.put((chat_id, user.username.lower()), ref)
        self._names.put((chat_id, user.id), ref.name)

    def learn_message(self, message: Message) -> None:
        chat = message.chat.id
        if message.chat.title:
            self._titles.put(chat, message.chat.title)
        if message.chat.username:
            self._chat_usernames.put(chat, message.chat.username.lower())
        self.learn_user(chat, message.from_user)
        for user in message.new_chat_members or ():
            self.learn_user(chat, user)
        if message.reply_to_message is not None:
            self.learn_user(chat, message.reply_to_message.from_user)
        for entity in message.entities or ():
            self.learn_user(chat, entity.user)
        self._learn_topic(message)

    def _learn_topic(self, message: Message) -> None:
        """Topic names from the service messages that create or rename a topic, and from
        every topic message (it replies to its topic's creation message, which carries the
        name): so topics made before the bot joined are known once someone posts in them."""
        thread = message.message_thread_id
        if thread is None:
            return
        key = (message.chat.id, thread)
        edited = message.forum_topic_edited
        created = message.forum_topic_created
        parent = message.reply_to_message
        if edited is not None and edited.name:
            self._renamed.put(key, None)
            self._name_topic(key, edited.name)
        elif created is not None:
            self._name_topic(key, created.name)
        elif (parent is not None and parent.forum_topic_created is not None
              and key not in self._renamed):
            self._name_topic(key, parent.forum_topic_created.name)

    def _name_topic(self, key: tuple[int, int], name: str) -> None:
        old = self._topic_names.get(key)
        if old is not None and old.lower() != name.lower():
            self._topics.pop((key[0], old.lower()), None)
        self._topic_names.put(key, name)
        self._topics.put((key[0], name.lower()), key[1])

    def member(self, chat_id: int, word: str) -> MemberRef | None:
        """A member by ``@username`` (as seen in this chat)."""
        if not word.startswith("@"):
            return None
        return self._usernames.get((chat_id, word[1:].lower()))

    def name(self, chat_id: int, user_id: int) -> str | None:
        return self._names.get((chat_id, user_id))

    def channel(self, chat_id: int, word: str, here: str) -> ChannelRef | None:
        """A channel of this group as a moderator types it. Telegram has no channel
        mentions: a channel is the group itself or one of its forum topics. ``here`` is
        where the command was typed; a topic by name (``#ideas``, ``ideas``), by its link
        (t.me/c/…/5, "Copy Link" on the topic) or by its number; the group itself by
        its title, its id, ``general`` or a link to it. Other chats are never found."""
        text = word.strip()
        wanted = text.removeprefix("#").strip().lower()
        if wanted == "here":
            _, here_thread = parse_channel(here)
            return self._ref(chat_id, here_thread)
        thread = self._topics.get((chat_id, wanted))
        if thread is not None:
            return self._ref(chat_id, thread)
        linked = self._linked(chat_id, text)
        if linked is not None:
            return linked
        if text.lstrip("-").isdigit():
            number = int(text)
            if number == chat_id:
                return self._ref(chat_id, None)
            known = self._topic_names.get((chat_id, number)) is not None
            return self._ref(chat_id, number) if known else None
        title = self._titles.get(chat_id)
        if wanted == "general" or (title is not None and wanted == title.lower()):
            return self._ref(chat_id, None)
        return None

    def _linked(self, chat_id: int, text: str) -> ChannelRef | None:
        """A t.me link to this group or one of its topics; None for anything else."""
        match = TME_LINK.fullmatch(text)
        if match is None:
            return None
        private, public, first = match.group("private"), match.group("public"), match["first"]
        if private is not None:
            if str(chat_id) != f"-100{private}":
                return None
        elif public is None or self._chat_usernames.get(chat_id) != public.lower():
            return None
        if first is not None and self._topic_names.get((chat_id, int(first))) is not None:
            return self._ref(chat_id, int(first))
        return self._ref(chat_id, None)  # the group, or a message link in it

    def _ref(self, chat_id: int, thread: int | None) -> ChannelRef:
        if thread is None:
            return ChannelRef(channel_id(chat_id), self._titles.get(chat_id) or "general")
        name = self._topic_names.get((chat_id, thread)) or str(thread)
        return ChannelRef(channel_id(chat_id, thread), name)


#: https://t.me/c/<chat without -100>/<topic or message>[/<message>] (private groups) and
#: https://t.me/<username>/<topic or message>[/<message>] (public groups).
TME_LINK = re.compile(
    r"(?:https?://)?(?:t\.me|telegram\.me)/(?:c/(?P<private>\d+)|(?P<public>[A-Za-z]\w{3,31}))"
    r"(?:/(?P<first>\d+)(?:/\d+)?)?/?")
