"""The moderation cog: per-community language, time zone and the owners' channel.

These live in the database (the config file only gives defaults), so each community a
bot serves can have its own, changed by its moderators without a restart.
"""

from __future__ import annotations

from bot.core.cog import Cog, command
from bot.core.commands import (
    ChannelRef,
    CommandError,
    Invocation,
    Option,
    OptionKind,
    Reply,
)
from bot.core.events import TimeZoneChanged
from bot.core.text import ChannelLink
from bot.i18n import SUPPORTED_LANGUAGES, catalog

OWNERS_CHANNEL = "owners_channel"


class ModerationCog(Cog):
    name = "moderation"

    @command("community timezone", "Set the community's time zone (IANA name)",
             Option("zone", OptionKind.TEXT, "For example Asia/Jerusalem"), moderator=True)
    async def cmd_timezone(self, inv: Invocation) -> Reply:
        communities = self.ctx.communities
        zone = str(inv.args["zone"]).strip()
        try:
            communities.set_timezone(inv.community, zone)
        except ValueError as exc:
            raise CommandError(communities.catalog(inv.community).gettext(
                "The time zone was not changed: {problem}", problem=str(exc))) from None
        self.ctx.publish(TimeZoneChanged(community=inv.community, at=inv.at, zone=zone))
        now = inv.at.astimezone(communities.timezone(inv.community))
        return Reply(communities.catalog(inv.community).gettext(
            "Time zone set to {zone}; it is now {time} here.", zone=zone,
            time=now.strftime("%Y-%m-%d %H:%M")))

    @command("community language", "Set the bot's language here",
             Option("language", OptionKind.CHOICE, "en or he", choices=SUPPORTED_LANGUAGES),
             moderator=True)
    async def cmd_language(self, inv: Invocation) -> Reply:
        self.ctx.communities.set_language(inv.community, str(inv.args["language"]))
        return Reply(catalog(str(inv.args["language"])).gettext(
            "From now on I speak English here."))

    @command("community owners", "Where the bot reports to moderators",
             Option("channel", OptionKind.CHANNEL, "The moderators' channel"), moderator=True)
    async def cmd_owners(self, inv: Invocation) -> Reply:
        channel: ChannelRef = inv.args["channel"]
        self.ctx.communities.set(inv.community, OWNERS_CHANNEL, channel.id)
        return Reply(self.ctx.communities.catalog(inv.community).gettext(
            "Reports for moderators will go to {channel}.",
            channel=ChannelLink(channel.id, channel.name)))

    @command("community show", "Show this community's settings", moderator=True)
    async def cmd_show(self, inv: Invocation) -> Reply:
        communities = self.ctx.communities
        tr = communities.catalog(inv.community)
        owners = communities.get(inv.community, OWNERS_CHANNEL)
        return Reply(tr.gettext(
            "Language: {language}. Time zone: {zone}. Moderators' channel: {channel}.",
            language=communities.language(inv.community),
            zone=str(communities.timezone(inv.community)),
            channel=owners or tr.phrase("not set")), private=True)
