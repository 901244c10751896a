"""Files reach commands only as documents sent with them: real python-telegram-bot against
the fake Bot API, which serves files the way Telegram does (getFile, then a download of
the path it handed out)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import START
from tests.e2e.telegram.conftest import Harness
from tests.e2e.telegram.fake_bot_api import FakeBotApi
from tests.e2e.telegram.updates import GROUP, command, ts, user

MONA = user(7, "Mona", "mona")  # the group's admin
ALICE = user(1, "Alice", "alice")
POINTS = b"member,points\n1,40\n2,15\n"


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def document(sender: dict[str, Any], message_id: int, minutes: float, file_id: str, *,
             name: str = "points.csv", size: int | None = None, caption: str | None = None,
             ) -> dict[str, Any]:
    """A message carrying a file; with ``caption`` the caption is a /command."""
    doc: dict[str, Any] = {"file_id": file_id, "file_unique_id": f"u-{file_id}",
                           "file_name": name, "mime_type": "text/csv"}
    if size is not None:
        doc["file_size"] = size
    data: dict[str, Any] = {"message_id": message_id, "date": ts(at(minutes)),
                            "chat": {"id": GROUP, "type": "supergroup", "title": "Tribe"},
                            "from": sender, "document": doc}
    if caption is not None:
        word = caption.split()[0]
        data["caption"] = caption
        data["caption_entities"] = [{"type": "bot_command", "offset": 0,
                                     "length": len(word)}]
    return data


def answers(bot: Harness, message_id: int) -> list[str]:
    return [str(p.get("text")) for p in bot.fake.sent()
            if (p.get("reply_parameters") or {}).get("message_id") == message_id]


async def test_a_path_typed_after_points_import_is_never_read(bot: Harness,
                                                              tmp_path: Path) -> None:
    bot.fake.admins.add((GROUP, 7))
    secret = tmp_path / "secret.csv"
    secret.write_text("hunter2-token,1\n1,500\n", encoding="utf-8")
    await bot.send({"message": command(MONA, 11, f"/points import {secret}", at(1))})
    [answer] = answers(bot, 11)
    assert answer == ("/points import: attach the file to the command's message; I never "
                      "open a file named in a command.")
    assert "hunter2" not in answer
    assert await bot.points(1) == 0
    assert bot.fake.calls_to("getFile") == []


async def test_a_csv_sent_with_the_command_as_caption_is_imported(bot: Harness) -> None:
    bot.fake.admins.add((GROUP, 7))
    file_id = bot.fake.add_file(POINTS)
    await bot.send({"message": document(MONA, 11, 1, file_id, size=len(POINTS),
                                        caption="/points import")})
    assert answers(bot, 11) == ["Imported points for 2 members."]
    assert await bot.points(1) == 40 and await bot.points(2) == 15
    assert bot.fake.downloads == [f"documents/{file_id}"]
    assert ("imported", 40) in await bot.reasons(1)


async def test_replying_to_a_csv_with_the_command_imports_it(bot: Harness) -> None:
    bot.fake.admins.add((GROUP, 7))
    file_id = bot.fake.add_file(POINTS)
    sent = document(ALICE, 10, 0, file_id, size=len(POINTS))
    await bot.send({"message": sent},
                   {"message": command(MONA, 11, "/points import", at(1), reply_to=sent)})
    assert answers(bot, 11) == ["Imported points for 2 members."]
    assert await bot.points(2) == 15


async def test_a_file_over_the_limit_is_refused_before_downloading(bot: Harness) -> None:
    bot.fake.admins.add((GROUP, 7))
    file_id = bot.fake.add_file(POINTS)
    await bot.send({"message": document(MONA, 11, 1, file_id, size=3_500_000,
                                        caption="/points import")})
    assert answers(bot, 11) == ["/points import: “points.csv” is 3.5 MB; a file for this "
                                "command can be at most 2.0 MB."]
    assert bot.fake.calls_to("getFile") == [] and await bot.points(1) == 0


async def test_a_file_telegram_will_not_serve_gets_a_sentence(bot: Harness) -> None:
    bot.fake.admins.add((GROUP, 7))
    await bot.send({"message": document(MONA, 11, 1, "no-such-file",
                                        caption="/points import")})
    assert answers(bot, 11) == ["/points import: I could not download “points.csv”; attach "
                                "it again."]


async def test_a_member_s_file_for_a_moderator_command_is_not_downloaded(bot: Harness) -> None:
    file_id = bot.fake.add_file(POINTS)
    await bot.send({"message": document(ALICE, 11, 1, file_id, caption="/points import")})
    [answer] = answers(bot, 11)
    assert "only moderators" in answer
    assert bot.fake.calls_to("getFile") == [] and await bot.points(1) == 0


async def test_a_file_with_an_ordinary_caption_is_conversation(bot: Harness) -> None:
    file_id = bot.fake.add_file(POINTS)
    data = document(ALICE, 11, 1, file_id)
    data["caption"] = "here are the slides"
    await bot.send({"message": data})
    assert await bot.points(1) == 20 and bot.fake.calls_to("getFile") == []


async def test_the_fake_serves_only_paths_getfile_handed_out(bot: Harness) -> None:
    """As Telegram: no file by guessing its path, none with another token."""
    import aiohttp

    file_id = bot.fake.add_file(POINTS)
    base = f"http://127.0.0.1:{bot.fake.port}/file/bot"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}{bot.fake.token}/documents/{file_id}") as response:
            assert response.status == 404
        await bot.adapter.application.bot.get_file(file_id)
        async with http.get(f"{base}wrong-token/documents/{file_id}") as response:
            assert response.status == 404
        async with http.get(f"{base}{bot.fake.token}/documents/{file_id}") as response:
            assert response.status == 200 and await response.read() == POINTS


async def test_a_photo_sent_with_content_add_is_kept_by_the_bot(fake: FakeBotApi,
                                                               tmp_path: Path) -> None:
    from bot.adapters.telegram.adapter import TelegramAdapter
    from bot.core.clock import SimulatedClock
    from bot.runtime import Runtime
    from cogs.content.cog import ContentCog
    from tests.e2e.telegram.conftest import telegram_settings

    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 60
    fake.admins.add((GROUP, 7))
    file_id = fake.add_file(jpeg)
    photo = [{"file_id": "thumb", "file_unique_id": "t", "width": 90, "height": 90},
             {"file_id": file_id, "file_unique_id": "p", "width": 800, "height": 800,
              "file_size": len(jpeg)}]
    caption = '/content add tips "once 2026-11-03 10:00" Our meetup'
    update = {"message_id": 11, "date": ts(at(1)), "photo": photo, "caption": caption,
              "caption_entities": [{"type": "bot_command", "offset": 0, "length": 8}],
              "chat": {"id": GROUP, "type": "supergroup", "title": "Tribe"}, "from": MONA}
    async with Runtime(telegram_settings(tmp_path, fake), clock=SimulatedClock(START),
                       cogs=[ContentCog]) as runtime:
        adapter = TelegramAdapter(runtime, runtime.settings.telegram, poll_timeout=1)
        await adapter.start()
        try:
            bot = Harness(fake, runtime, adapter)
            await bot.send({"message": update})
            [answer] = answers(bot, 11)
        finally:
            await adapter.stop()
    assert answer.startswith("Scheduled item 1 (tips)")
    assert fake.downloads == [f"documents/{file_id}"]  # the largest size, not the thumbnail
    [kept] = (tmp_path / "test.db.files").glob("*/photo.jpg")
    assert kept.read_bytes() == jpeg
