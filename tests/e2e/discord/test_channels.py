"""Channel arguments as a Discord moderator types them: a picked mention (``<#502>``), a
name, an id or ``here``; stored as ids; anything else refused with a sentence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord.translate import channel_id
from bot.core.clock import SimulatedClock
from bot.runtime import Runtime
from cogs.moderation.cog import ModerationCog
from cogs.summary.cog import SummaryCog
from cogs.welcome.cog import WelcomeCog
from tests.conftest import START, SeededEngagement
from tests.e2e.discord.conftest import COMMUNITY, Harness, discord_settings
from tests.e2e.discord.fake_discord import FakeDiscord
from tests.e2e.discord.payloads import (
    GENERAL,
    MANAGE_GUILD,
    MONA,
    OWNERS,
    THREAD,
    interaction,
    message,
    snowflake,
)


@pytest.fixture
def settings_sections() -> dict[str, Any]:
    return {"discord": {"prefix_commands": True}}


@pytest.fixture
async def runtime(tmp_path: Path, fake: FakeDiscord,
                  settings_sections: dict[str, Any]) -> AsyncIterator[Runtime]:
    rt = Runtime(discord_settings(tmp_path, fake, **settings_sections),
                 clock=SimulatedClock(START),
                 cogs=[SeededEngagement, ModerationCog, WelcomeCog, SummaryCog])
    await rt.start()
    yield rt
    await rt.stop()


class Typing:
    """Mona types commands in #general, one message each."""

    def __init__(self, bot: Harness) -> None:
        self.bot = bot
        self.n = 0

    async def __call__(self, text: str, channel: int = GENERAL) -> str:
        self.n += 1
        data = message(snowflake(START + timedelta(minutes=self.n)), MONA, text,
                       channel=channel)
        await self.bot.send("MESSAGE_CREATE", data)
        answers = self.bot.fake.sent("POST", rf"/channels/{channel}/messages")
        return str(answers[-1].body["content"]).replace("\\", "")  # markdown escapes


async def test_every_channel_setting_takes_a_mention_a_name_an_id_or_here(
    bot: Harness,
) -> None:
    say = Typing(bot)
    stored = bot.runtime.communities
    assert "<#501>" in await say("!welcome channel general")
    assert "<#502>" in await say("!community owners <#502>")
    assert "<#502>" in await say(f"!summary channel {OWNERS}")
    assert "<#503>" in await say("!welcome rules here", channel=THREAD)
    assert "#general, #owners" in await say("!engagement set excluded_channels <#501>, Owners")
    assert "#questions" in await say("!engagement set level_up_channel #questions")
    assert stored.get(COMMUNITY, "welcome.channel") == channel_id(GENERAL)
    assert stored.get(COMMUNITY, "owners_channel") == channel_id(OWNERS)
    assert stored.get(COMMUNITY, "summary.channel") == channel_id(OWNERS)
    assert stored.get(COMMUNITY, "welcome.rules_channel") == channel_id(THREAD)
    assert stored.get(COMMUNITY, "engagement.excluded_channels") == [channel_id(GENERAL),
                                                                      channel_id(OWNERS)]
    assert stored.get(COMMUNITY, "engagement.level_up_channel") == channel_id(THREAD)
    await say("!engagement set level_up_channel none")
    assert stored.get(COMMUNITY, "engagement.level_up_channel") == ""


@pytest.mark.parametrize("where", ["#nowhere", "<#999>", "999", "general-chat"])
async def test_a_channel_that_is_not_in_this_guild_is_refused(
    bot: Harness, where: str,
) -> None:
    say = Typing(bot)
    assert f"I can't find the channel “{where}” here" in await say(f"!welcome channel {where}")
    refusal = await say(f"!engagement set excluded_channels general {where}")
    assert f"I can't find the channel “{where}” here" in refusal
    assert bot.runtime.communities.get(COMMUNITY, "welcome.channel") is None
    assert bot.runtime.communities.get(COMMUNITY, "engagement.excluded_channels") is None


async def test_the_slash_command_resolves_channels_typed_in_a_text_value(bot: Harness) -> None:
    answer = await bot.run(interaction(
        8, MONA, "engagement", sub="set", permissions=MANAGE_GUILD,
        options=({"type": 3, "name": "key", "value": "excluded_channels"},
                 {"type": 3, "name": "value", "value": "<#502>, questions"})))
    shown = answer.body["data"]["content"].replace("\\", "")  # markdown escapes
    assert "excluded_channels is now #owners, #questions." in shown
    assert bot.runtime.communities.get(COMMUNITY, "engagement.excluded_channels") == [
        channel_id(OWNERS), channel_id(THREAD)]
