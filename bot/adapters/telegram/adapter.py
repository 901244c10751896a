"""The Telegram adapter: python-telegram-bot's Application in Tribebot's event loop.

Setting a group up (for the README):

* Make the bot an **administrator** of the group. Telegram sends ``message_reaction``,
  ``chat_member`` (joins, leaves, the invite link used) and anonymous reaction counts only
  to administrators. Without admin rights the bot still sees joins and leaves through the
  service messages, but no reactions and no invite links; when it is added without admin
  rights it posts a short note saying so.
* **Privacy mode** (on by default, @BotFather -> /setprivacy): a bot that is not an
  administrator only receives commands and replies to its own messages, so it cannot count
  ordinary messages. Either make it an administrator (admins receive every message) or turn
  privacy mode off before adding it to the group (Telegram applies the change on re-add).
* Members must open the bot in private and press Start once before it can send them
  direct messages; otherwise the bot posts a one-line "start me in private first" hint.

Lifecycle: ``initialize -> start -> updater.start_polling`` (or ``start_webhook`` with a
secret token that Telegram echoes and python-telegram-bot checks: a request without it is
answered 403). Never ``run_polling()``, which would take the event loop away from the
runtime and the Discord client.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import Conflict, Forbidden, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.adapters.telegram.directory import Directory, Expiring, MemberCounts
from bot.adapters.telegram.files import sends_as_photo
from bot.adapters.telegram.ids import (
    command_key,
    community_id,
    member_id,
    message_id,
    parse_channel,
    parse_chat,
    parse_member,
    parse_message,
)
from bot.adapters.telegram.render import CAPTION_LIMIT, command_menu, render_chunks
from bot.adapters.telegram.translate import (
    ADMINS,
    CommandCall,
    bot_membership,
    command_call,
    edit_event,
    is_group,
    member_update_events,
    message_channel,
    message_event,
    reaction_count_event,
    reaction_events,
    referral_link_name,
    service_member_events,
    with_replied_member,
)
from bot.config import TelegramSection
from bot.core.actions import (
    Action,
    CreateInvite,
    DeleteMessage,
    Delivery,
    DirectMessage,
    Post,
    SetRole,
)
from bot.core.attachments import Attachment, safe_name
from bot.core.authors import with_authors
from bot.core.commands import (
    ChannelRef,
    Command,
    MemberRef,
    OptionKind,
    Reply,
    UsageError,
    check_declared_size,
    file_options,
    split_words,
)
from bot.core.events import Event, MemberJoined, MemberLeft
from bot.core.port import BotPort
from bot.core.text import Mention, RichText
from bot.core.text_commands import TypedCommand, run_text_command, unknown_command
from bot.i18n import Catalog, catalog

log = logging.getLogger(__name__)

ALLOWED_UPDATES = (
    "message", "edited_message", "message_reaction", "message_reaction_count",
    "chat_member", "my_chat_member",
)
#: How long a getChatMember answer (is this member an admin?) is trusted.
ADMIN_CACHE_SECONDS = 60.0
#: A join seen through chat_member and again through the service message is one join.
MEMBERSHIP_ECHO_SECONDS = 120.0
#: At most one "start me in private first" hint per member and day.
DM_HINT_SECONDS = 86_400.0
#: How long a getChatMemberCount answer is trusted ({member_count} in welcomes); the joins
#: and leaves seen meanwhile keep it current.
MEMBER_COUNT_SECONDS = 600.0
#: How often RetryAfter (HTTP 429) is waited out before a send fails.
RETRY_AFTER_ATTEMPTS = 3
DM_CLOSED = "dm_closed"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def file_base_url(api_base_url: str) -> str:
    """The file download URL next to the API URL (``…/bot`` -> ``…/file/bot``)."""
    head, sep, tail = api_base_url.rpartition("/bot")
    if sep and "/" not in tail:
        return f"{head}/file/bot{tail}"
    return api_base_url.rstrip("/") + "/file/bot"


def build_application(settings: TelegramSection) -> Application[Any, Any, Any, Any, Any, Any]:
    if settings.token is None:
        raise ValueError("[telegram] token is missing: set it in the config or in "
                         "TRIBEBOT_TELEGRAM_TOKEN (the token @BotFather gave you)")
    return (
        ApplicationBuilder()
        .token(settings.token.get_secret_value())
        .base_url(settings.api_base_url)
        .base_file_url(file_base_url(settings.api_base_url))
        .rate_limiter(AIORateLimiter(max_retries=RETRY_AFTER_ATTEMPTS))
        .build()
    )


class TelegramAdapter:
    platform = "telegram"

    def __init__(
        self, port: BotPort, settings: TelegramSection, *, poll_timeout: float = 10.0
    ) -> None:
        self.port = port
        self.settings = settings
        self.application = build_application(settings)
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self.poll_timeout = poll_timeout
        #: Updates fully handled (events published, commands answered); tests wait on it.
        self.handled_updates = 0
        self.directory = Directory()
        self._admins = Expiring(ADMIN_CACHE_SECONDS)
        self._memberships = Expiring(MEMBERSHIP_ECHO_SECONDS)
        self._dm_hints = Expiring(DM_HINT_SECONDS)
        self._member_counts = MemberCounts(MEMBER_COUNT_SECONDS)
        self._bot_id = 0
        self._username = ""
        self._conflict_reported = False
        # actions wait in the outbox until start() has connected
        port.register_sender(self.platform, self, connected=False)

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        app = self.application
        await app.initialize()  # calls getMe
        self._bot_id, self._username = app.bot.id, app.bot.username
        await self._register_commands()
        await app.start()
        assert app.updater is not None
        if self.settings.mode == "webhook":
            await self._start_webhook()
        else:
            await app.updater.start_polling(allowed_updates=list(ALLOWED_UPDATES),
                                            timeout=self.poll_timeout,
                                            error_callback=self._polling_failed)
        self.port.adapter_connected(self.platform)

    def _polling_failed(self, exc: TelegramError) -> None:
        """python-telegram-bot retries getUpdates after this. A 409 Conflict means another
        program gets this bot's updates: Telegram gives each update to one poller only,
        so of several Tribebot processes only one may enable Telegram."""
        if not isinstance(exc, Conflict):
            log.error("polling Telegram for updates failed: %s", exc, exc_info=exc)
        elif not self._conflict_reported:
            self._conflict_reported = True
            log.error("Telegram gives this bot's updates to another program (409 Conflict: "
                      "%s): only one process may enable [telegram] (polling, or the "
                      "webhook); set enabled = false in the others", exc.message)
        else:
            log.debug("Telegram still refuses getUpdates: %s", exc.message)

    async def _start_webhook(self) -> None:
        hook = self.settings.webhook
        if not hook.url:
            raise ValueError("[telegram.webhook] url is missing: webhook mode needs the public "
                             "https URL Telegram should call")
        # Without a configured secret a random one still makes forged requests fail.
        secret = (hook.secret_token.get_secret_value() if hook.secret_token
                  else secrets.token_urlsafe(32))
        assert self.application.updater is not None
        await self.application.updater.start_webhook(
            listen=hook.listen, port=hook.port, url_path=urlsplit(hook.url).path.lstrip("/"),
            webhook_url=hook.url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES),
        )

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    async def _register_commands(self) -> None:
        """setMyCommands per scope: everyone's commands in groups, plus the moderator
        commands in the administrators' menu. Permission is still checked on use."""
        commands = self.port.command_catalog()
        scopes = ((BotCommandScopeAllGroupChats(), False),
                  (BotCommandScopeAllChatAdministrators(), True))
        for scope, moderator in scopes:
            menu = [BotCommand(e.command, e.description)
                    for e in command_menu(commands, moderator=moderator)]
            try:
                await self.application.bot.set_my_commands(menu, scope=scope)
            except TelegramError as exc:
                log.warning("could not register the /command menu (%s): %s", scope.type, exc)

    # -- updates -> events -------------------------------------------------------------
    async def _on_update(self, update: object, _context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            if isinstance(update, Update):
                await self._handle(update)
        finally:
            self.handled_updates += 1

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("handling a Telegram update failed: %r", update, exc_info=context.error)

    async def _handle(self, update: Update) -> None:
        uid = update.update_id
        if update.my_chat_member is not None:
            change = bot_membership(uid, update.my_chat_member)
            if change.event is not None:
                await self._publish(change.event)
            if change.needs_admin:
                await self._ask_for_admin(update.my_chat_member.chat.id)
        elif update.chat_member is not None:
            self.directory.learn_user(update.chat_member.chat.id,
                                      update.chat_member.new_chat_member.user)
            for event in member_update_events(uid, update.chat_member):
                await self._publish(event)
        elif update.message is not None:
            await self._on_message(uid, update.message)
        elif update.edited_message is not None:
            if is_group(update.edited_message.chat):
                await self._publish(edit_event(uid, update.edited_message))
        elif update.message_reaction is not None:
            change = update.message_reaction
            if is_group(change.chat):  # the update does not say who wrote the message
                for event in reaction_events(uid, change, None):
                    await self._publish(await with_authors(self.port, event))
        elif (update.message_reaction_count is not None
              and is_group(update.message_reaction_count.chat)):
            # anonymous reactions carry no reactor: recorded, but they earn nobody points
            await self._publish(reaction_count_event(uid, update.message_reaction_count))

    async def _publish(self, event: Event) -> None:
        if isinstance(event, MemberJoined | MemberLeft):
            echo = (event.community, event.member, type(event).__name__)
            if self._memberships.get(echo) is not None:
                return
            self._memberships.set(echo, True)
            opposite = (event.community, event.member,
                        "MemberLeft" if isinstance(event, MemberJoined) else "MemberJoined")
            self._memberships.set(opposite, None)
            count = await self._member_count(parse_chat(event.community),
                                             1 if isinstance(event, MemberJoined) else -1)
            if isinstance(event, MemberJoined) and count is not None:
                event = dataclasses.replace(event, member_count=count)
        self.port.publish(event)

    async def _member_count(self, chat: int, delta: int) -> int | None:
        """The group's member count after a join (+1) or leave (-1): Telegram's own
        (getChatMemberCount), not the members the bot happens to have seen."""
        count = self._member_counts.changed(chat, delta)
        if count is not None or delta < 0:
            return count
        try:
            count = await self.application.bot.get_chat_member_count(chat)
        except TelegramError as exc:
            log.info("could not read the member count of %s: %s", chat, exc)
            return None
        self._member_counts.fetched(chat, count)  # counted after the join: it includes it
        return count

    async def _on_message(self, update_id: int, message: Message) -> None:
        if not is_group(message.chat):
            if command_call(message) is not None:
                await self._send_text(message.chat.id, None, self._private_hint(), None)
            return
        self.directory.learn_message(message)
        for event in service_member_events(message, self._bot_id):
            await self._publish(event)
        call = command_call(message)
        if call is not None:
            if call.addressed_to(self._username):
                await self._run_command(message, call)
            return  # commands for other bots are not conversation either
        event = message_event(update_id, message)
        if event is not None:
            await self._publish(event)

    # -- commands ----------------------------------------------------------------------
    async def _run_command(self, message: Message, call: CommandCall) -> None:
        user = message.from_user
        if user is None:
            return
        chat = message.chat.id

        def members(word: str) -> MemberRef | None:
            return call.mentions.get(word) or self.directory.member(chat, word)

        def channels(word: str) -> ChannelRef | None:
            return self.directory.channel(chat, word, message_channel(message))

        async def is_moderator(command: Command) -> bool:
            # only commands whose answer depends on rights cost a getChatMember call
            needs_rights = command.moderator or any(o.kind is OptionKind.MEMBER
                                                    for o in command.options)
            return needs_rights and await self._is_moderator(message)

        async def files(command: Command, tr: Catalog) -> list[Attachment]:
            return await self._attached(command, message, tr) if file_options(command) else []

        outcome = await run_text_command(self.port, TypedCommand(
            community=community_id(chat), channel=message_channel(message),
            invoker=MemberRef(member_id(user.id), user.full_name), at=message.date,
            words=[call.name, *split_words(call.arguments)], members=members,
            channels=channels, is_moderator=is_moderator, files=files,
            rewrite=lambda command, words: with_replied_member(command, words, call, members),
            key=command_key(chat, message.message_id),
        ))
        if outcome.command is None:
            if call.bot is not None:  # a bare unknown /command may be another bot's
                await self._reply(message, unknown_command(
                    self.port.catalog(community_id(chat)), f"/{call.name}"))
        elif outcome.reply is not None:
            await self._reply(message, outcome.reply)

    async def _attached(self, command: Command, message: Message, tr: Catalog
                        ) -> list[Attachment]:
        """The file sent with the command (its caption is the command), else the file of
        the message the command replies to; downloaded through getFile."""
        found = _sent_file(message)
        if found is None and message.reply_to_message is not None:
            found = _sent_file(message.reply_to_message)
        if found is None:
            return []
        file_id, name, size, content_type = found
        option = file_options(command)[0]
        check_declared_size(command, option, name, size, tr)
        try:
            file = await self.application.bot.get_file(file_id)
            check_declared_size(command, option, name, file.file_size, tr)
            data = bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            log.warning("could not download the file %s: %s", file_id, exc)
            raise UsageError(tr.gettext("/{command}: I could not download “{name}”; attach it "
                                        "again.", command=command.name, name=name)) from None
        return [Attachment(name, data, content_type)]

    async def _is_moderator(self, message: Message) -> bool:
        """Creator or administrator per getChatMember, cached briefly; an anonymous
        administrator posts as the group itself."""
        chat = message.chat.id
        if message.sender_chat is not None:
            return message.sender_chat.id == chat
        if message.from_user is None:
            return False
        key = (chat, message.from_user.id)
        cached = self._admins.get(key)
        if isinstance(cached, bool):
            return cached
        try:
            member = await self.application.bot.get_chat_member(chat, message.from_user.id)
        except TelegramError as exc:
            log.warning("could not check the rights of %s in %s: %s", key[1], chat, exc)
            return False
        is_admin = member.status in ADMINS
        self._admins.set(key, is_admin)
        return is_admin

    async def _reply(self, message: Message, reply: Reply) -> None:
        """Answer in the chat, as a reply (Telegram has no ephemeral messages, so a
        private reply is a reply too)."""
        thread = message.message_thread_id if message.is_topic_message else None
        try:
            if reply.file is not None:
                await self._send_file(message.chat.id, thread, reply.text, reply.file,
                                      message.message_id)
            else:
                await self._send_text(message.chat.id, thread, reply.text, message.message_id)
        except TelegramError as exc:
            log.warning("could not answer a command in %s: %s", message.chat.id, exc)

    def _private_hint(self) -> RichText:
        tr = catalog(self.port.settings.bot.language)
        return tr.gettext("Hi! Now I can send you private messages. My commands work in your "
                          "group.")

    async def _ask_for_admin(self, chat: int) -> None:
        tr = self.port.catalog(community_id(chat))
        await self.deliver(Post(
            community=community_id(chat), channel=community_id(chat), kind="needs_admin",
            text=tr.gettext("Thanks for adding me! Please make me an administrator: Telegram "
                            "only sends reactions and member updates to administrators, so "
                            "until then I can't count them.")))

    # -- actions -> Telegram -----------------------------------------------------------
    async def deliver(self, action: Action) -> Delivery:
        try:
            if isinstance(action, Post):
                return await self._post(action)
            if isinstance(action, DirectMessage):
                return await self._direct(action)
            if isinstance(action, SetRole):
                return Delivery(True)  # Telegram has no roles
            if isinstance(action, DeleteMessage):
                chat, message = parse_message(action.message)
                await self.application.bot.delete_message(chat, message)
                return Delivery(True)
            if isinstance(action, CreateInvite):
                link = await self.application.bot.create_chat_invite_link(
                    parse_chat(action.community),
                    name=referral_link_name(parse_member(action.member)))
                return Delivery(True, message=link.invite_link)
        except TelegramError as exc:
            log.warning("Telegram refused %s: %s", type(action).__name__, exc)
            return Delivery(False, error=str(exc))
        return Delivery(False, error=f"telegram cannot send {type(action).__name__}")

    async def _post(self, action: Post) -> Delivery:
        chat, thread = parse_channel(action.channel)
        reply_to = None
        if action.reply_to is not None:
            reply_chat, reply_to = parse_message(action.reply_to)
            reply_to = reply_to if reply_chat == chat else None
        if action.file is not None:
            sent = await self._send_file(chat, thread, action.text, action.file, reply_to)
        else:
            sent = await self._send_text(chat, thread, action.text, reply_to)
        if not sent:
            return Delivery(False, error="empty message")
        return Delivery(True, message=message_id(chat, sent[0].message_id))

    async def _direct(self, action: DirectMessage) -> Delivery:
        user = parse_member(action.member)
        try:
            if action.file is not None:
                sent = await self._send_file(user, None, action.text, action.file, None)
            else:
                sent = await self._send_text(user, None, action.text, None)
        except Forbidden:
            await self._hint_dm_closed(action.community, action.member)
            return Delivery(False, error=DM_CLOSED)
        if not sent:
            return Delivery(False, error="empty message")
        return Delivery(True, message=message_id(user, sent[0].message_id))

    async def _hint_dm_closed(self, community: str, member: str) -> None:
        """Tell the member in the group, once a day at most, how to open their DMs."""
        if self._dm_hints.get((community, member)) is not None:
            return
        self._dm_hints.set((community, member), True)
        chat, user = parse_chat(community), parse_member(member)
        name = self.directory.name(chat, user) or (
            await self.port.member_names(community, [member])).get(member, "")
        tr = self.port.catalog(community)
        text = tr.gettext("{member}, start me in private first (open my profile and press "
                          "Start), then I can send you messages.",
                          member=Mention(member, name or str(user)))
        try:
            await self._send_text(chat, None, text, None)
        except TelegramError as exc:
            log.warning("could not post the DM hint in %s: %s", chat, exc)

    async def _send_text(
        self, chat: int, thread: int | None, text: RichText, reply_to: int | None
    ) -> list[Message]:
        sent = []
        for index, chunk in enumerate(render_chunks(text)):
            sent.append(await self.application.bot.send_message(
                chat, chunk, parse_mode=ParseMode.HTML, message_thread_id=thread,
                reply_parameters=_reply_to(reply_to) if index == 0 else None,
                link_preview_options=NO_PREVIEW,
            ))
        return sent

    async def _send_file(
        self, chat: int, thread: int | None, text: RichText, file: Path, reply_to: int | None
    ) -> list[Message]:
        """An image (the summary chart) with sendPhoto, any other file (my data, a CSV, a
        PDF) with sendDocument, which is all sendPhoto refuses; captioned when the text
        fits a caption, else the text follows in messages of its own."""
        chunks = render_chunks(text, CAPTION_LIMIT)
        caption = chunks[0] if len(chunks) == 1 else None
        options: dict[str, Any] = {"caption": caption, "parse_mode": ParseMode.HTML,
                                   "message_thread_id": thread,
                                   "reply_parameters": _reply_to(reply_to)}
        bot = self.application.bot
        if await asyncio.to_thread(sends_as_photo, file):
            sent = await bot.send_photo(chat, file, **options)
        else:
            sent = await bot.send_document(chat, file, filename=file.name, **options)
        rest = [] if caption is not None else await self._send_text(chat, thread, text, None)
        return [sent, *rest]


def _sent_file(message: Message) -> tuple[str, str, int | None, str] | None:
    """(file id, base name, size, content type) of a document or photo in ``message``."""
    if message.document is not None:
        doc = message.document
        return (doc.file_id, safe_name(doc.file_name or "document"), doc.file_size,
                doc.mime_type or "")
    if message.photo:
        photo = message.photo[-1]  # the largest size Telegram made of it
        return photo.file_id, "photo.jpg", photo.file_size, "image/jpeg"
    return None


def _reply_to(message: int | None) -> ReplyParameters | None:
    if message is None:
        return None
    return ReplyParameters(message, allow_sending_without_reply=True)

