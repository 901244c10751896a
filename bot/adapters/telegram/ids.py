"""Telegram ids <-> Tribebot ids.

Message ids are only unique per chat, so a message id carries its chat; a forum topic is
a channel of its own (``telegram:<chat>:topic:<thread>``).
"""

from __future__ import annotations

from bot.core.ids import native_part

PLATFORM = "telegram"

# Each id below is what ``bot.core.ids.make_id("telegram", ...)`` gives, written as one
# f-string: a live message makes five of them, and the generic builder (platform check,
# tuple, join) took about 0.8 µs an id, a fifth of translating a message.


def community_id(chat_id: int) -> str:
    return f"telegram:{chat_id!s}"


def member_id(user_id: int) -> str:
    return f"telegram:{user_id!s}"


def message_id(chat_id: int, message: int) -> str:
    return f"telegram:{chat_id!s}:{message!s}"


def channel_id(chat_id: int, thread_id: int | None = None) -> str:
    if thread_id is None:
        return f"telegram:{chat_id!s}"
    return f"telegram:{chat_id!s}:topic:{thread_id!s}"


def update_key(update_id: int, part: int = 0) -> str:
    """The event key of one update (``part`` numbers the events of one update)."""
    suffix = f":{part}" if part else ""
    return f"telegram:update:{update_id}{suffix}"


def command_key(chat_id: int, message: int) -> str:
    """The handled key of a command typed in a message: Telegram sends an update again
    when the bot did not confirm it (a stop before the next getUpdates, a webhook answered
    late), and the message keeps its id."""
    return f"telegram:command:{chat_id!s}:{message!s}"


def parse_chat(identifier: str) -> int:
    """The chat id of a community or channel id."""
    return int(native_part(identifier).split(":")[0])


def parse_channel(identifier: str) -> tuple[int, int | None]:
    """(chat id, forum topic id or None) of a channel id."""
    parts = native_part(identifier).split(":")
    if len(parts) == 3 and parts[1] == "topic":
        return int(parts[0]), int(parts[2])
    if len(parts) != 1:
        raise ValueError(f"{identifier!r} is not a Telegram chat or topic id")
    return int(parts[0]), None


def parse_message(identifier: str) -> tuple[int, int]:
    """(chat id, message id) of a message id."""
    parts = native_part(identifier).split(":")
    if len(parts) != 2:
        raise ValueError(f"{identifier!r} is not a Telegram message id like 'telegram:-100:5'")
    return int(parts[0]), int(parts[1])


def parse_member(identifier: str) -> int:
    return int(native_part(identifier))
