"""An imported history, then the real Telegram adapter live on the same database: the same
members go on earning, and nothing about the past is ever posted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.telegram.adapter import TelegramAdapter
from bot.core.clock import SimulatedClock
from bot.importing.runner import Importer
from bot.importing.sources import TelegramSource
from bot.runtime import Runtime
from cogs.journey.cog import JourneyCog
from cogs.welcome.cog import WelcomeCog
from tests.conftest import SeededEngagement
from tests.e2e.telegram.conftest import Harness, telegram_settings
from tests.e2e.telegram.fake_bot_api import FakeBotApi
from tests.e2e.telegram.updates import group, message, user
from tests.export_builders import (
    day,
    tg_export,
    tg_message,
    tg_reaction,
    tg_service,
    write,
)

CHAT = -1001234
COMMUNITY = f"telegram:{CHAT}"
END = day(20, 18)
MONA, DANA = user(100, "Mona", "mona"), user(101, "Dana", "dana")


def history() -> dict[str, Any]:
    return tg_export([
        tg_message(1, day(12, 9), 100, "Mona", "welcome everyone to the group"),
        tg_service(2, day(12, 10), "invite_members", 101, "Dana", members=["Dana"]),
        tg_message(3, day(12, 10, 5), 101, "Dana", "hello, glad to be here",
                   reactions=[tg_reaction("👍", 2, (100, "Mona", day(12, 11)))]),
        tg_message(4, day(12, 10, 30), 100, "Mona", "glad you came, Dana",
                   reply_to_message_id=3),
        # a newcomer's first message nobody answered before the export was made
        tg_service(5, day(20, 16), "invite_members", 102, "Eli", members=["Eli"]),
        tg_message(6, day(20, 16, 30), 102, "Eli", "hi, anyone here?"),
        # two joins in the last minute: their welcome was still to come
        tg_service(7, END, "invite_members", 103, "Noa", members=["Noa"]),
        tg_service(8, END + timedelta(seconds=20), "invite_members", 104, "Yoav",
                   members=["Yoav"]),
    ], chat=1234, name="Tribe")


@pytest.fixture
async def imported(tmp_path: Path, fake: FakeBotApi) -> Any:
    settings = telegram_settings(tmp_path, fake)
    export = write(tmp_path / "result.json", history())
    report = await Importer(settings, TelegramSource(export, community=COMMUNITY)).run()
    assert report.messages == 4
    return settings


@pytest.fixture
async def live(imported: Any, fake: FakeBotApi) -> AsyncIterator[Harness]:
    runtime = Runtime(imported, clock=SimulatedClock(END + timedelta(days=2)),
                      cogs=[SeededEngagement, JourneyCog, WelcomeCog])
    await runtime.start()
    runtime.communities.set(COMMUNITY, "owners_channel", COMMUNITY)  # alerts could go out
    adapter = TelegramAdapter(runtime, runtime.settings.telegram, poll_timeout=1)
    await adapter.start()
    try:
        yield Harness(fake, runtime, adapter)
    finally:
        await adapter.stop()
        await runtime.stop()


async def test_live_messages_continue_the_imported_members(live: Harness) -> None:
    before = await live.points(101)
    assert before > 0
    stage = await live.runtime.repository.rows(
        "SELECT stage FROM member_stages WHERE community_id = ? AND member_id = ?",
        (COMMUNITY, "telegram:101"))
    assert stage, "the journey knows Dana from the history"
    reply_to = message(MONA, 4, "glad you came, Dana", day(12, 10, 30), chat=group(CHAT))
    await live.send({"message": message(DANA, 9, "thanks again, see you on Thursday",
                                        END + timedelta(days=2, hours=1), chat=group(CHAT),
                                        reply_to=reply_to)})
    assert await live.points(101) == before + 25  # 20 for the message, 5 for the reply
    [(author, count)] = await live.runtime.repository.rows(
        "SELECT author_id, count(*) FROM messages WHERE community_id = ? "
        "AND author_id = 'telegram:101'", (COMMUNITY,))
    assert (author, count) == ("telegram:101", 2)  # one imported, one live: one member


async def test_nothing_about_the_past_is_posted_when_the_bot_goes_live(live: Harness) -> None:
    await live.runtime.advance_to(END + timedelta(days=9))  # any timer would be due by now
    await live.runtime.bus.drain()
    sent = [c.method for c in live.fake.calls
            if c.method.startswith("send") or c.method == "deleteMessage"]
    assert sent == [], "no welcome for the last joins, no alert about Eli, nothing deleted"
