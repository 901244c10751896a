"""Builders for Bot API update payloads (the JSON Telegram sends), shared by the unit
tests (parsed with Update.de_json) and the end-to-end tests (served by the fake API)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.e2e.telegram.fake_bot_api import BOT_USER, administrator

GROUP = -1001234
Payload = dict[str, Any]


def user(uid: int, first_name: str, username: str | None = None, *, is_bot: bool = False
         ) -> Payload:
    data: Payload = {"id": uid, "is_bot": is_bot, "first_name": first_name}
    if username:
        data["username"] = username
    return data


def group(chat_id: int = GROUP, title: str = "Tribe", *, forum: bool = False) -> Payload:
    return {"id": chat_id, "type": "supergroup", "title": title, "is_forum": forum}


def ts(at: datetime) -> int:
    """Telegram dates are whole seconds since the epoch."""
    return int(at.timestamp())


def message(
    sender: Payload, message_id: int, text: str, at: datetime, *, chat: Payload | None = None,
    reply_to: Payload | None = None, thread: int | None = None,
    entities: list[Payload] | None = None, **extra: Any,
) -> Payload:
    data: Payload = {"message_id": message_id, "date": ts(at), "chat": chat or group(),
                     "from": sender, "text": text, **extra}
    if reply_to is not None:
        data["reply_to_message"] = reply_to
    if thread is not None:
        data["message_thread_id"] = thread
        data["is_topic_message"] = True
    if entities:
        data["entities"] = entities
    return data


def command(sender: Payload, message_id: int, text: str, at: datetime, **extra: Any) -> Payload:
    """A message starting with a /command (the bot_command entity Telegram adds)."""
    word = text.split()[0]
    entity = {"type": "bot_command", "offset": 0, "length": len(word.encode("utf-16-le")) // 2}
    entities = [entity, *extra.pop("entities", [])]
    return message(sender, message_id, text, at, entities=entities, **extra)


def member(user_data: Payload, status: str, **extra: Any) -> Payload:
    if status == "administrator":
        return {**administrator(user_data), **extra}
    if status == "kicked":
        extra.setdefault("until_date", 0)
    return {"status": status, "user": user_data, **extra}


def member_change(
    who: Payload, old: str, new: str, at: datetime, *, actor: Payload | None = None,
    chat: Payload | None = None, invite_link: Payload | None = None,
) -> Payload:
    data: Payload = {"chat": chat or group(), "from": actor or who, "date": ts(at),
                     "old_chat_member": member(who, old), "new_chat_member": member(who, new)}
    if invite_link is not None:
        data["invite_link"] = invite_link
    return data


def bot_change(old: str, new: str, at: datetime, actor: Payload, **kw: Any) -> Payload:
    """my_chat_member: the bot itself was added, promoted or removed."""
    return {"my_chat_member": member_change(BOT_USER, old, new, at, actor=actor, **kw)}


def invite_link(creator: Payload, link: str = "https://t.me/+AbCdEf", name: str = "") -> Payload:
    data: Payload = {"invite_link": link, "creator": creator, "creates_join_request": False,
                     "is_primary": False, "is_revoked": False}
    if name:
        data["name"] = name
    return data


def reaction(
    who: Payload, message_id: int, at: datetime, old: list[str], new: list[str],
    chat: Payload | None = None,
) -> Payload:
    def emojis(items: list[str]) -> list[Payload]:
        return [{"type": "emoji", "emoji": e} for e in items]

    return {"message_reaction": {"chat": chat or group(), "message_id": message_id,
                                 "user": who, "date": ts(at), "old_reaction": emojis(old),
                                 "new_reaction": emojis(new)}}
