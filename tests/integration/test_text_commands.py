"""Typed commands through the one pipeline (``bot/core/text_commands.py``), on the
console: the rules every adapter shares."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Community


async def test_a_members_file_for_a_moderator_command_is_refused_unread(
    tribe: Community, tmp_path: Path,
) -> None:
    await tribe.open("ann")
    missing = tmp_path / "never-read.csv"  # reading it would answer "I cannot read …"
    assert await tribe.command("ann", "/points import", files=[missing]) == \
        "Sorry, only moderators can use /points import."


async def test_a_moderators_file_is_read(tribe: Community, tmp_path: Path) -> None:
    await tribe.open("ann")
    missing = tmp_path / "missing.csv"
    reply = await tribe.command("mod", "/points import", files=[missing])
    assert reply.startswith("I cannot read the attached file"), reply


async def test_wrong_words_are_answered_before_the_rights(tribe: Community) -> None:
    await tribe.open("ann")
    assert "amount is missing" in await tribe.command("ann", "/points give @Ann")


async def test_an_unknown_command_is_named_in_the_answer(tribe: Community) -> None:
    await tribe.open()
    assert await tribe.command("mod", "/dance now") == \
        "I don't know the command “/dance now”."
