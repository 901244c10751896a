"""Commands declared on their handlers with @command, as the cogs do."""

from typing import Any

from bot.core.cog import Cog, command
from bot.core.commands import Invocation, Option, OptionKind, Reply

WHO = Option("member", OptionKind.MEMBER, "The member")


class Base(Cog):
    name = "base"

    @command("points give", "Give points", WHO, moderator=True)
    async def cmd_give(self, inv: Invocation) -> Reply:
        return Reply(inv.community)

    async def helper(self, inv: Invocation) -> Reply:  # not a command
        return Reply("")

    @command("rank", "Your rank")
    async def cmd_rank(self, inv: Invocation) -> Reply:
        return Reply("base")


class Child(Base):
    @command("top", "The leaderboard")
    async def cmd_top(self, inv: Invocation) -> Reply:
        return Reply("")

    @command("rank", "Your rank, with streaks")
    async def cmd_rank(self, inv: Invocation) -> Reply:
        return Reply("child")


def cog(cls: type[Cog]) -> Any:
    return cls(ctx=None)  # type: ignore[arg-type]  # commands() needs no context


def test_commands_are_found_in_the_order_written_with_what_they_declare() -> None:
    base = cog(Base)
    commands = base.commands()
    assert [c.name for c in commands] == ["points give", "rank"]
    give = commands[0]
    assert (give.path, give.description, give.options, give.moderator) == (
        ("points", "give"), "Give points", (WHO,), True)
    assert give.handler == base.cmd_give, "bound to the cog"
    assert commands[1].moderator is False and commands[1].options == ()


def test_a_subclass_adds_commands_after_its_base_and_an_override_keeps_its_place() -> None:
    child = cog(Child)
    commands = child.commands()
    assert [c.name for c in commands] == ["points give", "rank", "top"]
    assert commands[1].description == "Your rank, with streaks"
    assert commands[1].handler == child.cmd_rank


def test_a_cog_without_commands_has_none() -> None:
    assert cog(Cog).commands() == []
