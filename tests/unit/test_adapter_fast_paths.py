"""The adapters' per-event shortcuts give exactly what the general code they replace gives:
ids written as f-strings equal ``make_id``'s, and ``has_attachment`` equals
``effective_attachment is not None`` for every kind of attachment the library knows."""

from __future__ import annotations

import warnings

import pytest
from telegram import Chat, Message
from telegram.constants import MessageAttachmentType

from bot.adapters.discord import ids as discord_ids
from bot.adapters.discord import translate as discord_translate
from bot.adapters.telegram import ids as telegram_ids
from bot.adapters.telegram.translate import has_attachment
from bot.core.ids import make_id
from tests.conftest import START

NATIVE = [0, 7, 123456789012345678, -1001234567890]


@pytest.mark.parametrize("native", NATIVE)
def test_discord_ids_are_make_ids(native: int) -> None:
    expected = make_id("discord", native)
    for module in (discord_ids, discord_translate):
        assert module.community_id(native) == expected
        assert module.member_id(native) == expected
        assert module.channel_id(native) == expected
        assert module.message_id(native) == expected
    assert discord_ids.member_id(str(native)) == expected


@pytest.mark.parametrize("native", NATIVE)
def test_telegram_ids_are_make_ids(native: int) -> None:
    assert telegram_ids.community_id(native) == make_id("telegram", native)
    assert telegram_ids.member_id(native) == make_id("telegram", native)
    assert telegram_ids.message_id(native, 55) == make_id("telegram", native, 55)
    assert telegram_ids.channel_id(native) == make_id("telegram", native)
    assert telegram_ids.channel_id(native, 9) == make_id("telegram", native, "topic", 9)


def message(**fields: object) -> Message:
    return Message(message_id=1, date=START, chat=Chat(-1001234, Chat.SUPERGROUP), **fields)


def test_a_text_message_has_no_attachment() -> None:
    plain = message(text="hello")
    assert has_attachment(plain) is False
    assert message(text="hello").effective_attachment is None
    assert has_attachment(message(photo=())) is False  # an empty photo list is none


@pytest.mark.parametrize("kind", [kind.value for kind in MessageAttachmentType])
def test_every_attachment_kind_is_seen(kind: str) -> None:
    value: object = (object(),) if kind == MessageAttachmentType.PHOTO else object()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # successful_payment is a deprecated attachment
        assert message(**{kind: value}).effective_attachment is not None
        assert has_attachment(message(**{kind: value})) is True
