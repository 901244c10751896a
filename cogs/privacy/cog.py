"""`my data` and `forget me`: a member sees, or erases, what the bot stores about them.

Forgetting keeps other members' numbers right: ledger rows and totals are moved to an
anonymous id instead of being deleted, so points others earned from the forgotten
member's reactions, and the community's totals, do not change.

The anonymous id is random, new at every forget: nothing (no hash of the member's id,
no key kept in the database beside the data) can lead back to the member, and a member
who comes back and forgets again gets a second id that cannot collide with the first.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import tempfile
from pathlib import Path

from bot.context import CogContext
from bot.core.actions import DirectMessage
from bot.core.cog import Cog, command
from bot.core.commands import CommandError, Invocation, Option, OptionKind, Reply
from bot.core.events import MemberForgotten
from storage.privacy import PrivacyStore


class PrivacyCog(Cog):
    name = "privacy"

    def __init__(self, ctx: CogContext) -> None:
        super().__init__(ctx)
        self.store = PrivacyStore(ctx.repository)

    @command("my data", "Get everything stored about you, by direct message")
    async def cmd_my_data(self, inv: Invocation) -> Reply:
        tr = self.ctx.communities.catalog(inv.community)
        data = await self.store.export(inv.community, inv.invoker.id)
        folder = Path(tempfile.mkdtemp(prefix="tribebot-export-"))
        path = folder / f"my-data-{inv.invoker.id.replace(':', '-')}.json"
        payload = json.dumps(data, ensure_ascii=False, indent=2, default=str)
        await asyncio.to_thread(path.write_text, payload, "utf-8")
        delivery = await self.ctx.outbox.send(DirectMessage(
            community=inv.community, member=inv.invoker.id, file=path, kind="my_data",
            text=tr.gettext("Here is everything I store about you in this community.")))
        if not delivery.ok:
            raise CommandError(tr.gettext("I could not send you a direct message. Open your "
                                          "DMs to me (or start a private chat with me) and "
                                          "ask again."))
        return Reply(tr.gettext("Sent: check your direct messages."), private=True)

    @command("forget me", "Erase your data in this community",
             Option("confirm", OptionKind.CHOICE, "Type 'confirm' to erase", required=False,
                    choices=("confirm",)))
    async def cmd_forget_me(self, inv: Invocation) -> Reply:
        tr = self.ctx.communities.catalog(inv.community)
        if inv.args.get("confirm") != "confirm":
            return Reply(tr.gettext("This erases your messages' records, reactions, journey "
                                    "and points here, for good. To go ahead: /forget me "
                                    "confirm"), private=True)
        member = inv.invoker.id
        anonymous = "forgotten:" + secrets.token_hex(16)
        self.store.forget(inv.community, member, anonymous)
        await self.ctx.repository.flush()
        self.ctx.publish(MemberForgotten(community=inv.community, at=inv.at, member=member))
        return Reply(tr.gettext("Done: your data in this community is erased."),
                     private=True)
