"""One typed-command pipeline and one reaction-author lookup for every adapter: the same
words get the same answer on Telegram and the console, and a reaction on Telegram finds
its message's author without committing what the writer has queued."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.console.adapter import ConsoleAdapter
from bot.adapters.telegram.adapter import TelegramAdapter
from bot.core.clock import SimulatedClock
from bot.core.events import Channel, CommunityJoined, MemberJoined
from bot.core.port import BotPort
from bot.runtime import Runtime
from tests.conftest import FIXED_POINTS, START, SeededEngagement, make_settings
from tests.e2e.telegram.conftest import Harness
from tests.e2e.telegram.fake_bot_api import TOKEN, FakeBotApi
from tests.e2e.telegram.updates import GROUP, command, message, reaction, user

MONA = user(7, "Mona", "mona")  # the group's admin
ALICE = user(1, "Alice", "alice")
BOB = user(2, "Bob", "bob")
CONSOLE = "console:tribe"

#: (who types it, what is typed): a refusal, two usage answers, an unknown member
TYPED = [
    ("bob", "/points give @alice 50 thanks"),
    ("mona", "/points give @alice"),
    ("mona", "/points give @alice lots thanks"),
    ("mona", "/points give @nobody 5 hi"),
]


@pytest.fixture
async def both(tmp_path: Path, fake: FakeBotApi) -> AsyncIterator[tuple[Harness, ConsoleAdapter]]:
    """One runtime with both adapters: Telegram on the fake Bot API, and the console.
    The writer commits only when told to (or a minute later), so a flush shows."""
    settings = make_settings(
        tmp_path, engagement=FIXED_POINTS,
        telegram={"enabled": True, "token": TOKEN, "api_base_url": fake.api_base_url},
        storage={"batch_interval_ms": 60_000})
    async with Runtime(settings, clock=SimulatedClock(START), cogs=[SeededEngagement]) as rt:
        adapter = TelegramAdapter(rt, settings.telegram, poll_timeout=1)
        console = ConsoleAdapter(rt, echo=False, moderators=["mona"])
        await adapter.start()
        try:
            yield Harness(fake, rt, adapter), console
        finally:
            await adapter.stop()


def shown(text: str) -> str:
    """What a Telegram member reads of an HTML message."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def test_the_runtime_is_the_port_adapters_use(tmp_path: Path) -> None:
    assert isinstance(Runtime(make_settings(tmp_path)), BotPort)


async def test_the_same_words_get_the_same_answer_on_telegram_and_the_console(
    both: tuple[Harness, ConsoleAdapter],
) -> None:
    telegram, console = both
    telegram.fake.admins.add((GROUP, 7))
    await console.push(CommunityJoined(community=CONSOLE, at=START, name="Tribe",
                                       channels=(Channel(id=f"{CONSOLE}-general",
                                                         name="general"),)))
    for name in ("alice", "bob", "mona"):
        await console.push(MemberJoined(community=CONSOLE, at=START, member=f"console:{name}",
                                        name=name.title()))
    members: dict[str, dict[str, Any]] = {"alice": ALICE, "bob": BOB, "mona": MONA}
    await telegram.send(*({"message": message(members[name], 10 + n, "hello there friends",
                                              START)} for n, name in enumerate(members)))
    for n, (who, text) in enumerate(TYPED):
        at = START + timedelta(minutes=n + 1)
        await telegram.send({"message": command(members[who], 20 + n, text, at)})
        [answer] = [p for p in telegram.fake.sent()
                    if (p.get("reply_parameters") or {}).get("message_id") == 20 + n]
        reply = await console.command(CONSOLE, who, text, at=at)
        assert shown(str(answer["text"])) == reply.text.plain(), text
    assert await telegram.points(1) == 20, "no command gave points"


async def test_a_reaction_on_telegram_finds_its_author_without_a_commit(
    both: tuple[Harness, ConsoleAdapter],
) -> None:
    telegram, _ = both
    writer = telegram.runtime.repository.writer
    assert writer is not None
    await telegram.send({"message": message(BOB, 11, "hello there friends", START)})
    before = writer.batches
    assert writer.unsaved > 0, "the message's rows wait in the writer"
    await telegram.send(reaction(ALICE, 11, START + timedelta(minutes=1), [], ["👍"]))
    assert writer.batches == before, "the reaction made the writer commit"
    await telegram.runtime.repository.flush()
    assert ("reaction_received", 2) in await telegram.reasons(2)
