"""Every cog's declared settings, for the config file (which has one section per cog
that declares file defaults). A new cog with settings adds its declaration here."""

from __future__ import annotations

from bot.core.settings import Declaration


def declarations() -> tuple[Declaration, ...]:
    from cogs.content.settings import CONTENT
    from cogs.engagement.settings import ENGAGEMENT
    from cogs.journey.settings import JOURNEY
    from cogs.summary.settings import SUMMARY
    from cogs.welcome.settings import WELCOME

    return (ENGAGEMENT, JOURNEY, WELCOME, CONTENT, SUMMARY)
