"""Platform-neutral, immutable events: what adapters publish and cogs consume.

Events carry ids and facts only, never a live platform object, so a cog cannot reach
around the adapter. Every event has a ``key``: the same platform event delivered twice
(after a reconnect or a restart) has the same key and is handled once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


def derived_key(kind: type[Event], community: str, identity: str) -> str:
    """The key of an event the platform gave no unique id: what it is, where, about what."""
    return f"{kind.__name__}:{community}:{identity}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Channel:
    id: str
    name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    community: str
    at: datetime
    #: Overrides the derived key when the platform offers a unique delivery id.
    platform_key: str | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        return self.platform_key or derived_key(type(self), self.community, self._identity())

    def undoes(self) -> str | None:
        """The key of the event this one reverses (a removal re-allows a later add)."""
        return None

    def _identity(self) -> str:
        return str(int(self.at.timestamp()))


@dataclass(frozen=True, slots=True, kw_only=True)
class CommunityJoined(Event):
    name: str = ""
    channels: tuple[Channel, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CommunityLeft(Event):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberJoined(Event):
    member: str
    name: str = ""
    is_bot: bool = False
    member_count: int | None = None

    def _identity(self) -> str:
        return f"{self.member}:{int(self.at.timestamp())}"

    def undoes(self) -> str | None:
        return derived_key(MemberLeft, self.community, self.member)  # MemberLeft's identity


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberLeft(Event):
    member: str

    def _identity(self) -> str:
        return self.member


@dataclass(frozen=True, slots=True, kw_only=True)
class InviteUsed(Event):
    """Who brought whom, when the platform tells (Discord invite diff, Telegram link)."""

    member: str
    inviter: str | None
    code: str = ""

    def _identity(self) -> str:
        return f"{self.member}:{int(self.at.timestamp())}"


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagePosted(Event):
    message: str
    author: str
    channel: str
    author_name: str = ""
    author_is_bot: bool = False
    thread: str | None = None
    reply_to: str | None = None
    reply_to_author: str | None = None
    #: Visible characters; None when the platform withheld the text (Discord without
    #: the message content intent), so length rules cannot judge it.
    length: int | None = 0
    has_media: bool = False
    #: Transient: used in memory (anti-spam), stored only if the owner enabled it.
    text: str | None = None

    def _identity(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEdited(Event):
    message: str
    length: int = 0
    text: str | None = None

    def _identity(self) -> str:
        return f"{self.message}:{int(self.at.timestamp())}"


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageDeleted(Event):
    message: str

    def _identity(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True, kw_only=True)
class _Reaction(Event):
    message: str
    reactor: str
    emoji: str
    #: Author of the reacted message; None when the platform does not say and the
    #: message is unknown to the store.
    message_author: str | None = None
    reactor_is_bot: bool = False

    def _identity(self) -> str:
        return f"{self.message}:{self.reactor}:{self.emoji}"

    def _opposite(self, kind: type[_Reaction]) -> str:
        # the key ``kind`` would derive for the same reaction, without building one (this
        # runs for every reaction, and a frozen dataclass costs more to build than a key)
        return derived_key(kind, self.community, self._identity())


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionAdded(_Reaction):
    def undoes(self) -> str | None:
        return self._opposite(ReactionRemoved)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionRemoved(_Reaction):
    def undoes(self) -> str | None:
        return self._opposite(ReactionAdded)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionsCounted(Event):
    """Anonymous reaction totals per emoji (Telegram channels and anonymous admins).

    There is no reactor, so they are recorded (content resonance) but earn nobody points.
    """

    message: str
    counts: tuple[tuple[str, int], ...] = ()

    def _identity(self) -> str:
        return f"{self.message}:{int(self.at.timestamp())}"


# -- derived events: published by cogs for other cogs, never by adapters ----------------

#: The member journey's stages, in order: the one place their names are written.
VISITOR, AUDIENCE, PARTICIPANT, REGULAR, CHAMPION = STAGES = (
    "visitor", "audience", "participant", "regular", "champion")


@dataclass(frozen=True, slots=True, kw_only=True)
class StageChanged(Event):
    """A member moved along the journey (visitor -> audience -> ... -> champion)."""

    member: str
    old: str | None
    new: str

    def _identity(self) -> str:
        return f"{self.member}:{self.old}:{self.new}:{int(self.at.timestamp())}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeZoneChanged(Event):
    """A moderator set the community's time zone: local schedules must be planned again."""

    zone: str

    def _identity(self) -> str:
        return f"{self.zone}:{int(self.at.timestamp())}"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewcomerGreeted(Event):
    """A regular greeted a newcomer within a day of their arrival (earns welcome points)."""

    member: str
    newcomer: str
    #: where the greeting was posted (a level-up it brings is announced there)
    channel: str | None = None

    def _identity(self) -> str:
        return f"{self.member}:{self.newcomer}"


@dataclass(frozen=True, slots=True, kw_only=True)
class HelpfulAnswerGiven(Event):
    """A member's reply to someone else received a reaction from another member."""

    member: str
    message: str

    def _identity(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True, kw_only=True)
class ContributionCounted(Event):
    """A member's message counted as contribution: the engagement rules did not refuse it
    as farming. Published for the first such message of a member's week (and again
    after a restart), which is all the journey needs to know."""

    member: str
    message: str

    def _identity(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferralConverted(Event):
    """Someone a member invited became a participant: the inviter earns the credit."""

    inviter: str
    member: str

    def _identity(self) -> str:
        return f"{self.inviter}:{self.member}"


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberForgotten(Event):
    """A member erased their data: cogs drop what they remember of them."""

    member: str

    def _identity(self) -> str:
        return f"{self.member}:{int(self.at.timestamp())}"


#: Every event type a platform adapter may publish, for docs and the replay format.
PLATFORM_EVENTS: tuple[type[Event], ...] = (
    CommunityJoined, CommunityLeft, MemberJoined, MemberLeft, InviteUsed,
    MessagePosted, MessageEdited, MessageDeleted, ReactionAdded, ReactionRemoved,
    ReactionsCounted,
)
