"""End to end: real python-telegram-bot Application <-> fake Bot API, real runtime,
real engagement cog, temporary SQLite database. No network beyond 127.0.0.1."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from PIL import Image

from bot.adapters.telegram.adapter import DM_CLOSED, TelegramAdapter
from bot.adapters.telegram.ids import member_id, message_id
from bot.config import TelegramSection
from bot.core.actions import CreateInvite, DeleteMessage, DirectMessage, Post
from bot.core.clock import SimulatedClock
from bot.core.text import plain
from bot.runtime import Runtime
from cogs.welcome.cog import WelcomeCog
from tests.conftest import START, SeededEngagement
from tests.e2e.telegram.conftest import COMMUNITY, Harness, telegram_settings, until
from tests.e2e.telegram.fake_bot_api import BOT_USER, TOKEN, FakeBotApi
from tests.e2e.telegram.updates import (
    GROUP,
    bot_change,
    command,
    group,
    invite_link,
    member_change,
    message,
    reaction,
    ts,
    user,
)

MONA = user(7, "Mona", "mona")  # the group's admin
ALICE = user(1, "Alice", "alice")
BOB = user(2, "Bob", "bob")
CAROL = user(3, "Carol")  # no @username


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def said(sender: dict[str, Any], message_id: int, minutes: float, text: str = "hello there "
         "friends", **extra: Any) -> dict[str, Any]:
    return {"message": message(sender, message_id, text, at(minutes), **extra)}


def typed(sender: dict[str, Any], message_id: int, minutes: float, text: str,
          **extra: Any) -> dict[str, Any]:
    return {"message": command(sender, message_id, text, at(minutes), **extra)}


def replies_to(bot: Harness, message_id: int) -> list[dict[str, Any]]:
    return [p for p in bot.fake.sent()
            if (p.get("reply_parameters") or {}).get("message_id") == message_id]


# -- the bot joins and leaves groups -----------------------------------------------------
async def test_bot_added_as_admin_stores_the_community(bot: Harness) -> None:
    await bot.send(bot_change("left", "administrator", at(0), MONA))
    rows = {c.id: c for c in await bot.runtime.repository.communities()}
    assert rows[COMMUNITY].name == "Tribe"
    assert rows[COMMUNITY].left_at is None
    assert bot.fake.sent() == [], "an admin needs no 'make me admin' note"


async def test_bot_added_without_admin_rights_asks_for_them(bot: Harness) -> None:
    await bot.send(bot_change("left", "member", at(0), MONA))
    [note] = bot.fake.sent()
    assert note["chat_id"] == GROUP
    assert "administrator" in note["text"] and "reactions" in note["text"]


async def test_bot_removed_marks_the_community_left(bot: Harness) -> None:
    await bot.send(bot_change("left", "administrator", at(0), MONA),
                   bot_change("administrator", "kicked", at(5), MONA))
    rows = {c.id: c for c in await bot.runtime.repository.communities()}
    assert rows[COMMUNITY].left_at is not None


# -- members -----------------------------------------------------------------------------
async def test_member_joining_by_invite_link_is_recorded_with_the_inviter(bot: Harness) -> None:
    link = invite_link(ALICE, name="friends")
    service = message(CAROL, 20, "", at(1), new_chat_members=[CAROL])
    del service["text"]
    await bot.send({"chat_member": member_change(CAROL, "left", "member", at(1),
                                                 invite_link=link)},
                   {"message": service})
    repo = bot.runtime.repository
    invites = await repo.rows("SELECT member_id, inviter_id, code FROM invites "
                              "WHERE community_id = ?", (COMMUNITY,))
    assert [tuple(r) for r in invites] == [(member_id(3), member_id(1), "friends")]
    joins = await repo.rows("SELECT count(*) FROM member_events WHERE community_id = ? "
                            "AND member_id = ? AND kind = 'joined'", (COMMUNITY, member_id(3)))
    assert joins[0][0] == 1, "chat_member and the service message are one join"
    names = await repo.member_names(COMMUNITY, [member_id(3)])
    assert names == {member_id(3): "Carol"}


async def test_personal_invite_link_credits_the_member_it_was_made_for(bot: Harness) -> None:
    delivery = await bot.adapter.deliver(CreateInvite(community=COMMUNITY, member=member_id(1)))
    [call] = bot.fake.calls_to("createChatInviteLink")
    assert delivery.ok and delivery.message and delivery.message.startswith("https://t.me/+")
    link = invite_link(BOT_USER, delivery.message, name=call.params["name"])
    await bot.send({"chat_member": member_change(BOB, "left", "member", at(1),
                                                 invite_link=link)})
    invites = await bot.runtime.repository.rows(
        "SELECT member_id, inviter_id FROM invites WHERE community_id = ?", (COMMUNITY,))
    assert [tuple(r) for r in invites] == [(member_id(2), member_id(1))]


async def test_member_leaving_is_recorded(bot: Harness) -> None:
    await bot.send({"chat_member": member_change(BOB, "left", "member", at(1))},
                   {"chat_member": member_change(BOB, "member", "left", at(9))})
    rows = await bot.runtime.repository.rows(
        "SELECT kind FROM member_events WHERE member_id = ? ORDER BY at", (member_id(2),))
    assert [r[0] for r in rows] == ["joined", "left"]


# -- messages, replies, reactions ------------------------------------------------------
async def test_messages_replies_and_reactions_earn_points(bot: Harness) -> None:
    alice_post = message(ALICE, 10, "who knows a good bakery?", at(0))
    await bot.send({"message": alice_post},
                   said(BOB, 11, 2, "the one on Main Street", reply_to=alice_post),
                   reaction(ALICE, 11, at(3), [], ["👍"]))
    assert await bot.points(1) == 20
    assert await bot.reasons(2) == [("message", 20), ("reply", 5),
                                    ("reaction_received", 2), ("helpful_answer", 10)]
    assert await bot.points(2) == 37


async def test_changing_a_reaction_removes_one_and_adds_the_other(bot: Harness) -> None:
    await bot.send(said(BOB, 11, 0), reaction(ALICE, 11, at(1), [], ["👍"]),
                   reaction(ALICE, 11, at(2), ["👍"], ["❤"]))
    reasons = await bot.reasons(2)
    assert ("reaction_removed", -2) in reasons
    assert reasons.count(("reaction_received", 2)) == 2
    assert await bot.points(2) == 22


async def test_anonymous_reaction_counts_are_recorded_without_points(bot: Harness) -> None:
    await bot.send(said(BOB, 11, 0), {"message_reaction_count": {
        "chat": group(), "message_id": 11, "date": ts(at(2)),
        "reactions": [{"type": {"type": "emoji", "emoji": "🔥"}, "total_count": 3},
                      {"type": {"type": "emoji", "emoji": "👍"}, "total_count": 1}]}})
    rows = await bot.runtime.repository.rows(
        "SELECT message_id, counts, total FROM reaction_counts WHERE community_id = ?",
        (COMMUNITY,))
    assert [tuple(r) for r in rows] == [(message_id(GROUP, 11), '{"🔥": 3, "👍": 1}', 4)]
    assert await bot.points(2) == 20  # counts earn nobody points


async def test_reacting_to_your_own_message_earns_nothing(bot: Harness) -> None:
    await bot.send(said(BOB, 11, 0), reaction(BOB, 11, at(1), [], ["🔥"]))
    assert await bot.points(2) == 20


async def test_redelivered_update_is_counted_once(bot: Harness) -> None:
    await bot.send(said(BOB, 11, 0))
    replay = {"message": message(BOB, 11, "hello there friends", at(0))}
    await bot.send(replay)  # same message id again (new update id, same message)
    assert await bot.points(2) == 20


async def test_messages_from_bots_earn_nothing(bot: Harness) -> None:
    await bot.send(said(user(50, "Helper", "helperbot", is_bot=True), 12, 0))
    assert await bot.points(50) == 0


async def test_forum_topic_message_is_in_its_topic_and_is_no_reply(bot: Harness) -> None:
    forum = group(forum=True)
    root = {"message_id": 42, "date": int(at(0).timestamp()), "chat": forum,
            "from": MONA, "forum_topic_created": {"name": "Ideas", "icon_color": 7322096}}
    await bot.send(said(ALICE, 43, 1, chat=forum, thread=42, reply_to=root))
    rows = await bot.runtime.repository.rows(
        "SELECT channel_id, reply_to_id FROM messages WHERE author_id = ?", (member_id(1),))
    assert [tuple(r) for r in rows] == [(f"telegram:{GROUP}:topic:42", None)]
    assert await bot.points(1) == 20


async def test_edit_is_recorded(bot: Harness) -> None:
    await bot.send(said(ALICE, 10, 0))
    edited = message(ALICE, 10, "hello there, friends!", at(0), edit_date=int(at(1).timestamp()))
    await bot.send({"edited_message": edited})
    rows = await bot.runtime.repository.rows(
        "SELECT edited_at FROM messages WHERE author_id = ?", (member_id(1),))
    assert rows[0][0] is not None


# -- commands ----------------------------------------------------------------------------
async def test_rank_and_top_answer_in_the_chat(bot: Harness) -> None:
    await bot.send(said(ALICE, 10, 0), typed(ALICE, 11, 2, "/rank"),
                   typed(BOB, 12, 3, "/top@TribeBot"))
    [rank] = replies_to(bot, 11)
    assert rank["chat_id"] == GROUP and rank["parse_mode"] == "HTML"
    assert '<a href="tg://user?id=1">Alice</a>' in rank["text"]
    assert "20 points" in rank["text"]
    [top] = replies_to(bot, 12)
    assert "1. Alice — 20" in top["text"]


async def test_command_for_another_bot_is_ignored(bot: Harness) -> None:
    await bot.send(typed(ALICE, 11, 0, "/rank@OtherBot"), typed(ALICE, 12, 1, "/weather"))
    assert bot.fake.sent() == []
    assert await bot.points(1) == 0, "a command is not conversation"


async def test_moderator_command_from_a_member_is_refused(bot: Harness) -> None:
    await bot.send(said(ALICE, 10, 0), typed(BOB, 11, 1, "/points give @alice 50 thanks"))
    [answer] = replies_to(bot, 11)
    assert "only moderators" in answer["text"]
    assert await bot.points(1) == 20
    assert [c.params["user_id"] for c in bot.fake.calls_to("getChatMember")] == [2]


async def test_moderator_command_from_an_admin_works(bot: Harness) -> None:
    bot.fake.admins.add((GROUP, 7))
    await bot.send(said(ALICE, 10, 0), typed(MONA, 11, 1, "/points give @alice 50 thanks"))
    [answer] = replies_to(bot, 11)
    assert "Gave 50 points" in answer["text"]
    assert await bot.points(1) == 70
    assert ("moderator", 50) in await bot.reasons(1)


async def test_a_command_sent_again_runs_once_even_after_a_restart(
        fake: FakeBotApi, tmp_path: Path) -> None:
    """Telegram sends an update again when the bot did not confirm it (a stop before the
    next getUpdates, a webhook answered late): a moderator's grant is given once, and
    answered once, whether the bot is still running or was restarted in between."""
    fake.admins.add((GROUP, 7))
    grant = typed(MONA, 11, 1, "/points give @alice 50 thanks")
    totals = []
    for _ in range(2):  # the second round is a restart on the same database
        rt = Runtime(telegram_settings(tmp_path, fake), clock=SimulatedClock(START),
                     cogs=[SeededEngagement])
        await rt.start()
        adapter = TelegramAdapter(rt, rt.settings.telegram, poll_timeout=1)
        await adapter.start()
        harness = Harness(fake, rt, adapter)
        try:
            await harness.send(said(ALICE, 10, 0), grant, grant)
            totals.append(await harness.points(1))
        finally:
            await adapter.stop()
            await rt.stop()
    assert totals == [70, 70]
    assert [p["text"] for p in replies_to(harness, 11)] == [
        'Gave 50 points to <a href="tg://user?id=1">Alice</a>.']


async def test_admin_gives_points_by_replying_or_text_mention(bot: Harness) -> None:
    bot.fake.admins.add((GROUP, 7))
    carol_post = message(CAROL, 10, "I fixed the wiki", at(0))
    mention = {"type": "text_mention", "offset": 13, "length": 5, "user": CAROL}
    await bot.send({"message": carol_post},
                   typed(MONA, 11, 1, "/points give 5 for the wiki", reply_to=carol_post),
                   typed(MONA, 12, 2, "/points give Carol 7 again", entities=[mention]))
    assert await bot.points(3) == 32
    assert len(bot.fake.calls_to("getChatMember")) == 1, "admin rights are cached"


async def test_bad_arguments_get_a_usage_answer(bot: Harness) -> None:
    bot.fake.admins.add((GROUP, 7))
    await bot.send(typed(MONA, 11, 1, "/points give @nobody 5 hi"))
    [answer] = replies_to(bot, 11)
    assert "can't find the member" in answer["text"]


async def test_commands_are_registered_per_scope(bot: Harness) -> None:
    menus = {c.params["scope"]["type"]: {e["command"]: e["description"]
                                         for e in c.params["commands"]}
             for c in bot.fake.calls_to("setMyCommands")}
    assert set(menus) == {"all_group_chats", "all_chat_administrators"}
    assert {"rank", "top", "points"} <= set(menus["all_group_chats"])
    assert "give" not in menus["all_group_chats"]["points"]
    assert "give" in menus["all_chat_administrators"]["points"]
    assert "season" in menus["all_chat_administrators"]


async def test_private_chat_command_points_to_the_group(bot: Harness) -> None:
    private = {"id": 1, "type": "private", "first_name": "Alice"}
    await bot.send(typed(ALICE, 3, 0, "/start", chat=private))
    [answer] = bot.fake.sent()
    assert answer["chat_id"] == 1
    assert [c.id for c in await bot.runtime.repository.communities()] == []


# -- sending ---------------------------------------------------------------------------
async def test_retry_after_is_waited_out_and_the_message_arrives(bot: Harness) -> None:
    bot.fake.failures["sendMessage"] = [{
        "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1}}]
    started = time.monotonic()
    delivery = await bot.adapter.deliver(Post(community=COMMUNITY, channel=COMMUNITY,
                                              text=plain("still here")))
    assert delivery.ok
    first, second = bot.fake.calls_to("sendMessage")
    assert second.at - first.at >= 1.0
    assert time.monotonic() - started >= 1.0
    assert second.params["text"] == "still here"


async def test_long_text_is_split_at_the_limit(bot: Harness) -> None:
    text = "\n".join(f"line {n} " + "x" * 90 for n in range(120))  # ~12 000 characters
    delivery = await bot.adapter.deliver(Post(community=COMMUNITY, channel=COMMUNITY,
                                              text=plain(text)))
    sent = bot.fake.sent()
    assert delivery.ok and len(sent) == 3
    assert all(len(p["text"]) <= 4096 for p in sent)
    assert "\n".join(p["text"] for p in sent) == text


async def test_post_to_a_topic_escapes_html_and_replies(bot: Harness) -> None:
    delivery = await bot.adapter.deliver(Post(
        community=COMMUNITY, channel=f"telegram:{GROUP}:topic:42",
        text=plain("<b>not bold</b> & co"), reply_to=f"telegram:{GROUP}:77"))
    [sent] = bot.fake.sent()
    assert sent["message_thread_id"] == 42
    assert sent["text"] == "&lt;b&gt;not bold&lt;/b&gt; &amp; co"
    assert sent["reply_parameters"]["message_id"] == 77
    assert delivery.message == f"telegram:{GROUP}:{5001}"


async def test_post_with_a_file_is_sent_as_a_photo(bot: Harness, tmp_path: Path) -> None:
    chart = tmp_path / "summary.png"
    Image.new("RGB", (64, 48), "white").save(chart)
    delivery = await bot.adapter.deliver(Post(community=COMMUNITY, channel=COMMUNITY,
                                              text=plain("This week"), file=chart))
    [photo] = bot.fake.calls_to("sendPhoto")
    assert delivery.ok and photo.params["caption"] == "This week"
    assert photo.params["photo"].filename == "summary.png"


async def test_dm_to_a_member_who_never_started_the_bot_gets_a_hint(bot: Harness) -> None:
    bot.fake.closed_dms.add(2)
    await bot.send(said(BOB, 10, 0))
    dm = DirectMessage(community=COMMUNITY, member=member_id(2), text=plain("your digest"))
    first = await bot.adapter.deliver(dm)
    second = await bot.adapter.deliver(dm)
    assert (first.ok, first.error) == (False, DM_CLOSED)
    assert (second.ok, second.error) == (False, DM_CLOSED)
    hints = [p for p in bot.fake.sent() if p["chat_id"] == GROUP]
    assert len(hints) == 1, "one hint, not one per failed message"
    assert '<a href="tg://user?id=2">Bob</a>' in hints[0]["text"]
    assert "start me in private" in hints[0]["text"]


async def test_dm_to_a_member_who_started_the_bot_arrives(bot: Harness) -> None:
    delivery = await bot.adapter.deliver(DirectMessage(
        community=COMMUNITY, member=member_id(1), text=plain("your digest")))
    [sent] = bot.fake.sent()
    assert delivery.ok and sent["chat_id"] == 1


async def test_delete_message(bot: Harness) -> None:
    delivery = await bot.adapter.deliver(DeleteMessage(
        community=COMMUNITY, channel=COMMUNITY, message=f"telegram:{GROUP}:55"))
    [call] = bot.fake.calls_to("deleteMessage")
    assert delivery.ok and (call.params["chat_id"], call.params["message_id"]) == (GROUP, 55)


# -- webhook -----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_rejects_a_wrong_secret(fake: FakeBotApi, runtime: Runtime) -> None:
    port = free_port()
    settings = TelegramSection.model_validate({
        "enabled": True, "token": TOKEN, "api_base_url": fake.api_base_url, "mode": "webhook",
        "webhook": {"listen": "127.0.0.1", "port": port, "url": "https://bot.example/tg-hook",
                    "secret_token": "right-secret"}})
    adapter = TelegramAdapter(runtime, settings)
    await adapter.start()
    try:
        [hook] = fake.calls_to("setWebhook")
        assert hook.params["url"] == "https://bot.example/tg-hook"
        assert hook.params["secret_token"] == "right-secret"
        update = {"update_id": 1, **said(ALICE, 10, 0)}
        url = f"http://127.0.0.1:{port}/tg-hook"
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json=update, headers={
                    "X-Telegram-Bot-Api-Secret-Token": "wrong"}) as response:
                assert response.status == 403
            async with session.post(url, json=update) as response:
                assert response.status == 403, "a missing secret is wrong too"
            assert adapter.handled_updates == 0 and runtime.bus.published == 0
            async with session.post(url, json=update, headers={
                    "X-Telegram-Bot-Api-Secret-Token": "right-secret"}) as response:
                assert response.status == 200
        await until(lambda: adapter.handled_updates == 1, what="the genuine update")
        await runtime.bus.drain()  # (the cogs' own derived events count as published too)
        assert await runtime.repository.rows("SELECT message_id FROM messages") == \
            [("telegram:-1001234:10",)]
    finally:
        await adapter.stop()


# -- with the welcome cog ----------------------------------------------------------------
async def test_member_joining_by_invite_link_is_welcomed_in_the_group(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    runtime = Runtime(telegram_settings(tmp_path, fake), cogs=[WelcomeCog, SeededEngagement])
    await runtime.start()
    adapter = TelegramAdapter(runtime, runtime.settings.telegram, poll_timeout=1)
    await adapter.start()
    bot = Harness(fake, runtime, adapter)
    try:
        await bot.send(bot_change("left", "administrator", at(0), MONA),
                       {"chat_member": member_change(CAROL, "left", "member", at(1),
                                                     invite_link=invite_link(ALICE))})
        await until(lambda: any("tg://user?id=3" in t for t in bot.texts()),
                    what="a welcome mentioning Carol")
        [welcome] = [p for p in fake.sent() if "tg://user?id=3" in p["text"]]
        assert welcome["chat_id"] == GROUP
    finally:
        await adapter.stop()
        await runtime.stop()
