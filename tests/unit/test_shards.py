"""Shard ranges in the config, and which communities a process owns because of them."""

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings
from bot.ownership import Ownership, discord_shard
from cogs.content.scheduler import JOB_TABLE, job_table


def problems(tmp_path: Path, discord: str) -> list[str]:
    path = tmp_path / "config.toml"
    path.write_text(f"[discord]\n{discord}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    return info.value.problems


@pytest.mark.parametrize(("discord", "problem"), [
    ("shard_ids = [0]", "[discord] shard_ids: needs shard_count, the number of shards "
                        "across every process"),
    ("shard_count = 2\nshard_ids = [0, 2]",
     "[discord] shard_ids: there is no shard 2 with shard_count = 2; shards are numbered "
     "0 to 1"),
    ("shard_count = 2\nshard_ids = [-1]", "[discord] shard_ids: there is no shard -1"),
    ("shard_count = 4\nshard_ids = [1, 3, 1]", "[discord] shard_ids: shard 1 is listed twice"),
    ("shard_count = 2\nshard_ids = []", "[discord] shard_ids: the list is empty"),
    ("shards = 2\nshard_count = 2", "[discord] shards: set either shards or shard_count"),
    ('shards = "auto"\nshard_ids = [0]', "[discord] shards: set either shards or shard_count"),
    ("shards = 0", '[discord] shards: expected "auto" or a number of shards from 1, got 0'),
    ("shards = true",  # not read as one shard
     '[discord] shards: expected "auto" or a number of shards from 1, got True'),
    ("shard_count = 0", "[discord] shard_count: Input should be greater than or equal to 1"),
    ("shard_count = 2\nshard_ids = [true]", "[discord] shard_ids.0: expected a whole number"),
    ('shard_count = 2\nshard_ids = "0"', "[discord] shard_ids: expected a list like [1, 2]"),
])
def test_a_bad_shard_range_is_one_sentence_naming_the_key(
    tmp_path: Path, discord: str, problem: str
) -> None:
    [found] = problems(tmp_path, discord)
    assert found.startswith(f"config.toml: {problem}"), found


def settings(**sections: dict[str, object]) -> Settings:
    return Settings.model_validate(sections)


def test_a_range_of_the_shards_is_a_part_of_the_bot() -> None:
    part = settings(discord={"shard_count": 4, "shard_ids": [1, 3]}).discord
    assert part.sharded and part.shard_ids == (1, 3)
    assert not settings(discord={"shard_count": 4}).discord.sharded, "all four here"
    assert not settings(discord={"shard_count": 2, "shard_ids": [1, 0]}).discord.sharded
    assert not settings(discord={"shards": 3}).discord.sharded


def test_a_guild_belongs_to_the_shard_discord_computes() -> None:
    assert discord_shard(10 << 22, 2) == 0 and discord_shard(11 << 22, 2) == 1
    assert discord_shard(175928847299117063, 16) == (175928847299117063 >> 22) % 16


def test_a_process_owns_only_its_shards_guilds_and_the_platforms_it_connects_to() -> None:
    owner = Ownership.of(settings(discord={"enabled": True, "shard_count": 2,
                                           "shard_ids": [1]}))
    assert owner.owns(f"discord:{11 << 22}") and not owner.owns(f"discord:{10 << 22}")
    assert not owner.owns("telegram:-1001"), "Telegram runs in another process"
    assert owner.owns("console:tribe")
    assert owner.describe() == "Discord shards 1 of 2"


def test_telegram_belongs_to_the_process_that_enables_it() -> None:
    both = Ownership.of(settings(discord={"enabled": True, "shard_count": 2,
                                          "shard_ids": [0]},
                                 telegram={"enabled": True, "token": "1:x"}))
    assert both.owns("telegram:-1001") and both.owns(f"discord:{10 << 22}")
    assert both.describe() == "Discord shards 0 of 2 and Telegram"
    alone = Ownership.of(settings(telegram={"enabled": True, "token": "1:x"}))
    assert alone.owns("telegram:-1001") and not alone.owns(f"discord:{10 << 22}")


def test_one_process_with_every_shard_owns_every_guild() -> None:
    owner = Ownership.of(settings(discord={"enabled": True, "shard_count": 2}))
    assert owner.owns(f"discord:{10 << 22}") and owner.owns(f"discord:{11 << 22}")


def test_without_a_platform_every_community_is_owned() -> None:
    owner = Ownership.of(settings())
    assert owner.owns("discord:1") and owner.owns("telegram:-1") and owner.owns("console:x")


def test_only_a_live_run_sets_communities_aside() -> None:
    """A replay or an import with a sharded config file still sees every community."""
    owner = Ownership()
    assert owner.owns("discord:1") and owner.owns("telegram:-1")
    assert owner.describe() == "every community"


def test_a_process_with_a_shard_range_keeps_its_jobs_apart() -> None:
    assert job_table(Ownership.of(settings())) == JOB_TABLE
    part = Ownership.of(settings(discord={"enabled": True, "shard_count": 4,
                                          "shard_ids": [3, 1]}))
    assert job_table(part) == f"{JOB_TABLE}_shards_1_3_of_4"


def test_check_config_says_which_part_of_the_bot_a_process_serves(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    path = tmp_path / "shard.toml"
    path.write_text('[discord]\nenabled = true\ntoken = "x"\nshard_count = 4\n'
                    "shard_ids = [2, 3]\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check-config", str(path)])
    assert result.exit_code == 0, result.output
    assert "this process serves Discord shards 2, 3 of 4" in " ".join(result.output.split())
    path.write_text('[discord]\nshard_count = 4\nshard_ids = [4]\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["check-config", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert " ".join(result.output.split()) == (
        "shard.toml: [discord] shard_ids: there is no shard 4 with shard_count = 4; shards "
        "are numbered 0 to 3"), result.output
