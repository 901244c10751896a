"""Who wrote the message a reaction or a reply points to, when the platform does not say.

Telegram's reaction updates never name the author, Discord's removals neither, and a
console line need not; the bot recorded the message, so it knows (``BotPort.message_author``:
the recorder's memory of recent messages, else what the store committed).
"""

from __future__ import annotations

from typing import TypeVar

from bot.core.events import Event, MessagePosted, ReactionAdded, ReactionRemoved
from bot.core.port import BotPort

E = TypeVar("E", bound=Event)


async def with_authors(port: BotPort, event: E) -> E:
    """``event`` with the reacted (or replied-to) message's author filled in, if missing
    and known.

    Adapters call it on the event they have just built, before publishing it: nobody else
    holds it yet, so the author is set on it in place. A copy of a frozen dataclass
    (``dataclasses.replace``) would cost more than building the event did, on every
    reaction of a platform that never names the author (Telegram)."""
    if isinstance(event, ReactionAdded | ReactionRemoved) and event.message_author is None:
        author = await port.message_author(event.community, event.message)
        if author is not None:
            object.__setattr__(event, "message_author", author)
    elif (isinstance(event, MessagePosted) and event.reply_to
          and event.reply_to_author is None):
        author = await port.message_author(event.community, event.reply_to)
        if author is not None:
            object.__setattr__(event, "reply_to_author", author)
    return event
