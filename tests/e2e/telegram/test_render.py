"""render.py: HTML escaping, mentions, splitting at Telegram's limit, the command menu."""

from __future__ import annotations

from typing import Any

from bot.adapters.telegram.render import TEXT_LIMIT, command_menu, render_chunks, render_html
from bot.core.commands import Command, Reply
from bot.core.text import Mention, MessageLink, RichText, plain


def test_user_text_is_escaped_and_mentions_link_to_the_user() -> None:
    text = RichText(("<b>hi</b> & ", Mention("telegram:42", "Dan <3"), "!"))
    assert render_html(text) == ('&lt;b&gt;hi&lt;/b&gt; &amp; '
                                 '<a href="tg://user?id=42">Dan &lt;3</a>!')


def test_mention_of_another_platform_is_plain_text() -> None:
    assert render_html(RichText((Mention("console:bob", "Bob"),))) == "@Bob"


def test_message_link_points_into_the_supergroup_and_topic() -> None:
    in_topic = MessageLink("telegram:-1001234", "telegram:-1001234:topic:42",
                           "telegram:-1001234:77", "open <it>")
    in_basic_group = MessageLink("telegram:-55", "telegram:-55", "telegram:-55:3", "open")
    assert render_html(RichText((in_topic,))) == (
        '<a href="https://t.me/c/1234/42/77">open &lt;it&gt;</a>')
    assert render_html(RichText((in_basic_group,))) == "open"


def test_short_text_is_one_message() -> None:
    assert render_chunks(plain("hello\nworld")) == ["hello\nworld"]


def test_long_text_splits_at_line_breaks_within_the_limit() -> None:
    lines = [f"{n:04d} " + "y" * 95 for n in range(100)]  # 10 000 characters
    chunks = render_chunks(plain("\n".join(lines)))
    assert len(chunks) == 3
    assert all(len(c) <= TEXT_LIMIT for c in chunks)
    assert "\n".join(chunks).split("\n") == lines, "no line is cut in two"


def test_escaping_never_pushes_a_chunk_over_the_limit() -> None:
    chunks = render_chunks(plain("<" * 5000))
    assert all(len(c) <= TEXT_LIMIT for c in chunks)
    assert "".join(chunks) == "&lt;" * 5000


def test_a_mention_is_never_split() -> None:
    text = RichText(("a " * 2040, Mention("telegram:7", "Zed"), " tail"))
    chunks = render_chunks(text, limit=4096)
    assert any('<a href="tg://user?id=7">Zed</a>' in c for c in chunks)


def test_limit_counts_utf16_units() -> None:
    chunks = render_chunks(plain("😀" * 3000))  # 6000 UTF-16 units
    assert all(len(c.encode("utf-16-le")) // 2 <= TEXT_LIMIT for c in chunks)
    assert "".join(chunks) == "😀" * 3000


async def _noop(_: Any) -> Reply:
    return Reply(plain(""))


def test_command_menu_groups_words_and_hides_moderator_commands() -> None:
    commands = [
        Command(("rank",), "Your rank", _noop),
        Command(("points", "history"), "Why", _noop),
        Command(("points", "give"), "Give", _noop, moderator=True),
        Command(("season", "close"), "Close", _noop, moderator=True),
        Command(("Bad-Name",), "Telegram rejects it", _noop),
    ]
    members = {e.command: e.description for e in command_menu(commands, moderator=False)}
    moderators = {e.command: e.description for e in command_menu(commands, moderator=True)}
    assert members == {"rank": "Your rank", "points": "history"}
    assert moderators == {"rank": "Your rank", "points": "history, give", "season": "close"}
