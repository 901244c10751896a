"""Files reach commands only as Discord attachments: the real discord.py client against the
fake Discord, with the content and engagement cogs on a temporary database."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from bot.adapters.discord.adapter import DiscordAdapter
from bot.core.clock import SimulatedClock
from bot.runtime import Runtime
from cogs.content.cog import ContentCog
from tests.conftest import START, SeededEngagement
from tests.e2e.discord.conftest import Harness, discord_settings
from tests.e2e.discord.fake_discord import FakeDiscord
from tests.e2e.discord.payloads import (
    ALICE,
    GENERAL,
    MANAGE_GUILD,
    MONA,
    attachment,
    interaction,
    message,
    snowflake,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 48
POINTS = b"member,points\n1,40\n2,15\n"


class QuickContent(ContentCog):
    startup_delay: ClassVar[timedelta] = timedelta(0)


@pytest.fixture
async def files_bot(tmp_path: Path, fake: FakeDiscord) -> AsyncIterator[Harness]:
    settings = discord_settings(tmp_path, fake, discord={"prefix_commands": True})
    async with Runtime(settings, clock=SimulatedClock(START),
                       cogs=[SeededEngagement, QuickContent]) as runtime:
        adapter = DiscordAdapter(runtime, settings.discord, guild_ready_timeout=0.05)
        await adapter.start()
        await adapter.until_ready()
        try:
            yield Harness(fake, runtime, adapter)
        finally:
            await adapter.stop()


def text_option(name: str, value: str) -> dict[str, Any]:
    return {"type": 3, "name": name, "value": value}


async def followup(bot: Harness, number: int) -> str:
    """The answer to a deferred command (commands with a file option are deferred)."""
    [call] = await bot.fake.wait_for("POST", rf"/webhooks/\d+/token-{number}")
    return str(call.body.get("content") or "")


async def test_slash_content_add_never_reads_a_named_file(files_bot: Harness,
                                                          tmp_path: Path) -> None:
    secret = tmp_path / "config.toml"
    secret.write_text("token = 'hunter2'\n", encoding="utf-8")
    await files_bot.fake.dispatch("INTERACTION_CREATE", interaction(
        1, MONA, "content", sub="add", permissions=MANAGE_GUILD, options=(
            text_option("topic", "tips"), text_option("schedule", "once 2026-11-03 10:00"),
            text_option("text", f"--file {secret} Read this"))))
    assert await followup(files_bot, 1) == (
        "Attach the file to the command's message instead of naming it; I never open a "
        "file named in a command.")
    with sqlite3.connect(tmp_path / "test.db") as conn:
        assert conn.execute("SELECT count(*) FROM content_items").fetchone()[0] == 0


async def test_slash_content_add_keeps_the_attached_image_and_posts_it(
        files_bot: Harness, tmp_path: Path) -> None:
    files_bot.fake.attachments["poster.png"] = PNG
    image = attachment(31, "poster.png", files_bot.fake.url("/attachments/poster.png"),
                       size=len(PNG))
    await files_bot.fake.dispatch("INTERACTION_CREATE", interaction(
        2, MONA, "content", sub="add", permissions=MANAGE_GUILD, options=(
            text_option("topic", "tips"), text_option("schedule", "once 2026-11-03 10:00"),
            text_option("text", "See the poster"), {"type": 11, "name": "file", "value": "31"}),
        resolved={"attachments": {"31": image}}))
    assert (await followup(files_bot, 2)).startswith("Scheduled item 1 (tips)")
    assert files_bot.fake.downloads == ["poster.png"]
    [kept] = (tmp_path / "test.db.files").glob("*/poster.png")
    assert kept.read_bytes() == PNG
    await files_bot.runtime.advance_to(datetime(2026, 11, 3, 10, 1, tzinfo=UTC))
    [post] = await files_bot.fake.wait_for("POST", rf"/channels/{GENERAL}/messages")
    assert post.body["content"] == "See the poster" and post.files == ("poster.png",)


async def test_typed_import_refuses_a_big_attachment_without_downloading_it(
        files_bot: Harness) -> None:
    files_bot.fake.attachments["points.csv"] = POINTS
    big = attachment(32, "points.csv", files_bot.fake.url("/attachments/points.csv"),
                     size=3_000_000)
    mid = snowflake(START + timedelta(minutes=1), 0)
    await files_bot.send("MESSAGE_CREATE", message(mid, MONA, "!points import",
                                                   attachments=(big,)))
    [answer] = files_bot.fake.sent("POST", rf"/channels/{GENERAL}/messages")
    assert answer.body["content"] == ("/points import: “points.csv” is 3.0 MB; a file for "
                                      "this command can be at most 2.0 MB.")
    assert files_bot.fake.downloads == []
    assert await files_bot.points(ALICE) == 0


async def test_typed_import_names_no_host_file(files_bot: Harness, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("1,500\n", encoding="utf-8")
    mid = snowflake(START + timedelta(minutes=1), 0)
    await files_bot.send("MESSAGE_CREATE", message(mid, MONA, f"!points import {secret}"))
    [answer] = files_bot.fake.sent("POST", rf"/channels/{GENERAL}/messages")
    assert "I never open a file named in a command" in answer.body["content"]
    assert await files_bot.points(ALICE) == 0


async def test_a_member_s_attachment_for_a_moderator_command_is_not_downloaded(
        files_bot: Harness) -> None:
    files_bot.fake.attachments["points.csv"] = POINTS
    csv = attachment(33, "points.csv", files_bot.fake.url("/attachments/points.csv"))
    await files_bot.fake.dispatch("INTERACTION_CREATE", interaction(
        3, ALICE, "points", sub="import", options=({"type": 11, "name": "file", "value": "33"},),
        resolved={"attachments": {"33": csv}}))
    assert "only moderators" in await followup(files_bot, 3)
    assert files_bot.fake.downloads == [] and await files_bot.points(ALICE) == 0
