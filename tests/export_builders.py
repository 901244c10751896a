"""Builders for history exports as Telegram Desktop and DiscordChatExporter write them
(field names, order and formats as the real tools), for tests that need a variation of
the hand-written fixtures in tests/fixtures/."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: The Telegram Desktop that exported ran at UTC+3: ``date`` fields are its local time.
EXPORTER = timedelta(hours=3)
CHAT = 1234567
COMMUNITY = "telegram:-1001234567"
Json = dict[str, Any]


def local(at: datetime) -> str:
    return (at + EXPORTER).replace(tzinfo=None).isoformat()


def tg_message(number: int, at: datetime, user: int, name: str, text: Any = "hello there",
               **extra: Any) -> Json:
    data: Json = {"id": number, "type": "message", "date": local(at),
                  "date_unixtime": str(int(at.timestamp())), "from": name,
                  "from_id": f"user{user}", "text": text}
    data.update(extra)
    return data


def tg_service(number: int, at: datetime, action: str, actor: int, actor_name: str,
               **extra: Any) -> Json:
    data: Json = {"id": number, "type": "service", "date": local(at),
                  "date_unixtime": str(int(at.timestamp())), "actor": actor_name,
                  "actor_id": f"user{actor}", "action": action}
    data.update(extra)
    return data


def tg_reaction(emoji: str, count: int, *reactors: tuple[int, str, datetime]) -> Json:
    data: Json = {"type": "emoji", "count": count, "emoji": emoji}
    if reactors:
        data["recent"] = [{"from": name, "from_id": f"user{uid}", "date": local(at)}
                          for uid, name, at in reactors]
    return data


def tg_export(messages: list[Json], *, chat: int = CHAT, name: str = "Tribe",
              kind: str = "private_supergroup") -> Json:
    return {"name": name, "type": kind, "id": chat, "messages": messages}


def write(path: Path, data: Json) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def busy_group(start: datetime, *, messages: int = 400, members: int = 12, seed: int = 5,
               gap: timedelta = timedelta(minutes=37)) -> list[Json]:
    """A few weeks of a small group: joins (by themselves and by link), replies, reactions
    with reactors some hours later, Hebrew and English, a photo now and then."""
    rng = random.Random(seed)
    names = {10 + n: (f"Member {n}" if n % 2 else f"חברה {n}") for n in range(members)}
    joined: list[int] = []
    out: list[Json] = []
    at, number, posted = start, 0, []
    for _ in range(messages):
        at += gap * rng.uniform(0.5, 1.5)
        number += 1
        waiting = [u for u in names if u not in joined]
        if waiting and (not joined or rng.random() < 0.06):
            user = waiting[0]
            joined.append(user)
            if rng.random() < 0.5 or len(joined) == 1:
                out.append(tg_service(number, at, "invite_members", user, names[user],
                                      members=[names[user]]))
            else:
                out.append(tg_service(number, at, "join_group_by_link", user, names[user],
                                      inviter=names[joined[0]]))
            continue
        user = rng.choice(joined)
        words = " ".join(rng.choice(("שלום", "thanks", "מתי?", "great idea", "see you"))
                         for _ in range(rng.randint(1, 6)))
        extra: Json = {}
        if posted and rng.random() < 0.3:
            extra["reply_to_message_id"] = rng.choice(posted[-20:])
        if rng.random() < 0.25:
            others = [u for u in joined if u != user][:3]
            if others:
                reactors = [(u, names[u], at + timedelta(hours=rng.uniform(0.1, 9)))
                            for u in rng.sample(others, rng.randint(1, len(others)))]
                extra["reactions"] = [tg_reaction("👍", len(reactors) + rng.randint(0, 2),
                                                  *reactors)]
        text: Any = words if rng.random() < 0.7 else [words, {"type": "bold", "text": "!"}]
        out.append(tg_message(number, at, user, names[user], text, **extra))
        posted.append(number)
    return out


def day(n: int, hour: int = 9, minute: int = 0) -> datetime:
    """A moment in October 2026 (the 5th is a Monday)."""
    return datetime(2026, 10, n, hour, minute, tzinfo=UTC)


def dce_time(at: datetime) -> str:
    """DiscordChatExporter writes the exporting computer's local time, with its offset."""
    return at.astimezone(timezone(EXPORTER)).isoformat(timespec="milliseconds")
