"""JSON Lines records <-> platform-neutral events (the replay file format).

One JSON object per line with ``type``, ``at`` (ISO 8601 with a zone) and ``community``.
Ids without a platform prefix are taken as console ids (``alice`` -> ``console:alice``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.events import (
    Channel,
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
from bot.core.ids import PLATFORMS
from bot.core.text import visible_length


class RecordError(ValueError):
    """A replay line that cannot be understood; the message names the line and field."""


@dataclass(frozen=True, slots=True)
class CommandLine:
    """A member typing a command (``/rank``) in a channel; ``files`` are paths of files
    attached to it, on the operator's machine (relative to the replay file)."""

    community: str
    channel: str
    member: str
    text: str
    at: datetime
    files: tuple[str, ...] = ()


def qualify(identifier: str) -> str:
    prefix = identifier.split(":", 1)[0]
    return identifier if prefix in PLATFORMS and ":" in identifier else f"console:{identifier}"


class _Fields:
    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.raw = raw
        self.where = where

    def text(self, name: str, default: str | None = None) -> str:
        value = self.raw.get(name, default)
        if value is None:
            raise RecordError(f"{self.where}: {self.raw.get('type')} needs \"{name}\"")
        if not isinstance(value, str):
            raise RecordError(f"{self.where}: \"{name}\" must be text, got {value!r}")
        return value

    def ident(self, name: str) -> str:
        return qualify(self.text(name))

    def optional_ident(self, name: str) -> str | None:
        value = self.raw.get(name)
        return None if value is None else qualify(self.text(name))

    def flag(self, name: str) -> bool:
        value = self.raw.get(name, False)
        if not isinstance(value, bool):
            raise RecordError(f"{self.where}: \"{name}\" must be true or false, got {value!r}")
        return value

    def moment(self) -> datetime:
        value = self.text("at")
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise RecordError(f"{self.where}: \"at\" is not an ISO 8601 time: {value!r}") from None
        if moment.tzinfo is None:
            raise RecordError(f"{self.where}: \"at\" needs a time zone, e.g. {value}Z")
        return moment


def _message(f: _Fields, base: dict[str, Any]) -> MessagePosted:
    text = f.raw.get("text")
    if text is not None and not isinstance(text, str):
        raise RecordError(f"{f.where}: \"text\" must be text")
    length = f.raw.get("length")
    if length is None:
        length = visible_length(text or "")
    return MessagePosted(
        **base, message=f.ident("message"), author=f.ident("author"),
        author_name=str(f.raw.get("author_name", "")), author_is_bot=f.flag("author_is_bot"),
        channel=f.ident("channel"), thread=f.optional_ident("thread"),
        reply_to=f.optional_ident("reply_to"), reply_to_author=f.optional_ident("reply_to_author"),
        length=int(length), has_media=f.flag("has_media"), text=text,
    )


def _reaction(kind: type[ReactionAdded] | type[ReactionRemoved]) -> Callable[..., Event]:
    def build(f: _Fields, base: dict[str, Any]) -> Event:
        return kind(**base, message=f.ident("message"), reactor=f.ident("reactor"),
                    emoji=f.text("emoji"), message_author=f.optional_ident("author"),
                    reactor_is_bot=f.flag("reactor_is_bot"))
    return build


_BUILDERS: dict[str, Callable[[_Fields, dict[str, Any]], Event]] = {
    "community_joined": lambda f, b: CommunityJoined(
        **b, name=f.text("name", ""),
        channels=tuple(Channel(id=qualify(c["id"]), name=c.get("name", ""))
                       for c in f.raw.get("channels", []))),
    "community_left": lambda f, b: CommunityLeft(**b),
    "member_joined": lambda f, b: MemberJoined(
        **b, member=f.ident("member"), name=f.text("name", ""), is_bot=f.flag("is_bot")),
    "member_left": lambda f, b: MemberLeft(**b, member=f.ident("member")),
    "invite_used": lambda f, b: InviteUsed(
        **b, member=f.ident("member"), inviter=f.optional_ident("inviter"),
        code=f.text("code", "")),
    "message_posted": _message,
    "message_edited": lambda f, b: MessageEdited(
        **b, message=f.ident("message"), text=f.raw.get("text"),
        length=int(f.raw.get("length", visible_length(f.raw.get("text") or "")))),
    "message_deleted": lambda f, b: MessageDeleted(**b, message=f.ident("message")),
    "reactions_counted": lambda f, b: ReactionsCounted(
        **b, message=f.ident("message"),
        counts=tuple((str(k), int(v)) for k, v in dict(f.raw.get("counts", {})).items())),
    "reaction_added": _reaction(ReactionAdded),
    "reaction_removed": _reaction(ReactionRemoved),
}

RECORD_TYPES = (*_BUILDERS, "command")


def parse_record(raw: Any, where: str) -> Event | CommandLine:
    if not isinstance(raw, dict):
        raise RecordError(f"{where}: expected a JSON object")
    f = _Fields(raw, where)
    kind = f.text("type")
    base = {"community": f.ident("community"), "at": f.moment()}
    if kind == "command":
        files = raw.get("files", [])
        if not isinstance(files, list) or not all(isinstance(x, str) and x for x in files):
            raise RecordError(f'{where}: "files" must be a list of file paths')
        return CommandLine(community=base["community"], channel=f.ident("channel"),
                           member=f.ident("member"), text=f.text("text"), at=base["at"],
                           files=tuple(files))
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise RecordError(f"{where}: unknown type {kind!r}; expected one of "
                          + ", ".join(RECORD_TYPES))
    try:
        return builder(f, base)
    except (TypeError, KeyError, ValueError) as exc:
        if isinstance(exc, RecordError):
            raise
        raise RecordError(f"{where}: {kind}: {exc}") from None
