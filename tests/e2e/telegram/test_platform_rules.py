"""What the real Bot API insists on, end to end: files by the right method, the group's
real member count, channels as a Telegram moderator names them, and posts that came due
while the bot was down sent once it is connected. Real python-telegram-bot, fake API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from telegram.error import BadRequest

from bot.adapters.telegram.adapter import TelegramAdapter
from bot.adapters.telegram.ids import channel_id, community_id, member_id
from bot.core.actions import DirectMessage, Post
from bot.core.clock import SimulatedClock
from bot.core.events import Channel, CommunityJoined
from bot.core.text import plain
from bot.runtime import Runtime
from bot.service import serve
from cogs.moderation.cog import ModerationCog
from cogs.privacy.cog import PrivacyCog
from cogs.summary.chart import write_chart
from cogs.summary.cog import DAYS, SummaryCog
from cogs.welcome.cog import WelcomeCog
from tests.conftest import START, SeededEngagement
from tests.e2e.telegram.conftest import COMMUNITY, Harness, telegram_settings, until
from tests.e2e.telegram.fake_bot_api import FakeBotApi, Upload
from tests.e2e.telegram.updates import (
    GROUP,
    bot_change,
    command,
    group,
    member_change,
    message,
    user,
)

MONA = user(7, "Mona", "mona")  # the group's admin
ALICE = user(1, "Alice", "alice")
BOB = user(2, "Bob", "bob")
CAROL = user(3, "Carol")
COGS = [SeededEngagement, ModerationCog, WelcomeCog, PrivacyCog, SummaryCog]


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def typed(sender: dict[str, Any], message_id: int, minutes: float, text: str,
          **extra: Any) -> dict[str, Any]:
    return {"message": command(sender, message_id, text, at(minutes), **extra)}


def joined(who: dict[str, Any], minutes: float, **extra: Any) -> dict[str, Any]:
    return {"chat_member": member_change(who, "left", "member", at(minutes), **extra)}


def answer_to(bot: Harness, message_id: int) -> str:
    [answer] = [p for p in bot.fake.sent()
                if (p.get("reply_parameters") or {}).get("message_id") == message_id]
    return str(answer.get("text") or answer.get("caption"))


@pytest.fixture
async def tribe(fake: FakeBotApi, tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot with the welcome, moderation, privacy and summary cogs; Mona is an admin."""
    fake.admins.add((GROUP, 7))
    runtime = Runtime(telegram_settings(tmp_path, fake), clock=SimulatedClock(START),
                      cogs=COGS)
    await runtime.start()
    adapter = TelegramAdapter(runtime, runtime.settings.telegram, poll_timeout=1)
    await adapter.start()
    try:
        yield Harness(fake, runtime, adapter)
    finally:
        await adapter.stop()
        await runtime.stop()


def png(path: Path, size: tuple[int, int] = (64, 48)) -> Path:
    Image.new("RGB", size, "white").save(path, format="PNG")
    return path


# -- files: sendPhoto takes images only ---------------------------------------------------
async def test_my_data_goes_as_a_json_document(tribe: Harness) -> None:
    await tribe.send({"message": message(ALICE, 10, "hello there friends", at(0))},
                     typed(ALICE, 11, 1, "/my data"))
    assert "check your direct messages" in answer_to(tribe, 11)
    assert tribe.fake.calls_to("sendPhoto") == []
    [document] = tribe.fake.calls_to("sendDocument")
    assert document.params["chat_id"] == 1, "by direct message"
    upload = document.params["document"]
    assert isinstance(upload, Upload) and upload.filename.endswith(".json")
    assert json.loads(upload.data)["member"] == member_id(1)
    assert document.params["caption"].startswith("Here is everything I store about you")


@pytest.mark.parametrize(("name", "content", "method"), [
    ("points.csv", b"member,points\n1,40\n", "sendDocument"),
    ("rules.pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n", "sendDocument"),
    ("chart.png", b'{"not": "an image"}', "sendDocument"),   # named like an image, is not
    ("photo.bin", None, "sendPhoto"),                         # a PNG under any name
    ("banner.png", (9000, 300), "sendDocument"),              # a ratio sendPhoto refuses
])
async def test_a_file_goes_by_what_it_is_not_by_its_name(
    bot: Harness, tmp_path: Path, name: str, content: bytes | tuple[int, int] | None,
    method: str,
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        png(path, content or (64, 48))
    delivery = await bot.adapter.deliver(Post(community=COMMUNITY, channel=COMMUNITY,
                                              text=plain("Attached"), file=path))
    assert delivery.ok, delivery.error
    [sent] = [c for c in bot.fake.calls if c.method in ("sendPhoto", "sendDocument")]
    assert sent.method == method
    field = "photo" if method == "sendPhoto" else "document"
    assert sent.params[field].filename == name and sent.params["caption"] == "Attached"


async def test_the_weekly_chart_goes_as_a_photo(bot: Harness, tmp_path: Path) -> None:
    history = [{"week": f"2026-W{n}", "active": n, "new": 1, "returning": n - 1,
                "true_fans": 1} for n in range(40, 48)]
    chart = write_chart(history, "Tribe", "2026-W47", tmp_path / "chart.png",
                        bot.runtime.communities.catalog(COMMUNITY))
    delivery = await bot.adapter.deliver(Post(community=COMMUNITY, channel=COMMUNITY,
                                              text=plain("This week"), file=chart))
    assert delivery.ok
    assert [c.method for c in bot.fake.calls if c.method.startswith("send")] == ["sendPhoto"]


async def test_a_text_too_long_for_a_caption_follows_the_document(
    bot: Harness, tmp_path: Path,
) -> None:
    data = tmp_path / "export.json"
    data.write_text("{}", "utf-8")
    text = plain("\n".join(f"line {n}: a fairly long line of the weekly summary" for n in
                           range(60)))
    await bot.adapter.deliver(DirectMessage(community=COMMUNITY, member=member_id(1),
                                            text=text, file=data))
    document, *messages = bot.fake.sent()
    assert "caption" not in document and messages
    assert "line 59" in messages[-1]["text"]


async def test_the_fake_refuses_what_telegram_refuses(bot: Harness, tmp_path: Path) -> None:
    """The fake is only worth something if it is as strict as the Bot API."""
    api = bot.adapter.application.bot
    data = tmp_path / "my-data.json"
    data.write_text('{"member": 1}', "utf-8")
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await api.send_photo(GROUP, data)
    with pytest.raises(BadRequest, match="Photo_invalid_dimensions"):
        await api.send_photo(GROUP, png(tmp_path / "strip.png", (4000, 100)))
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await api.send_document(GROUP, "does/not/exist.csv")
    with pytest.raises(BadRequest, match="caption is too long"):
        await api.send_document(GROUP, data, caption="x" * 1025)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(BadRequest, match="must be non-empty"):
        await api.send_document(GROUP, empty)
    with pytest.raises(BadRequest, match="parse entities"):
        await api.send_message(GROUP, "<b>never closed", parse_mode="HTML")


# -- {member_count} is the group's --------------------------------------------------------
async def test_welcome_counts_the_groups_members_not_the_ones_the_bot_saw(
    tribe: Harness,
) -> None:
    tribe.fake.member_counts[GROUP] = 1234  # Telegram's count, the newcomer included
    await tribe.send(bot_change("left", "administrator", at(0), MONA))
    await tribe.send(joined(CAROL, 1))
    await until(lambda: any("1234" in t for t in tribe.texts()), what="Carol's welcome")
    await tribe.send(joined(BOB, 5))
    await until(lambda: any("1235" in t for t in tribe.texts()), what="Bob's welcome")
    assert len(tribe.fake.calls_to("getChatMemberCount")) == 1, "one call, then counted"


async def test_without_the_platforms_count_the_welcome_counts_who_it_saw(
    tribe: Harness,
) -> None:
    # getChatMemberCount fails ("chat not found"): the count of members seen is the fallback
    await tribe.send(bot_change("left", "administrator", at(0), MONA), joined(CAROL, 1))
    await until(lambda: any("tg://user?id=3" in t for t in tribe.texts()), what="a welcome")
    [welcome] = [t for t in tribe.texts() if "tg://user?id=3" in t]
    assert "member number 1." in welcome


# -- channels as a Telegram moderator names them ------------------------------------------
FORUM = group(forum=True)
IDEAS, MODS = 42, 99


def topic_root(thread: int, name: str) -> dict[str, Any]:
    """The service message that opened a forum topic (every message in it replies to it)."""
    return {"message_id": thread, "date": int(at(0).timestamp()), "chat": FORUM,
            "from": MONA, "message_thread_id": thread,
            "forum_topic_created": {"name": name, "icon_color": 7322096}}


def in_topic(sender: dict[str, Any], message_id: int, minutes: float, text: str,
             thread: int, name: str) -> dict[str, Any]:
    """A command typed inside a topic."""
    return {"message": command(sender, message_id, text, at(minutes), chat=FORUM,
                               thread=thread, reply_to=topic_root(thread, name))}


async def test_channels_by_topic_name_link_here_or_the_group(tribe: Harness) -> None:
    settings = tribe.runtime.communities
    # Ideas is known from a message posted in it (the topic existed before the bot came)
    await tribe.send({"message": message(ALICE, 50, "an idea for the meetup", at(1),
                                         chat=FORUM, thread=IDEAS,
                                         reply_to=topic_root(IDEAS, "Ideas"))})
    await tribe.send(typed(MONA, 51, 2, "/welcome channel #ideas", chat=FORUM),
                     in_topic(MONA, 52, 3, "/community owners here", MODS, "Mods"),
                     typed(MONA, 53, 4, "/summary channel https://t.me/c/1234/42",
                           chat=FORUM),
                     typed(MONA, 54, 5, "/welcome rules general", chat=FORUM),
                     typed(MONA, 55, 6, "/engagement set excluded_channels Ideas, -1001234",
                           chat=FORUM))
    topic_ideas, topic_mods = channel_id(GROUP, IDEAS), channel_id(GROUP, MODS)
    assert settings.get(COMMUNITY, "welcome.channel") == topic_ideas
    assert "Welcomes will be posted in #Ideas." in answer_to(tribe, 51)
    assert settings.get(COMMUNITY, "owners_channel") == topic_mods
    assert settings.get(COMMUNITY, "summary.channel") == topic_ideas
    assert settings.get(COMMUNITY, "welcome.rules_channel") == channel_id(GROUP)
    assert settings.get(COMMUNITY, "engagement.excluded_channels") == [topic_ideas,
                                                                        channel_id(GROUP)]


@pytest.mark.parametrize("where", ["#nowhere", "https://t.me/c/999/42", "-100999", "77"])
async def test_a_channel_that_is_not_in_this_group_is_refused(
    tribe: Harness, where: str,
) -> None:
    await tribe.send(typed(MONA, 60, 1, f"/welcome channel {where}", chat=FORUM),
                     typed(MONA, 61, 2, f"/engagement set excluded_channels general, {where}",
                           chat=FORUM))
    assert f"I can't find the channel “{where}” here" in answer_to(tribe, 60)
    assert f"I can't find the channel “{where}” here" in answer_to(tribe, 61)
    assert tribe.runtime.communities.get(COMMUNITY, "welcome.channel") is None
    assert tribe.runtime.communities.get(COMMUNITY, "engagement.excluded_channels") is None


# -- due while the bot was down: sent once the adapter is connected -----------------------
async def test_a_burst_welcome_and_an_alert_due_at_restart_arrive_once_connected(
    fake: FakeBotApi, tmp_path: Path,
) -> None:
    fake.admins.add((GROUP, 7))
    settings = telegram_settings(tmp_path, fake)
    cogs = [ModerationCog, WelcomeCog]
    async with Runtime(settings, clock=SimulatedClock(START), cogs=cogs) as before:
        adapter = TelegramAdapter(before, settings.telegram, poll_timeout=1)
        await adapter.start()
        bot = Harness(fake, before, adapter)
        await bot.send(bot_change("left", "administrator", at(0), MONA),
                       typed(MONA, 10, 0, "/community owners here"),
                       joined(CAROL, 0.1), joined(BOB, 0.5),  # Bob waits for the burst post
                       {"message": message(CAROL, 11, "hi all, I am new here", at(0.8))})
        await adapter.stop()
    # the bot was down for five hours: the burst post and the 4-hour alert came due
    calls_before = len(fake.calls)
    clock = SimulatedClock(START + timedelta(hours=5))
    async with Runtime(settings, clock=clock, cogs=cogs) as runtime:
        adapter = TelegramAdapter(runtime, settings.telegram, poll_timeout=1)
        due = asyncio.create_task(runtime.advance_to(clock.now()))  # the timers fire
        await asyncio.sleep(0.3)
        assert not due.done(), "held until Telegram is connected"
        await adapter.start()
        try:
            await asyncio.wait_for(due, 10)
            await runtime.advance_to(clock.now() + timedelta(hours=5))
            after = [c for c in fake.calls[calls_before:] if c.method == "sendMessage"]
            texts = [str(c.params["text"]) for c in after]
            assert len([t for t in texts if "tg://user?id=2" in t]) == 1, texts
            assert len([t for t in texts if "Nobody has answered" in t]) == 1, texts
            first_send = fake.calls.index(after[0])
            assert fake.calls[calls_before:first_send][0].method == "getMe"
        finally:
            await adapter.stop()


async def test_a_weekly_summary_due_while_down_is_posted_by_tribebot_run(
    fake: FakeBotApi, tmp_path: Path,
) -> None:
    settings = telegram_settings(tmp_path, fake)
    slot = datetime.now(UTC) - timedelta(minutes=30)
    async with Runtime(settings, cogs=[SummaryCog]) as before:  # the bot's last run
        before.publish(CommunityJoined(community=COMMUNITY, at=slot - timedelta(days=3),
                                       name="Tribe",
                                       channels=(Channel(id=COMMUNITY, name="Tribe"),)))
        communities = before.communities
        communities.set(COMMUNITY, "owners_channel", community_id(GROUP))
        communities.set(COMMUNITY, "summary.day", DAYS[slot.weekday()])
        communities.set(COMMUNITY, "summary.time", slot.strftime("%H:%M"))
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, stop))

    def summaries() -> list[dict[str, Any]]:
        return [p for p in fake.sent()
                if str(p.get("text") or p.get("caption") or "").startswith("Week ")]

    try:
        await until(lambda: bool(summaries()), within=15, what="the weekly summary")
        await asyncio.sleep(0.5)  # nothing else comes after it
    finally:
        stop.set()
        assert await asyncio.wait_for(running, 15) == 0
    [summary] = summaries()
    assert summary["chat_id"] == GROUP
