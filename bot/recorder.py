"""The recorder: writes every platform event into the store as facts.

It taps the bus: it runs inside ``publish`` for every new event, before any cog. It
keeps which communities and members the store already knows in memory, so a message
costs one queued row, not a lookup; and who wrote the recent messages, so a reaction on
a platform that does not say (Telegram, a Discord reaction removed, the console) finds
its author without asking the store, let alone committing what is queued first.
"""

from __future__ import annotations

import sys
from datetime import datetime

from bot.communities import Communities
from bot.core.bounded import BoundedDict
from bot.core.events import (
    PLATFORM_EVENTS,
    CommunityJoined,
    CommunityLeft,
    Event,
    InviteUsed,
    MemberJoined,
    MemberLeft,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
    ReactionsCounted,
)
from bot.core.ids import platform_of
from storage.store import Repository

#: Members remembered as written (a member not remembered is upserted again: harmless).
KNOWN_MEMBERS = 100_000
#: Authors of the latest messages remembered (reactions come mostly to recent messages;
#: an older one is asked of the store, without committing what is queued). About 300
#: bytes each.
KNOWN_AUTHORS = 50_000


class Recorder:
    def __init__(
        self, repository: Repository, communities: Communities, *, store_text: bool
    ) -> None:
        self._repo = repository
        self._communities = communities
        self._store_text = store_text
        #: members whose row was written while running (forgetting one costs a row again)
        self._members: BoundedDict[tuple[str, str], None] = BoundedDict(KNOWN_MEMBERS)
        #: (community, message) -> author, of the messages recorded (or asked) lately
        self._authors: BoundedDict[tuple[str, str], str] = BoundedDict(KNOWN_AUTHORS)

    def author_of(self, community: str, message: str) -> str | None:
        """Who wrote ``message``, if it is among the messages remembered."""
        return self._authors.get((community, message))

    def remember_author(self, community: str, message: str, author: str) -> None:
        """An author the store told (a message from before the start, or forgotten)."""
        self._put_author(community, message, author)

    def _put_author(self, community: str, message: str, author: str) -> None:
        # a community's and a member's id repeat across messages: kept once (a third less)
        self._authors.put((sys.intern(community), message), sys.intern(author))

    def ensure_community(self, community: str, at: datetime) -> None:
        """Give a community its row before anything that refers to it (the store's foreign
        keys); its join, when it comes, fills in the name."""
        if not self._communities.is_known(community):
            self._repo.record_community(community, platform_of(community), "", at)
            self._communities.mark_known(community)

    def record(self, event: Event, *, key: str | None = None, undone: str | None = None
               ) -> None:
        """Queue the rows for one event (runs inline in publish: it must never wait);
        ``undone``: the handled key this event frees again (a reaction removed frees its
        addition), stored as such so that a restart knows it too."""
        if not isinstance(event, PLATFORM_EVENTS):
            return  # derived events (stage changes, greetings) are not platform facts
        repo = self._repo
        community = event.community
        if not isinstance(event, CommunityJoined):
            self.ensure_community(community, event.at)
        repo.record_seen(key or event.key, event.at, undoes=undone)
        day = self._communities.local_day(community, event.at)
        match event:
            case MessagePosted():
                self._ensure_member(event, event.author, event.author_name, event.author_is_bot)
                self._put_author(community, event.message, event.author)
                repo.record_message(
                    community, event.message, channel=event.channel, thread=event.thread,
                    author=event.author, author_is_bot=event.author_is_bot,
                    reply_to=event.reply_to, reply_to_author=event.reply_to_author,
                    at=event.at, day=day, length=event.length or 0, has_media=event.has_media,
                    text=event.text if self._store_text else None,
                )
            case ReactionAdded() | ReactionRemoved():
                self._ensure_member(event, event.reactor, "", event.reactor_is_bot)
                repo.record_reaction(
                    community, event.message, event.reactor, event.emoji,
                    author=event.message_author, reactor_is_bot=event.reactor_is_bot,
                    at=event.at, day=day, active=isinstance(event, ReactionAdded),
                )
            case MemberJoined():
                repo.record_member(community, event.member, event.name, event.is_bot, event.at,
                                   present=True)
                self._members.put((community, event.member), None)
                repo.record_member_event(community, event.member, "joined", event.at, day)
            case MemberLeft():
                repo.record_member(community, event.member, "", False, event.at, present=False)
                self._members.put((community, event.member), None)
                repo.record_member_event(community, event.member, "left", event.at, day)
            case InviteUsed():
                repo.record_invite(community, event.member, event.inviter, event.code, event.at)
            case MessageEdited():
                repo.record_edit(community, event.message, event.at, event.length,
                                 event.text if self._store_text else None)
            case MessageDeleted():
                repo.record_delete(community, event.message, event.at)
            case CommunityJoined():
                repo.record_community(community, platform_of(community), event.name, event.at)
                self._communities.mark_known(community)
                self._communities.set_name(community, event.name)
                for channel in event.channels:
                    repo.record_channel(community, channel.id, channel.name)
            case CommunityLeft():
                repo.record_community_left(community, event.at)
            case ReactionsCounted():
                repo.record_reaction_counts(community, event.message, event.counts, event.at)

    def _ensure_member(self, event: Event, member: str, name: str, is_bot: bool) -> None:
        key = (event.community, member)
        if key not in self._members:
            self._members.put(key, None)
            self._repo.record_member(event.community, member, name, is_bot, event.at)
