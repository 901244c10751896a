"""Outbound actions: what a cog asks an adapter to do on its platform.

Actions are frozen data; the runtime routes each to the adapter of its platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.core.text import RichText


@dataclass(frozen=True, slots=True, kw_only=True)
class Post:
    community: str
    channel: str
    text: RichText
    reply_to: str | None = None
    file: Path | None = None
    #: A machine-readable tag (e.g. "level_up", "welcome") for tests and logs.
    kind: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectMessage:
    community: str
    member: str
    text: RichText
    file: Path | None = None
    kind: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SetRole:
    """Grant (or revoke) a platform role; only adapters that have roles act on it."""

    community: str
    member: str
    role: str
    grant: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteMessage:
    community: str
    channel: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateInvite:
    """A personal invite link for a member (Delivery.message carries the URL)."""

    community: str
    member: str


Action = Post | DirectMessage | SetRole | DeleteMessage | CreateInvite


@dataclass(frozen=True, slots=True)
class Delivery:
    """What happened to an action: the platform message id, or why it failed."""

    ok: bool
    message: str | None = None
    error: str | None = None
