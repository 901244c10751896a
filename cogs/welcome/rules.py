"""Pure welcome rules: templates, placeholders and who is a newcomer."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.core.text import RichText, Value, check_template, compose

#: What an owner can put in a welcome template.
WELCOME_FIELDS = frozenset({"member", "name", "community", "member_count", "rules_channel",
                            "buddy"})


def check_welcome(template: str, community: str) -> None:
    """An owner's welcome: bare placeholders it offers, no longer than one post."""
    check_template(template, WELCOME_FIELDS, community=community)


def render_welcome(template: str, values: Mapping[str, Value], *, rtl: bool) -> RichText:
    """Fill the owner's template; placeholders without a value (no rules channel, no
    buddy) become empty rather than failing a welcome that is already being sent. A
    format spec stored by an older version is ignored (``compose`` never applies one)."""
    filled = {name: values.get(name, "") for name in WELCOME_FIELDS}
    return compose(template, filled, isolate=rtl)


def is_newcomer(joined: datetime | None, at: datetime, days: int) -> bool:
    return joined is not None and timedelta(0) <= at - joined <= timedelta(days=days)


def in_burst(last_welcome: datetime | None, at: datetime, seconds: int) -> bool:
    """A join soon after a welcome waits to be greeted with the others in one post."""
    return last_welcome is not None and (at - last_welcome).total_seconds() < seconds
