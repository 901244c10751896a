"""check-config validates every address the bot sends its token to or listens on, and
reports every problem of the file at once."""

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    return [p.removeprefix("config.toml: ") for p in info.value.problems]


def test_every_bad_address_is_reported_at_once(tmp_path: Path) -> None:
    found = problems(tmp_path, """
[discord]
api_base_url = "discord.com/api/v10"
[telegram]
mode = "webhook"
api_base_url = "http://api.telegram.org/bot"
[telegram.webhook]
listen = "every interface"
url = "http://bot.example.org/telegram"
secret_token = "not allowed!"
""")
    assert found == [
        "[discord] api_base_url: 'discord.com/api/v10' is not an API address; write it like "
        "https://discord.com/api/v10",
        "[telegram] api_base_url: 'http://api.telegram.org/bot' would send the token "
        "unencrypted; use https:// (plain http:// only to this machine or the local network)",
        "[telegram] webhook.listen: 'every interface' is not an address to listen on; use "
        "127.0.0.1 behind a reverse proxy, 0.0.0.0 for every interface, or one of this "
        "machine's addresses",
        "[telegram] webhook.url: 'http://bot.example.org/telegram': Telegram calls webhooks "
        "only at an https:// address, like https://bot.example.org/telegram",
        "[telegram] webhook.secret_token: Telegram accepts 1 to 256 characters A-Z, a-z, 0-9, "
        "_ and - as a secret token",
    ]


def test_webhook_mode_needs_the_public_address(tmp_path: Path) -> None:
    found = problems(tmp_path, '[telegram]\nmode = "webhook"\n[bot]\nlanguage = "xx"\n')
    assert found == [
        "[bot] language: unsupported language 'xx'; expected one of en, he",
        '[telegram] webhook.url: missing while mode = "webhook"; set the public https:// '
        "address Telegram should call, like https://bot.example.org/telegram",
    ]


@pytest.mark.parametrize(("key", "value", "problem"), [
    ("telegram", "https://api.telegram.org", "must end in /bot, like "
     "https://api.telegram.org/bot"),
    ("telegram", "https://api.telegram.org/bot?x=1", "has a query, fragment or password"),
    ("telegram", "https://api.telegram.org:port/bot", "is not an API address"),
    ("discord", "https://discord.com/api/v9", "must end in /api/v10"),
    ("discord", "ftp://discord.com/api/v10", "is not an API address"),
])
def test_api_addresses_are_checked(tmp_path: Path, key: str, value: str, problem: str) -> None:
    [found] = problems(tmp_path, f'[{key}]\napi_base_url = "{value}"\n')
    assert found.startswith(f"[{key}] api_base_url: ") and problem in found


def test_webhook_port_must_be_one_telegram_calls(tmp_path: Path) -> None:
    [found] = problems(tmp_path, '[telegram.webhook]\nurl = "https://bot.example.org:8080/t"\n')
    assert found.endswith("Telegram calls webhooks only on port 443, 80, 88 or 8443, not 8080")


def test_good_addresses_pass(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("""
[discord]
api_base_url = "http://127.0.0.1:8080/api/v10"
[telegram]
mode = "webhook"
api_base_url = "http://telegram-bot-api:8081/bot"
[telegram.webhook]
listen = "0.0.0.0"
url = "https://bot.example.org:8443/telegram"
secret_token = "abc_DEF-123"
""", encoding="utf-8")
    settings = load_settings(path, env={})
    assert settings.telegram.webhook.url == "https://bot.example.org:8443/telegram"
    for listen in ("::", "127.0.0.1", "localhost", "bot.internal"):
        path.write_text(f'[telegram.webhook]\nlisten = "{listen}"\n', encoding="utf-8")
        assert load_settings(path, env={}).telegram.webhook.listen == listen


def test_check_config_prints_each_problem_and_exits_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    path = tmp_path / "config.toml"
    path.write_text('[discord]\napi_base_url = "https://discord.com"\n[telegram]\n'
                    'mode = "webhook"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["check-config", str(path)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("config.toml")]
    assert len(lines) == 2 and "must end in /api/v10" in lines[0]
    assert "webhook.url: missing" in lines[1]
