"""Telegram gives each update to one poller: a second process polling with the same
token is told, in one clear log line, that only one process may enable Telegram."""

from __future__ import annotations

import logging

import pytest

from bot.adapters.telegram.adapter import TelegramAdapter
from bot.runtime import Runtime
from tests.e2e.telegram.conftest import until
from tests.e2e.telegram.fake_bot_api import FakeBotApi

CONFLICT = {"ok": False, "error_code": 409,
            "description": "Conflict: terminated by other getUpdates request; make sure "
                           "that only one bot instance is running"}


async def test_another_poller_is_reported_once_as_a_configuration_problem(
    fake: FakeBotApi, runtime: Runtime, caplog: pytest.LogCaptureFixture,
) -> None:
    fake.failures["getUpdates"] = [CONFLICT] * 3
    adapter = TelegramAdapter(runtime, runtime.settings.telegram, poll_timeout=1)
    with caplog.at_level(logging.DEBUG, logger="bot.adapters.telegram.adapter"):
        await adapter.start()
        try:
            await until(lambda: len(fake.calls_to("getUpdates")) >= 4, within=15,
                        what="polling past the conflicts")
        finally:
            await adapter.stop()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1, errors
    assert "only one process may enable [telegram]" in errors[0]
    assert "terminated by other getUpdates request" in errors[0]
