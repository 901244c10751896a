"""The content cog's commands: the calendar for moderators, subscriptions for members.

Each handler is declared with its command (``@command``); the scheduling they change is
in ``posting.py``.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.attachments import MEDIA_FILE, Attachment
from bot.core.cog import Cog, command
from bot.core.commands import CommandError, Invocation, Option, OptionKind, Reply
from bot.core.settings import SettingError, refusal
from bot.core.text import ChannelLink, RichText, plain
from bot.i18n import Catalog
from cogs.content.posting import Calendar, Owner, label
from cogs.content.rules import (
    ContentError,
    check_text,
    check_topic,
    parse_content_id,
    parse_flags,
    parse_schedule,
    upcoming,
)
from cogs.content.settings import CONTENT, MAX_VALUE
from storage.content import ItemRow, QueueRow

IDENT = Option("id", OptionKind.TEXT, "An item id (7) or a queue id (q2)")
TOPIC = Option("topic", OptionKind.TEXT, "A topic tag, one word")
SCHEDULE = Option("schedule", OptionKind.TEXT,
                  "In quotes: \"once 2026-12-01 10:00\", \"every 3 days 10:00\", "
                  "\"every 2 weeks tue 10:00\", \"cron 0 10 * * TUE\" or \"queue\"")


class ContentCommands(Cog):
    """What moderators and members type; ``calendar`` is set by the cog."""

    calendar: Calendar

    # -- moderators -------------------------------------------------------------------
    def _tr(self, community: str) -> Catalog:
        return self.ctx.communities.catalog(community)

    def _fail(self, community: str, exc: ContentError) -> CommandError:
        return CommandError(self._tr(community).gettext(exc.message, **exc.values))

    def _local(self, community: str, moment: datetime) -> str:
        return moment.astimezone(self.ctx.communities.timezone(community)).strftime(
            "%Y-%m-%d %H:%M %a")

    @command("content add", "Schedule a post (text may start with --dm or --stage STAGE; "
             "attach an image or a PDF to post it too)", TOPIC, SCHEDULE,
             Option("text", OptionKind.TEXT, "What to post"),
             Option("file", OptionKind.FILE, "An image or a PDF posted with the text",
                    required=False, accepts=MEDIA_FILE), moderator=True)
    async def cmd_add(self, inv: Invocation) -> Reply:
        community, tr = inv.community, self._tr(inv.community)
        try:
            topic = check_topic(str(inv.args["topic"]))
            flags = parse_flags(str(inv.args["text"]))
            body = check_text(flags.body, community)
            schedule = parse_schedule(str(inv.args["schedule"]),
                                      self.ctx.communities.timezone(community), inv.at)
        except ContentError as exc:
            raise self._fail(community, exc) from None
        upload: Attachment | None = inv.args.get("file")
        stored = await self.calendar.keep(upload) if upload is not None else None
        self.calendar.last_item += 1
        item = ItemRow(
            id=self.calendar.last_item, community=community, topic=topic, body=body,
            file=stored,
            channel=inv.channel, direct=flags.direct, stage=flags.stage,
            schedule=schedule.spec, since=inv.at, state="active", note="",
            created_by=inv.invoker.id, created_at=inv.at, updated_at=inv.at)
        self.calendar.items[item.id] = item
        self.calendar.save(item)
        self.calendar.arm(item)
        if schedule.kind == "library":
            queue = self.calendar.queue_for(community, topic)
            if queue is None:
                return Reply(tr.gettext(
                    "Added item {id} to the “{topic}” queue. No queue posts this topic yet: "
                    "start one with /content queue {topic} \"every 1 weeks mon 10:00\".",
                    id=item.id, topic=topic))
            return Reply(tr.gettext("Added item {id} to the “{topic}” queue ({queue}).",
                                    id=item.id, topic=topic, queue=label(queue)))
        when = self.calendar.next_time(item, inv.at)
        return Reply(tr.gettext("Scheduled item {id} ({topic}): {schedule}. First post: {when}.",
                                id=item.id, topic=topic, schedule=schedule.spec,
                                when=self._local(community, when) if when else "—"))

    @command("content queue", "Post a topic's queued items in rotation", TOPIC, SCHEDULE,
             moderator=True)
    async def cmd_queue(self, inv: Invocation) -> Reply:
        community, tr = inv.community, self._tr(inv.community)
        try:
            topic = check_topic(str(inv.args["topic"]))
            schedule = parse_schedule(str(inv.args["schedule"]),
                                      self.ctx.communities.timezone(community), inv.at)
        except ContentError as exc:
            raise self._fail(community, exc) from None
        if not schedule.recurring:
            raise CommandError(tr.gettext(
                "A queue needs a recurring schedule (every … or cron …), not “{schedule}”.",
                schedule=str(inv.args["schedule"])))
        queue = self.calendar.queue_for(community, topic, removed=True)
        if queue is None:
            self.calendar.last_queue += 1
            queue = QueueRow(id=self.calendar.last_queue, community=community, topic=topic,
                             schedule=schedule.spec, channel=inv.channel, since=inv.at,
                             state="active", note="", created_by=inv.invoker.id,
                             created_at=inv.at, updated_at=inv.at)
            self.calendar.queues[queue.id] = queue
        else:
            queue.schedule, queue.channel, queue.since = schedule.spec, inv.channel, inv.at
            queue.state, queue.note, queue.updated_at = "active", "", inv.at
        self.calendar.save(queue)
        self.calendar.arm(queue)
        waiting = sum(1 for i in self.calendar.items.values() if i.community == community
                      and i.topic == topic and i.schedule == "queue" and i.state == "active")
        when = self.calendar.next_time(queue, inv.at)
        return Reply(tr.gettext(
            "Queue {id} posts the next “{topic}” item {schedule}; {count} items wait in it. "
            "First post: {when}.", id=label(queue), topic=topic, schedule=schedule.spec,
            count=waiting, when=self._local(community, when) if when else "—"))

    def _find(self, inv: Invocation) -> Owner:
        community = inv.community
        try:
            kind, number = parse_content_id(str(inv.args["id"]))
        except ContentError as exc:
            raise self._fail(community, exc) from None
        table: dict[int, ItemRow] | dict[int, QueueRow] = (
            self.calendar.items if kind == "item" else self.calendar.queues)
        owner = table.get(number)
        if owner is None or owner.community != community or owner.state == "removed":
            raise CommandError(self._tr(community).gettext(
                "There is no content {id} here; /content list shows the ids.",
                id=str(inv.args["id"])))
        return owner

    def _describe(self, owner: Owner, now: datetime) -> RichText:
        tr = self._tr(owner.community)
        state = {"active": tr.phrase("active"), "paused": tr.phrase("paused")}.get(owner.state,
                                                                              owner.state)
        when = self.calendar.next_time(owner, now)
        if isinstance(owner, ItemRow):
            return tr.gettext("{id} · {topic} · {schedule} · {state} · next {when} · {text}",
                              id=owner.id, topic=owner.topic, schedule=owner.schedule,
                              state=state, text=_excerpt(owner.body),
                              when=self._local(owner.community, when) if when else "—")
        return tr.gettext("{id} · queue of {topic} · {schedule} · {state} · next {when}",
                          id=label(owner), topic=owner.topic, schedule=owner.schedule,
                          state=state,
                          when=self._local(owner.community, when) if when else "—")

    @command("content list", "The content calendar", moderator=True)
    async def cmd_list(self, inv: Invocation) -> Reply:
        tr = self._tr(inv.community)
        owners = [o for o in self.calendar.owners()
                  if o.community == inv.community and o.state != "removed"]
        if not owners:
            return Reply(tr.gettext("The content calendar is empty; add a post with "
                                    "/content add."), private=True)
        text = tr.gettext("Content calendar:")
        for owner in owners:
            text = text + plain("\n") + self._describe(owner, inv.at)
        return Reply(text, private=True)

    @command("content show", "One item or queue in detail", IDENT, moderator=True)
    async def cmd_show(self, inv: Invocation) -> Reply:
        owner = self._find(inv)
        tr = self._tr(inv.community)
        text = self._describe(owner, inv.at)
        if isinstance(owner, ItemRow):
            text = text + tr.gettext(
                "\nDirect to subscribers: {direct}. Stage: {stage}. Channel: {channel}.",
                direct=tr.phrase("yes") if owner.direct else tr.phrase("no"),
                stage=owner.stage or "—",
                channel=ChannelLink(owner.channel, owner.channel.partition(":")[2]))
            history = await self.calendar.store.item_slots(owner.id, limit=5)
        else:
            history = await self.calendar.store.slots(owner.job, limit=5)
        if owner.note:
            text = text + tr.gettext("\nPaused because: {note}", note=owner.note)
        for row in history:
            text = text + tr.gettext("\n{when}: {status} {reason}", status=row.status,
                                     when=self._local(owner.community, row.slot),
                                     reason=row.reason)
        return Reply(text, private=True)

    @command("content edit", "Change an item's text", IDENT,
             Option("text", OptionKind.TEXT, "The new text"), moderator=True)
    async def cmd_edit(self, inv: Invocation) -> Reply:
        owner = self._find(inv)
        tr = self._tr(inv.community)
        if not isinstance(owner, ItemRow):
            raise CommandError(tr.gettext("A queue has no text of its own; edit its items."))
        try:
            body = check_text(str(inv.args["text"]), inv.community)
        except ContentError as exc:
            raise self._fail(inv.community, exc) from None
        owner.body, owner.updated_at = body, inv.at
        self.calendar.save(owner)
        return Reply(tr.gettext("Item {id} now reads: {text}", id=owner.id,
                                text=_excerpt(body)), private=True)

    @command("content reschedule", "Give an item or queue a new schedule", IDENT, SCHEDULE,
             moderator=True)
    async def cmd_reschedule(self, inv: Invocation) -> Reply:
        """A new time without removing the item (which would lose its engagement record)."""
        owner = self._find(inv)
        community, tr = inv.community, self._tr(inv.community)
        try:
            schedule = parse_schedule(str(inv.args["schedule"]),
                                      self.ctx.communities.timezone(community), inv.at)
        except ContentError as exc:
            raise self._fail(community, exc) from None
        if isinstance(owner, QueueRow) and not schedule.recurring:
            raise CommandError(tr.gettext(
                "A queue needs a recurring schedule (every … or cron …), not “{schedule}”.",
                schedule=str(inv.args["schedule"])))
        if isinstance(owner, ItemRow) and (schedule.kind == "library") != (
                owner.schedule == "queue"):
            raise CommandError(tr.gettext(
                "Item {id} cannot move into or out of its topic's queue; add it again "
                "instead.", id=owner.id))
        # since = now: the new schedule's earlier slots are not posted late
        owner.schedule, owner.since, owner.updated_at = schedule.spec, inv.at, inv.at
        self.calendar.save(owner)
        self.calendar.arm(owner)
        when = self.calendar.next_time(owner, inv.at)
        return Reply(tr.gettext("Content {id} now follows {schedule}. Next post: {when}.",
                                id=label(owner), schedule=schedule.spec,
                                when=self._local(community, when) if when else "—"))

    @command("content move", "Post an item or queue in this channel from now on", IDENT,
             moderator=True)
    async def cmd_move(self, inv: Invocation) -> Reply:
        owner = self._find(inv)
        owner.channel, owner.updated_at = inv.channel, inv.at
        self.calendar.save(owner)
        return Reply(self._tr(inv.community).gettext(
            "Content {id} will be posted in this channel from now on.", id=label(owner)))

    @command("content pause", "Stop posting an item or queue for now", IDENT,
             moderator=True)
    async def cmd_pause(self, inv: Invocation) -> Reply:
        owner = self._find(inv)
        self.calendar.set_state(owner, "paused", inv.at, note=self._tr(inv.community).phrase(
            "paused by a moderator"))
        return Reply(self._tr(inv.community).gettext(
            "Content {id} is paused; /content resume {id} starts it again.", id=label(owner)))

    @command("content resume", "Post a paused item or queue again", IDENT, moderator=True)
    async def cmd_resume(self, inv: Invocation) -> Reply:
        owner = self._find(inv)
        self.calendar.set_state(owner, "active", inv.at)
        when = self.calendar.next_time(owner, inv.at)
        tr = self._tr(inv.community)
        if when is None and owner.schedule != "queue":
            return Reply(tr.gettext("Content {id} is active again, but its schedule has no "
                                    "future post.", id=label(owner)))
        return Reply(tr.gettext("Content {id} is active again. Next post: {when}.",
                                id=label(owner),
                                when=self._local(inv.community, when) if when else "—"))

    @command("content remove", "Delete an item or queue from the calendar", IDENT,
             moderator=True)
    async def cmd_remove(self, inv: Invocation) -> Reply:
        owner = self._find(inv)
        self.calendar.set_state(owner, "removed", inv.at)
        if isinstance(owner, ItemRow):
            del self.calendar.items[owner.id]
        return Reply(self._tr(inv.community).gettext("Content {id} was removed.",
                                                     id=label(owner)))

    @command("content preview", "See an item as members will (only you)", IDENT,
             moderator=True)
    async def cmd_preview(self, inv: Invocation) -> Reply:
        owner = self._find(inv)
        tr = self._tr(inv.community)
        if not isinstance(owner, ItemRow):
            item = await self.calendar.pick(owner)
            if item is None:
                raise CommandError(tr.gettext("The queue {id} has no items yet.",
                                              id=label(owner)))
            owner = item
        return Reply(plain(owner.body), private=True, file=self.calendar.file_of(owner))

    @command("content next", "The coming posts, in local time", moderator=True)
    async def cmd_next(self, inv: Invocation) -> Reply:
        tr = self._tr(inv.community)
        coming: list[tuple[datetime, Owner]] = []
        for owner in self.calendar.owners():
            if owner.community != inv.community or owner.state != "active":
                continue
            trigger = self.calendar.trigger(owner)
            if trigger is not None:
                coming.extend((when, owner) for when in upcoming(trigger, inv.at, 5))
        coming.sort(key=lambda pair: (pair[0], pair[1].job))
        if not coming:
            return Reply(tr.gettext("Nothing is scheduled."), private=True)
        text = tr.gettext("Coming posts ({zone}):",
                          zone=self.ctx.communities.timezone(inv.community).key)
        for when, owner in coming[:10]:
            what = (_excerpt(owner.body, 40) if isinstance(owner, ItemRow)
                    else tr.phrase("next in the queue"))
            text = text + tr.gettext("\n{when} · {id} · {topic} · {what}",
                                     when=self._local(inv.community, when), id=label(owner),
                                     topic=owner.topic, what=what)
        return Reply(text, private=True)

    @command("content set", "Content settings: " + ", ".join(CONTENT.names),
             Option("key", OptionKind.CHOICE, "Which setting", choices=tuple(CONTENT.names)),
             Option("value", OptionKind.INTEGER, "The new value", minimum=0,
                    maximum=MAX_VALUE), moderator=True)
    async def cmd_set(self, inv: Invocation) -> Reply:
        tr = self._tr(inv.community)
        key, value = str(inv.args["key"]), int(inv.args["value"])
        try:
            self.settings.change(inv.community, key, value)
        except SettingError as exc:
            raise refusal(tr, exc) from None
        if key == "grace_minutes":
            self.calendar.rearm(inv.community)
        return Reply(tr.gettext("{key} is now {value}.", key=key, value=value))

    # -- member commands ---------------------------------------------------------------
    def _topic(self, inv: Invocation) -> str:
        try:
            return check_topic(str(inv.args["topic"]))
        except ContentError as exc:
            raise self._fail(inv.community, exc) from None

    @command("subscribe", "Get a topic's direct posts by DM", TOPIC)
    async def cmd_subscribe(self, inv: Invocation) -> Reply:
        topic = self._topic(inv)
        tr = self._tr(inv.community)
        self.calendar.store.set_subscription(inv.community, inv.invoker.id, topic,
                               True, inv.at)
        text = tr.gettext("You are subscribed to {topic}: its direct posts will come to you "
                          "by DM. /unsubscribe {topic} stops them.", topic=topic)
        if await self.calendar.store.dm_stopped(inv.community, inv.invoker.id):
            text = text + tr.gettext(" You have stopped all DMs, so none will come until "
                                     "you run /dm start.")
        return Reply(text, private=True)

    @command("unsubscribe", "Stop a topic's DMs", TOPIC)
    async def cmd_unsubscribe(self, inv: Invocation) -> Reply:
        topic = self._topic(inv)
        self.calendar.store.set_subscription(inv.community, inv.invoker.id, topic,
                               False, inv.at)
        return Reply(self._tr(inv.community).gettext(
            "You will get no more DMs about {topic}.", topic=topic), private=True)

    @command("subscriptions", "Your topics")
    async def cmd_subscriptions(self, inv: Invocation) -> Reply:
        tr = self._tr(inv.community)
        topics = await self.calendar.store.subscriptions(inv.community, inv.invoker.id)
        offered = sorted({i.topic for i in self.calendar.items.values()
                          if i.community == inv.community and i.state != "removed"})
        if topics:
            text = tr.gettext("Your topics: {topics}.", topics=", ".join(topics))
        else:
            text = tr.gettext("You are not subscribed to any topic.")
        if offered:
            text = text + tr.gettext(" Topics here: {topics}.", topics=", ".join(offered))
        if await self.calendar.store.dm_stopped(inv.community, inv.invoker.id):
            text = text + tr.gettext(" All DMs are stopped (/dm start allows them again).")
        return Reply(text, private=True)

    @command("dm stop", "Never get a direct message from the bot")
    async def cmd_dm_stop(self, inv: Invocation) -> Reply:
        self.calendar.store.set_dm_stopped(inv.community, inv.invoker.id, True, inv.at)
        await self.ctx.repository.flush()
        return Reply(self._tr(inv.community).gettext(
            "I will not send you direct messages any more. /dm start allows them again."),
            private=True)

    @command("dm start", "Allow direct messages from the bot again")
    async def cmd_dm_start(self, inv: Invocation) -> Reply:
        self.calendar.store.set_dm_stopped(inv.community, inv.invoker.id, False,
                             inv.at)
        return Reply(self._tr(inv.community).gettext(
            "Direct messages are allowed again: you get the topics you subscribed to."),
            private=True)


def _excerpt(text: str, size: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= size else line[: size - 1] + "…"
