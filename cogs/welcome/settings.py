"""The welcome settings: file defaults (``[welcome]``), changed per community by the
`welcome …` commands."""

from __future__ import annotations

from bot.core.settings import Declaration, Setting
from cogs.welcome.rules import check_welcome

WELCOME = Declaration("welcome", {
    "enabled": Setting(default=True),
    "dm": Setting(default="off", choices=("off", "also", "only")),
    "burst_seconds": Setting(default=60, minimum=0, maximum=3600),
    "burst_max_names": Setting(default=10, minimum=1, maximum=50),
    "delete_after_minutes": Setting(default=0, minimum=0, maximum=10_080),
    "intro_prompt": Setting(default=False),
    "newcomer_days": Setting(default=14, minimum=1, maximum=365),
    "first_response_hours": Setting(default=4.0, above=0, maximum=168),
    "greeting_hours": Setting(default=24, minimum=1, maximum=168),
    # per community only: set with `welcome set`, `welcome channel`, `welcome rules`,
    # `welcome buddy`
    "template": Setting(default="", check_in=check_welcome, in_file=False,
                        per_language=True),
    "channel": Setting(default="", in_file=False),
    "rules_channel": Setting(default="", in_file=False),
    "buddies": Setting(default=(), kind=tuple[str, ...], in_file=False),
})
