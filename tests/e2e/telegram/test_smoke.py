from __future__ import annotations

from datetime import timedelta

from tests.conftest import START
from tests.e2e.telegram.conftest import Harness
from tests.e2e.telegram.updates import message, user

ALICE = user(1, "Alice", "alice")


async def test_message_earns_points(bot: Harness) -> None:
    await bot.send({"message": message(ALICE, 10, "hello there friends", START + timedelta(1))})
    assert await bot.points(1) == 20
