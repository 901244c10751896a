from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), env=env or {})
    return info.value.problems


def test_defaults_need_no_file() -> None:
    settings = load_settings(None, env={})
    assert settings.storage.url == "sqlite:///tribebot.db"
    assert settings.privacy.store_message_text is False


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    found = problems(tmp_path, """
[bot]
timezone = "Mars/Olympus"
[storage]
batch_size = "many"
[engagement]
cooldown_seconds = -5
""")
    assert len(found) == 3
    assert any("[bot] timezone: unknown time zone 'Mars/Olympus'" in p for p in found)
    assert any("[storage] batch_size: expected a whole number, got 'many'" in p for p in found)
    assert any("[engagement] cooldown_seconds:" in p for p in found)
    assert all(p.startswith("config.toml: ") for p in found)


def test_unknown_key_is_an_error_naming_the_valid_keys(tmp_path: Path) -> None:
    found = problems(tmp_path, '[storage]\nurll = "sqlite:///x.db"\n')
    assert found == [
        "config.toml: [storage] urll: unknown key; expected one of: "
        "batch_interval_ms, batch_size, stop_grace_seconds, url"
    ]


def test_unknown_section_is_an_error(tmp_path: Path) -> None:
    found = problems(tmp_path, "[discrod]\nenabled = true\n")
    assert found[0].startswith("config.toml: [discrod]: unknown section; expected one of:")


def test_bad_type_names_what_was_expected(tmp_path: Path) -> None:
    found = problems(tmp_path, '[privacy]\nstore_message_text = "yes please"\n')
    assert found == ["config.toml: [privacy] store_message_text: expected true or false, "
                     "got 'yes please'"]


def test_missing_token_for_enabled_platform(tmp_path: Path) -> None:
    found = problems(tmp_path, "[telegram]\nenabled = true\n")
    assert found == ["config.toml: [telegram] token: missing while the platform is enabled; "
                     "set it here or in the environment variable TRIBEBOT_TELEGRAM_TOKEN"]


def test_token_from_environment_is_never_printed(tmp_path: Path) -> None:
    path = write(tmp_path, "[discord]\nenabled = true\n")
    settings = load_settings(path, env={"TRIBEBOT_DISCORD_TOKEN": "sekrit-token"})
    assert settings.discord.token is not None
    assert settings.discord.token.get_secret_value() == "sekrit-token"
    assert "sekrit-token" not in repr(settings)
    assert "sekrit-token" not in str(settings.model_dump())


def test_invalid_toml_reports_line(tmp_path: Path) -> None:
    found = problems(tmp_path, "[bot\nlanguage = 'he'\n")
    assert len(found) == 1 and "not valid TOML" in found[0] and "line 1" in found[0]


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "nope.toml", env={})
    assert "copy config.example.toml" in info.value.problems[0]


def test_example_config_is_valid_and_complete() -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    settings = load_settings(example, env={})
    assert settings.bot.language == "en"
    text = example.read_text(encoding="utf-8")
    # every key is documented: each assignment line is preceded by a comment line
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if "=" in line and not line.lstrip().startswith("#"):
            assert lines[index - 1].lstrip().startswith("#"), f"undocumented: {line}"


def test_engagement_range_must_be_ordered(tmp_path: Path) -> None:
    found = problems(tmp_path, "[engagement]\nmessage_points_min = 30\nmessage_points_max = 10\n")
    assert "message_points_min must not exceed message_points_max" in found[0]
