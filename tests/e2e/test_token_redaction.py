"""No token reaches a log, at any level: ``tribebot run`` at ``log_level = "debug"`` against
the fake platforms, every line it wrote captured."""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from bot import cli
from bot.config import load_settings
from bot.redaction import MARKER
from tests.e2e.discord.fake_discord import TOKEN as DISCORD_TOKEN
from tests.e2e.discord.fake_discord import FakeDiscord
from tests.e2e.discord.payloads import guild
from tests.e2e.process import finish, start, until
from tests.e2e.telegram.fake_bot_api import TOKEN as TELEGRAM_TOKEN
from tests.e2e.telegram.fake_bot_api import FakeBotApi
from tests.e2e.telegram.updates import command, user

SECRET_HALF = TELEGRAM_TOKEN.partition(":")[2]


def config(tmp_path: Path, section: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[bot]\nlog_level = "debug"\n[storage]\nurl = "sqlite:///'
                    f'{tmp_path / "bot.db"}"\n{section}', encoding="utf-8")
    return path


def squeezed(text: str) -> str:
    """The output without any whitespace, so a token wrapped over two lines still shows."""
    return "".join(text.split())


async def test_telegram_token_is_redacted_from_debug_logs(tmp_path: Path) -> None:
    fake = FakeBotApi()
    await fake.start()
    try:
        path = config(tmp_path, f'[telegram]\nenabled = true\ntoken = "{TELEGRAM_TOKEN}"\n'
                                f'api_base_url = "{fake.api_base_url}"\n')
        bot = await start("run", "--config", str(path))
        await until(lambda: len(fake.calls_to("getUpdates")) >= 2, bot, what="polling")
        fake.push({"message": command(user(1, "Alice"), 10, "/rank", datetime.now(UTC))})
        await until(lambda: bool(fake.calls_to("sendMessage")), bot, what="the /rank answer")
        done = await finish(bot)
    finally:
        await fake.stop()
    assert done.code == 0, done.stderr
    logged = squeezed(done.stderr + done.stdout)
    assert "getUpdates" in logged and "SetBotAPIURL" in logged  # debug lines were written
    assert TELEGRAM_TOKEN not in logged and SECRET_HALF not in logged
    assert MARKER in done.stderr


async def test_a_rejected_telegram_token_is_not_printed(tmp_path: Path) -> None:
    """python-telegram-bot puts the token in InvalidToken's message; the start failure is
    logged as an error."""
    fake = FakeBotApi(token="999:another-token-entirely")  # refuses ours with 401
    await fake.start()
    try:
        path = config(tmp_path, f'[telegram]\nenabled = true\ntoken = "{TELEGRAM_TOKEN}"\n'
                                f'api_base_url = "{fake.api_base_url}"\n')
        done = await finish(await start("run", "--config", str(path)), stop=False)
    finally:
        await fake.stop()
    assert done.code == 1
    assert "telegram could not start (InvalidToken" in done.stderr
    assert TELEGRAM_TOKEN not in squeezed(done.stderr) and MARKER in done.stderr


async def test_discord_token_stays_out_of_debug_logs(tmp_path: Path) -> None:
    fake = FakeDiscord([guild()])
    await fake.start()
    try:
        path = config(tmp_path, f'[discord]\nenabled = true\ntoken = "{DISCORD_TOKEN}"\n'
                                f'api_base_url = "{fake.api_base_url}"\n')
        bot = await start("run", "--config", str(path))
        await until(lambda: fake.identify is not None, bot, what="the IDENTIFY")
        await until(lambda: bool(fake.sent("GET", r"/guilds/\d+/invites")), bot,
                    what="the guild's invites (asked once the client is ready)")
        done = await finish(bot)
    finally:
        await fake.stop()
    assert done.code == 0, done.stderr
    assert fake.identify is not None and fake.identify["token"] == DISCORD_TOKEN
    logged = squeezed(done.stderr + done.stdout)
    assert "discordadapterstarted" in logged and "users/@mewithNonehasreturned200" in logged
    assert DISCORD_TOKEN not in logged


@pytest.fixture
def captured_logging() -> Iterator[io.StringIO]:
    """The CLI's own logging set-up, writing to a buffer; the root logger restored after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    buffer = io.StringIO()
    original, cli.err = cli.err, Console(file=buffer, width=1000, no_color=True)
    hooks = (sys.excepthook, threading.excepthook)
    try:
        yield buffer
    finally:
        cli.err = original
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        sys.excepthook, threading.excepthook = hooks


def test_the_installed_filter_redacts_message_arguments_and_tracebacks(
        tmp_path: Path, captured_logging: io.StringIO) -> None:
    settings = load_settings(config(
        tmp_path, f'[discord]\nenabled = true\ntoken = "{DISCORD_TOKEN}"\n'
                  f'[telegram]\nenabled = true\ntoken = "{TELEGRAM_TOKEN}"\n'), env={})
    cli._setup_logging("debug", settings)
    log = logging.getLogger("discord.http")
    log.debug("Authorization: Bot %s", DISCORD_TOKEN)
    log.debug(f"GET https://api.telegram.org/bot{TELEGRAM_TOKEN}/getMe")
    log.debug("quoted %s", TELEGRAM_TOKEN.replace(":", "%3A"))
    try:
        raise RuntimeError(f"the token `{DISCORD_TOKEN}` was rejected")
    except RuntimeError:
        log.exception("login failed")
    written = captured_logging.getvalue()
    assert "login failed" in written and "RuntimeError" in written
    assert DISCORD_TOKEN not in written and SECRET_HALF not in written
    assert written.count(MARKER) == 4


def test_uncaught_errors_go_through_the_filter_too(tmp_path: Path,
                                                   captured_logging: io.StringIO) -> None:
    """Python prints an uncaught exception itself; after set-up it goes through the log."""
    settings = load_settings(config(
        tmp_path, f'[telegram]\nenabled = true\ntoken = "{TELEGRAM_TOKEN}"\n'), env={})
    cli._setup_logging("info", settings)
    try:
        raise ValueError(f"bad url https://api.telegram.org/bot{TELEGRAM_TOKEN}/getMe")
    except ValueError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    thread = threading.Thread(target=lambda: int(f"{TELEGRAM_TOKEN}"), name="worker")
    thread.start()
    thread.join()
    written = captured_logging.getvalue()
    assert "uncaught error" in written and "uncaught error in thread worker" in written
    assert SECRET_HALF not in written and written.count(MARKER) == 2
