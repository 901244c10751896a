"""Pure translation of Telegram updates into core events and command calls. No I/O.

Every function takes python-telegram-bot objects and returns frozen core values, so the
mapping is tested with plain asserts on hand-built updates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from telegram import (
    Chat,
    ChatInviteLink,
    ChatMember,
    ChatMemberRestricted,
    ChatMemberUpdated,
    Message,
    MessageEntity,
    MessageReactionCountUpdated,
    MessageReactionUpdated,
    ReactionType,
    ReactionTypeCustomEmoji,
    ReactionTypeEmoji,
    User,
)
from telegram.constants import MessageAttachmentType

from bot.adapters.telegram.ids import (
    channel_id,
    community_id,
    member_id,
    message_id,
    update_key,
)
from bot.core.commands import Command, MemberRef, OptionKind
from bot.core.events import (
    Channel,
    CommunityJoined,
    CommunityLeft,
    Event,
    InviteUsed,
    MemberJoined,
    MemberLeft,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
    ReactionsCounted,
)
from bot.core.text import visible_length

PRESENT = frozenset({ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER})
ADMINS = frozenset({ChatMember.OWNER, ChatMember.ADMINISTRATOR})
#: Name of a personal invite link the bot created for a member (CreateInvite): joins by
#: it credit that member, not the bot that technically created the link.
REFERRAL_PREFIX = "tribebot:"
#: Prefix of the argument token that stands for a text mention (a user without @username).
MENTION_TOKEN = "@#"
#: Every field ``Message.effective_attachment`` looks at, read in one call.
_ATTACHMENT_FIELDS = attrgetter(*(kind.value for kind in MessageAttachmentType))


def is_group(chat: Chat) -> bool:
    return chat.type in (Chat.GROUP, Chat.SUPERGROUP)


def is_present(member: ChatMember) -> bool:
    """In the chat: a restricted member still counts when ``is_member`` says so."""
    if isinstance(member, ChatMemberRestricted):
        return member.is_member
    return member.status in PRESENT


def member_name(user: User) -> str:
    return user.full_name


# -- messages --------------------------------------------------------------------------
def message_channel(message: Message) -> str:
    """The chat, or the forum topic when the message was posted in one."""
    thread = message.message_thread_id if message.is_topic_message else None
    return channel_id(message.chat.id, thread)


def reply_target(message: Message) -> Message | None:
    """The message really replied to; in forums every message "replies" to its topic's
    first (service) message, which is not a reply."""
    parent = message.reply_to_message
    if parent is None or parent.forum_topic_created is not None:
        return None
    if message.is_topic_message and parent.message_id == message.message_thread_id:
        return None
    return parent


def has_attachment(message: Message) -> bool:
    """``message.effective_attachment is not None``, cheaply for the usual text message.

    The library walks its enum of attachment kinds with a lookup per kind (about 10 µs,
    the most of translating a message); reading the same fields at once answers "none"
    for a plain text message, and a message with one still asks the library (its answer,
    cache and deprecation warnings stay the library's).
    """
    if any(_ATTACHMENT_FIELDS(message)):
        return message.effective_attachment is not None
    return False


def _author(message: Message) -> tuple[str, str, bool] | None:
    """(member id, name, is_bot); posts sent as a chat (anonymous admins, linked channels)
    are authored by that chat and never earn points."""
    if message.sender_chat is not None:
        return member_id(message.sender_chat.id), message.sender_chat.title or "", True
    if message.from_user is None:
        return None
    user = message.from_user
    return member_id(user.id), member_name(user), user.is_bot


def message_event(update_id: int, message: Message) -> MessagePosted | None:
    """A posted message, or None for service messages and messages without an author."""
    author = _author(message)
    text = message.text if message.text is not None else message.caption
    has_media = has_attachment(message)
    if author is None or (text is None and not has_media):
        return None
    parent = reply_target(message)
    parent_author = _author(parent) if parent is not None else None
    chat = message.chat.id
    return MessagePosted(
        community=community_id(chat), at=message.date, platform_key=update_key(update_id),
        message=message_id(chat, message.message_id), author=author[0],
        author_name=author[1], author_is_bot=author[2], channel=message_channel(message),
        reply_to=message_id(chat, parent.message_id) if parent is not None else None,
        reply_to_author=parent_author[0] if parent_author is not None else None,
        length=visible_length(text or ""), has_media=has_media, text=text,
    )


def edit_event(update_id: int, message: Message) -> MessageEdited:
    text = message.text if message.text is not None else message.caption
    chat = message.chat.id
    return MessageEdited(
        community=community_id(chat), at=message.edit_date or message.date,
        platform_key=update_key(update_id), message=message_id(chat, message.message_id),
        length=visible_length(text or ""), text=text,
    )


def service_member_events(message: Message, bot_id: int) -> list[Event]:
    """Joins and leaves told by service messages: the fallback when the bot is not an
    administrator (then Telegram sends no chat_member updates). Natural keys, so the
    same join seen through chat_member in the same second is one event."""
    community = community_id(message.chat.id)
    events: list[Event] = []
    for user in message.new_chat_members or ():
        if user.id != bot_id:
            events.append(MemberJoined(community=community, at=message.date,
                                       member=member_id(user.id), name=member_name(user),
                                       is_bot=user.is_bot))
    left = message.left_chat_member
    if left is not None and left.id != bot_id:
        events.append(MemberLeft(community=community, at=message.date, member=member_id(left.id)))
    return events


# -- membership ------------------------------------------------------------------------
def member_update_events(update_id: int, change: ChatMemberUpdated) -> list[Event]:
    """A member joined (and by whose invite link) or left."""
    was, now = is_present(change.old_chat_member), is_present(change.new_chat_member)
    user = change.new_chat_member.user
    community = community_id(change.chat.id)
    if not was and now:
        events: list[Event] = [MemberJoined(community=community, at=change.date,
                                            member=member_id(user.id), name=member_name(user),
                                            is_bot=user.is_bot)]
        link = change.invite_link
        if link is not None:
            events.append(InviteUsed(
                community=community, at=change.date, platform_key=update_key(update_id, 1),
                member=member_id(user.id), inviter=link_inviter(link),
                code=link.name or link.invite_link))
        return events
    if was and not now:
        return [MemberLeft(community=community, at=change.date, member=member_id(user.id))]
    return []


def referral_link_name(member: int) -> str:
    return f"{REFERRAL_PREFIX}{member}"


def link_inviter(link: ChatInviteLink) -> str | None:
    """Who brought a member by this link: the member a personal link was made for, else
    the link's creator."""
    name = link.name or ""
    if name.startswith(REFERRAL_PREFIX) and name[len(REFERRAL_PREFIX):].isdigit():
        return member_id(int(name[len(REFERRAL_PREFIX):]))
    return member_id(link.creator.id) if link.creator else None


@dataclass(frozen=True, slots=True)
class BotMembership:
    """What a my_chat_member update means for the bot in a group."""

    event: CommunityJoined | CommunityLeft | None
    #: Added (or demoted) without admin rights: reactions and joins will not arrive.
    needs_admin: bool = False


def bot_membership(update_id: int, change: ChatMemberUpdated) -> BotMembership:
    if not is_group(change.chat):
        return BotMembership(None)
    was, now = is_present(change.old_chat_member), is_present(change.new_chat_member)
    community = community_id(change.chat.id)
    is_admin = change.new_chat_member.status in ADMINS
    lost_admin = change.old_chat_member.status in ADMINS and not is_admin
    if not was and now:
        title = change.chat.title or ""
        joined = CommunityJoined(
            community=community, at=change.date, platform_key=update_key(update_id),
            name=title, channels=(Channel(id=channel_id(change.chat.id), name=title),))
        return BotMembership(joined, needs_admin=not is_admin)
    if was and not now:
        return BotMembership(CommunityLeft(community=community, at=change.date,
                                           platform_key=update_key(update_id)))
    return BotMembership(None, needs_admin=now and lost_admin)


# -- reactions -------------------------------------------------------------------------
def reaction_label(reaction: ReactionType) -> str:
    """The emoji itself, ``custom:<id>`` for custom emoji, else the type (``paid``)."""
    if isinstance(reaction, ReactionTypeEmoji):
        return reaction.emoji
    if isinstance(reaction, ReactionTypeCustomEmoji):
        return f"custom:{reaction.custom_emoji_id}"
    return str(reaction.type)


def reaction_diff(
    old: Sequence[ReactionType], new: Sequence[ReactionType]
) -> tuple[list[str], list[str]]:
    """(added, removed) labels: Telegram sends a user's whole reaction set each time."""
    before = [reaction_label(r) for r in old]
    after = [reaction_label(r) for r in new]
    return ([r for r in after if r not in before], [r for r in before if r not in after])


def reaction_events(
    update_id: int, change: MessageReactionUpdated, author: str | None
) -> list[Event]:
    """One event per emoji added or removed; anonymous (chat) reactions are skipped."""
    user = change.user
    if user is None:
        return []
    chat = change.chat.id
    community, at = community_id(chat), change.date
    message, reactor = message_id(chat, change.message_id), member_id(user.id)
    is_bot = user.is_bot
    added, removed = reaction_diff(change.old_reaction, change.new_reaction)
    events: list[Event] = []
    kind: type[ReactionRemoved] | type[ReactionAdded]
    for kind, emojis in ((ReactionRemoved, removed), (ReactionAdded, added)):
        for emoji in emojis:  # removals first: an emoji changed is taken off, then put on
            events.append(kind(
                community=community, at=at, platform_key=update_key(update_id, len(events)),
                message=message, reactor=reactor, emoji=emoji, message_author=author,
                reactor_is_bot=is_bot))
    return events


def reaction_count_event(update_id: int, counts: MessageReactionCountUpdated
                         ) -> ReactionsCounted:
    """Anonymous totals per emoji: recorded for content resonance, worth no points."""
    chat = counts.chat.id
    return ReactionsCounted(
        community=community_id(chat), at=counts.date, platform_key=update_key(update_id),
        message=message_id(chat, counts.message_id),
        counts=tuple((reaction_label(r.type), r.total_count) for r in counts.reactions))


# -- commands --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CommandCall:
    """A /command as typed: ``/points@TribeBot give @bob 5`` -> name "points",
    bot "TribeBot", arguments ["give", "@bob", "5"]."""

    name: str
    bot: str | None
    arguments: str
    #: Text mentions (members without a username) by the token that replaced them.
    mentions: dict[str, MemberRef] = field(default_factory=dict)
    #: The author of the message the command replies to, if any.
    replied_member: MemberRef | None = None

    def addressed_to(self, username: str) -> bool:
        return self.bot is None or self.bot.lower() == username.lower()


def command_call(message: Message) -> CommandCall | None:
    """The command at the start of a message (or of a file's caption: ``/points import``
    sent with the CSV), or None for an ordinary message."""
    text = message.text if message.text is not None else message.caption
    entities = message.entities if message.text is not None else message.caption_entities
    if not text or not entities:
        return None
    first = min(entities, key=lambda e: e.offset)
    if first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
        return None
    raw = _utf16_slice(text, 0, first.length).removeprefix("/")
    name, _, bot = raw.partition("@")
    arguments, mentions = _arguments(text, entities, first.length)
    parent = reply_target(message)
    replied = None
    if parent is not None and parent.from_user is not None and parent.sender_chat is None:
        replied = MemberRef(member_id(parent.from_user.id), member_name(parent.from_user))
    return CommandCall(name.lower(), bot or None, arguments, mentions, replied)


def _utf16_slice(text: str, start: int, end: int | None = None) -> str:
    """Telegram entity offsets count UTF-16 code units, not Python characters."""
    data = text.encode("utf-16-le")
    return data[start * 2: None if end is None else end * 2].decode("utf-16-le")


def _arguments(
    text: str, entities: Sequence[MessageEntity], start: int
) -> tuple[str, dict[str, MemberRef]]:
    """The text after the command, text mentions replaced by one-word tokens."""
    parts: list[str] = []
    mentions: dict[str, MemberRef] = {}
    position = start
    for entity in sorted(entities, key=lambda e: e.offset):
        if entity.type != MessageEntity.TEXT_MENTION or entity.user is None:
            continue
        if entity.offset < position:
            continue
        token = f"{MENTION_TOKEN}{entity.user.id}"
        mentions[token] = MemberRef(member_id(entity.user.id), member_name(entity.user))
        parts += [_utf16_slice(text, position, entity.offset), f" {token} "]
        position = entity.offset + entity.length
    parts.append(_utf16_slice(text, position))
    return "".join(parts).strip(), mentions


def with_replied_member(
    command: Command, words: list[str], call: CommandCall,
    resolve: Callable[[str], MemberRef | None],
) -> list[str]:
    """Replying to someone names them: ``/points give 5 thanks`` as a reply to Bob's
    message gives Bob 5, unless the member is written out."""
    if call.replied_member is None:
        return words
    index = next((i for i, o in enumerate(command.options) if o.kind is OptionKind.MEMBER),
                 None)
    if index is None or (index < len(words) and resolve(words[index]) is not None):
        return words
    token = f"{MENTION_TOKEN}{call.replied_member.id.split(':', 1)[1]}"
    call.mentions.setdefault(token, call.replied_member)
    return [*words[:index], token, *words[index:]]
