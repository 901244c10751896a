"""Owner templates: bare placeholders only, and no longer than a post on the platform."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from tests.conftest import COMMUNITY, Community


async def test_welcome_set_refuses_a_format_spec(tribe: Community) -> None:
    await tribe.open()
    reply = await tribe.command("mod", "/welcome set Hi {name:>50000000}")
    assert reply == ("The welcome text was not changed: {name:>50000000} is not a bare "
                     "placeholder; write it as {name}, without a format, conversion, "
                     "attribute or index.")
    assert "Welcome to Tribe" in await tribe.command("mod", "/welcome test")


async def test_welcome_set_refuses_a_text_longer_than_a_post(tribe: Community) -> None:
    await tribe.open()
    reply = await tribe.command("mod", "/welcome set Hi {member} " + "x" * 4100)
    assert reply == ("The welcome text was not changed: The text has 4112 characters; "
                     "console allows at most 4096. Shorten it by 16.")


async def test_a_stored_spec_builds_no_huge_welcome(tribe: Community) -> None:
    """A template an older version accepted is rendered with its values as they are."""
    await tribe.open()
    tribe.runtime.communities.set(COMMUNITY, "welcome.template.en",
                                          "Hi {name:>50000000}!")
    started = time.perf_counter()
    reply = await tribe.command("mod", "/welcome test")
    assert time.perf_counter() - started < 1
    assert reply == "Hi Mod!"


async def test_level_up_template_refuses_specs_and_length(tribe: Community) -> None:
    await tribe.open()
    reply = await tribe.command("mod", "/engagement set level_up_template {level!r} {member}")
    assert reply == ("level_up_template was not changed: {level!r} is not a bare placeholder; "
                     "write it as {level}, without a format, conversion, attribute or index.")
    reply = await tribe.command("mod", "/engagement set level_up_template " + "y" * 4097)
    assert reply.startswith("level_up_template was not changed: The text has 4097 characters")
    assert tribe.runtime.communities.overrides(COMMUNITY, "engagement") == {}


async def test_hebrew_moderators_hear_the_problem_in_hebrew(tribe: Community) -> None:
    await tribe.open()
    await tribe.command("mod", "/community language he")
    reply = await tribe.command("mod", "/welcome set שלום {name:^999999}")
    assert "{name:^999999}" in reply and "bare placeholder" not in reply


def test_config_level_up_template_is_checked(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[engagement]\nlevel_up_template = "{member:>999999} up"\n'
                      '[bot]\ntimezone = "Nowhere"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, env={})
    assert caught.value.problems == [
        "config.toml: [bot] timezone: unknown time zone 'Nowhere'; use an IANA name such as "
        "'Asia/Jerusalem' or 'UTC'",
        "config.toml: [engagement] level_up_template: {member:>999999} is not a bare "
        "placeholder; write it as {member}, without a format, conversion, attribute or index.",
    ]
