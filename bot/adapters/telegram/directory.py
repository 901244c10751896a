"""What the adapter has learned from updates: who is @who in each chat, topic names,
and short-lived memories (admin checks, recent joins, DM hints).

Telegram has no "look up a member by @username" call, so the adapter remembers every
username it sees per chat; that is how ``/points give @bob 5`` finds Bob.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable

from telegram import Message, User

from bot.adapters.telegram.ids import channel_id, member_id
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


class Directory:
    def __init__(self) -> None:
        self._usernames: BoundedDict[tuple[int, str], MemberRef] = BoundedDict(MAX_ENTRIES)
        self._names: BoundedDict[tuple[int, int], str] = BoundedDict(MAX_ENTRIES)
        self._topics: BoundedDict[tuple[int, str], int] = BoundedDict(MAX_ENTRIES)

    def learn_user(self, chat_id: int, user: User | None) -> None:
        if user is None:
            return
        ref = MemberRef(member_id(user.id), member_name(user))
        if user.username:
            self._usernames.put((chat_id, user.username.lower()), ref)
        self._names.put((chat_id, user.id), ref.name)

    def learn_message(self, message: Message) -> None:
        chat = message.chat.id
        self.learn_user(chat, message.from_user)
        for user in message.new_chat_members or ():
            self.learn_user(chat, user)
        if message.reply_to_message is not None:
            self.learn_user(chat, message.reply_to_message.from_user)
        for entity in message.entities or ():
            self.learn_user(chat, entity.user)
        created = message.forum_topic_created
        if created is not None and message.message_thread_id is not None:
            self._topics.put((chat, created.name.lower()), message.message_thread_id)

    def member(self, chat_id: int, word: str) -> MemberRef | None:
        """A member by ``@username`` (as seen in this chat)."""
        if not word.startswith("@"):
            return None
        return self._usernames.get((chat_id, word[1:].lower()))

    def name(self, chat_id: int, user_id: int) -> str | None:
        return self._names.get((chat_id, user_id))

    def channel(self, chat_id: int, word: str, here: str) -> ChannelRef | None:
        """A forum topic by name (``#ideas``), or ``here`` for the current chat/topic."""
        wanted = word.removeprefix("#").lower()
        if wanted == "here":
            return ChannelRef(here, wanted)
        thread = self._topics.get((chat_id, wanted))
        if thread is None:
            return None
        return ChannelRef(channel_id(chat_id, thread), word.removeprefix("#"))
