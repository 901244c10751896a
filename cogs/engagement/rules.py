"""Pure engagement rules: who earns what, levels on the curve, streaks, spam fingerprints.

No I/O here: every decision is a function of the event, the policy and the member's
in-memory state, so the rules are tested with plain asserts.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, lru_cache

from cogs.engagement.settings import LEVELS as MAX_LEVEL
from cogs.engagement.settings import Policy

__all__ = ["Policy"]


# -- levels -----------------------------------------------------------------------------
def xp_to_next(level: int, curve: tuple[int, int, int]) -> int:
    """XP needed to go from ``level`` to ``level + 1``: a·n² + b·n + c (default 5, 50, 100)."""
    a, b, c = curve
    return a * level * level + b * level + c


@dataclass(frozen=True, slots=True)
class LevelProgress:
    level: int
    into_level: int
    needed: int




@cache
def _thresholds(curve: tuple[int, int, int]) -> list[int]:
    """Total XP needed to reach each level (index = level); computed once per curve."""
    totals = [0]
    for level in range(MAX_LEVEL):
        step = xp_to_next(level, curve)
        if step <= 0:
            break
        totals.append(totals[-1] + step)
    return totals


def level_of(points: int, curve: tuple[int, int, int]) -> int:
    """The level reached with ``points``: a bisection on a cached table."""
    return bisect_right(_thresholds(curve), max(points, 0)) - 1


def reaches(points: int, level: int, curve: tuple[int, int, int]) -> bool:
    """Whether ``points`` reach ``level`` (``level_of(points, curve) >= level``), by one
    look-up in the table: every rewarded message asks it of the next level to announce,
    and almost always the answer is no."""
    if level <= 0:
        return True
    totals = _thresholds(curve)
    return level < len(totals) and points >= totals[level]


def level_up_due(before: int, after: int, announced: int, curve: tuple[int, int, int]
                 ) -> bool:
    """Whether a total that went from ``before`` to ``after`` may have crossed a level not
    announced yet (``announced``: the highest announced); ``reaches`` makes it one look-up."""
    return after > before and reaches(after, announced + 1, curve)


def level_for(points: int, curve: tuple[int, int, int]) -> LevelProgress:
    """The level reached with ``points`` and the progress towards the next one."""
    totals = _thresholds(curve)
    points = max(points, 0)
    level = level_of(points, curve)
    if level + 1 >= len(totals):
        return LevelProgress(level, points - totals[level], 0)
    return LevelProgress(level, points - totals[level], totals[level + 1] - totals[level])


def reward_for(level: int, rewards: dict[str, str]) -> tuple[str | None, list[str]]:
    """The reward of the highest reward level reached, and the lower rewards it replaces."""
    if not rewards:  # most communities give none: a level-up asks twice
        return None, []
    reached = sorted((int(k), v) for k, v in rewards.items() if int(k) <= level)
    if not reached:
        return None, []
    return reached[-1][1], [name for _, name in reached[:-1]]


# -- anti-farming -----------------------------------------------------------------------
_REPEATS = re.compile(r"(.)\1{2,}")
# Spacing, ASCII punctuation, combining accents, Hebrew points and cantillation, general
# punctuation (incl. bidi marks) and emoji variation selectors: what spammers vary.
_PUNCTUATION = "!-/:-@\\[-`{-~\u0300-\u036f\u0591-\u05c7\u05f3\u05f4\u2000-\u206f\ufe0f\u200d"
_NOISE = re.compile(f"[\\s{_PUNCTUATION}]+")
#: ``_NOISE`` but spacing, which ``str.split`` removes first: a few large matches instead
#: of one per word halves the substitution (``\\s`` and ``str.split`` both go by
#: ``str.isspace``, and the two steps delete the same characters as one).
_NOISE_BUT_SPACING = re.compile(f"[{_PUNCTUATION}]+")
#: The ASCII characters ``_NOISE`` removes, taken from the pattern itself (so the two
#: cannot disagree), for ``bytes.translate``: four times quicker than the substitution.
_ASCII_NOISE = bytes(code for code in range(128) if _NOISE.fullmatch(chr(code)))
#: Whether a letter is stretched (``_REPEATS`` matches iff this does); without the
#: repetition count the search is twice as quick.
_STRETCHED = re.compile(r"(.)\1\1")


def fingerprint(text: str) -> str:
    """A form of the text under which near-identical messages look the same.

    Case, accents/niqqud, punctuation, spacing and stretched letters ("soooo") are removed,
    so "Hello!!", "hello" and "HELLO   " are one message for the spam check; letters,
    digits and emoji stay. Regular expressions keep it cheap on the per-message path.
    """
    folded = text.casefold()
    if folded.isascii():  # NFKD leaves ASCII as it is
        folded = folded.encode("ascii").translate(None, _ASCII_NOISE).decode("ascii")
    else:
        folded = _NOISE_BUT_SPACING.sub(
            "", "".join(unicodedata.normalize("NFKD", folded).split()))
    # most texts stretch no letter, and a search costs a third of a substitution with a
    # template (``\1``), which goes through Python code in ``re`` on every call
    return _REPEATS.sub(r"\1", folded) if _STRETCHED.search(folded) else folded


@dataclass(slots=True)
class MemberState:
    """What the cog remembers of a member between events. Everything but ``recent`` is
    rebuilt from the store (ledger, totals, announced levels) after a restart."""

    last_award: datetime | None = None
    #: fingerprint -> when the member last posted it (message text is not stored, so this
    #: starts empty after a restart)
    recent: dict[str, datetime] = field(default_factory=dict)
    day: str = ""
    earned_today: int = 0
    total: int = 0
    #: the highest level announced this season
    announced: int = 0

    def room_today(self, day: str, cap: int) -> int:
        if day != self.day:
            self.day, self.earned_today = day, 0
        return max(cap - self.earned_today, 0)

    def earn(self, points: int) -> None:
        self.earned_today += points
        self.total += points


RECENT_PRINTS = 32


@cache
def _seconds(seconds: int) -> timedelta:
    """A window as a timedelta, built once per length (it is needed per message)."""
    return timedelta(seconds=seconds)


def remember_print(state: MemberState, print_: str, at: datetime, window_seconds: int) -> bool:
    """Remember a message's fingerprint; True if it repeats one seen within the window.

    Prints older than the window are dropped as new ones come, so a member keeps only the
    prints of their last few minutes (memory is per member, for every member).
    """
    if not print_:
        return False
    recent = state.recent
    seen = recent.pop(print_, None)
    oldest = at - _seconds(window_seconds)
    while recent:
        first = next(iter(recent))
        if recent[first] >= oldest and len(recent) < RECENT_PRINTS:
            break
        del recent[first]
    recent[print_] = at  # re-inserted last, so the first key is always the oldest
    return seen is not None and (at - seen).total_seconds() <= window_seconds


#: The reasons for earning nothing that make a message farming, not contribution. A
#: cooldown or the daily cap only hold back points: the message still counts.
FARMING = frozenset({"too short", "duplicate", "excluded channel"})


@dataclass(frozen=True, slots=True)
class MessageAward:
    message_points: int
    reply_points: int
    why_not: str = ""  # the reason nothing was earned (for logs and tests)

    @property
    def farmed(self) -> bool:
        return self.why_not in FARMING


#: An award, shared between the messages that earn the same (it is frozen): a look-up
#: costs a fifth of building a frozen dataclass, and there are few different ones.
_award = lru_cache(maxsize=4096)(MessageAward)

#: Keys the hash that draws a message's points; changing it changes every stream's totals.
POINTS_KEY = b"tribebot message points v1"
#: The keyed hash before any input: keying compresses a whole block, so each message's
#: hash starts from a copy of this one instead of keying anew (same digests).
_KEYED = hashlib.blake2b(digest_size=8, key=POINTS_KEY)


def message_points(policy: Policy, community: str, message: str) -> int:
    """The points a message earns, "random" within the range but derived from its key: the
    same stream gives the same totals in every run, after a restart, on any machine."""
    low, high = policy.message_points_min, policy.message_points_max
    if high <= low:
        return low
    hashed = _KEYED.copy()
    hashed.update(f"{community}|{message}".encode())
    return low + int.from_bytes(hashed.digest(), "big") % (high - low + 1)


def award_message(
    policy: Policy, state: MemberState, *, at: datetime, day: str, length: int | None,
    text: str | None, is_bot: bool, excluded: bool, replies_to_other: bool, drawn: int,
    has_media: bool = False,
) -> MessageAward:
    """Decide the points for a message and update the member's state accordingly;
    ``drawn`` is what the message earns outside the limits (``message_points``).

    A picture or file with little or no text earns no message points (a sticker would
    be too easy to farm), but it is not farming either: someone shared something."""
    if is_bot:
        return _award(0, 0, "bot")
    if excluded:
        return _award(0, 0, "excluded channel")
    if length is not None and length < policy.min_length:
        return _award(0, 0, "media without text" if has_media else "too short")
    if text is not None and remember_print(state, fingerprint(text), at,
                                           policy.duplicate_window_seconds):
        return _award(0, 0, "duplicate")
    room = state.room_today(day, policy.daily_cap)
    if room <= 0:
        return _award(0, 0, "daily cap")
    cooling = (state.last_award is not None
               and (at - state.last_award).total_seconds() < policy.cooldown_seconds)
    points = 0 if cooling else drawn
    points = min(points, room)
    bonus = min(policy.reply_bonus, room - points) if replies_to_other else 0
    if points:
        state.last_award = at
    state.earn(points + bonus)
    return _award(points, bonus, "cooldown" if cooling and not bonus else "")


@dataclass(frozen=True, slots=True)
class ReactionAward:
    #: reaction points the message's author earns now
    points: int
    #: the helpful-answer bonus settled now (0 at the daily cap); None: not settled now
    helpful_bonus: int | None = None


#: Shared like ``_award``: a reaction earns one of a handful of awards.
_reaction_award = lru_cache(maxsize=4096)(ReactionAward)


def award_reaction(
    policy: Policy, author: MemberState, *, day: str, first_time: bool,
    given_by_reactor: int, message_points: int, answers_member: bool, helped: bool,
) -> ReactionAward:
    """Decide what a reaction earns the author of the message and update their state.

    A reaction counts once per reactor and emoji (``first_time``), within three caps: what
    this reactor gave this author today, what the message earned from reactions, and the
    author's daily cap. The first reaction to a reply to another member settles the
    helpful-answer bonus, once, even when the daily cap leaves nothing of it."""
    points = 0
    if first_time:
        points = max(min(
            policy.reaction_points,
            policy.reaction_cap_per_member_per_day - given_by_reactor,
            policy.reaction_cap_per_message - message_points,
            author.room_today(day, policy.daily_cap),
        ), 0)
        author.earn(points)
    bonus = None
    if answers_member and not helped and policy.helpful_answer_bonus:
        bonus = min(policy.helpful_answer_bonus, author.room_today(day, policy.daily_cap))
        author.earn(bonus)
    return _reaction_award(points, bonus)


# -- streaks ----------------------------------------------------------------------------
def streaks(active_days: list[date], today: date) -> tuple[int, int]:
    """Consecutive active days and ISO weeks ending today (or yesterday / last week).

    A streak is still alive if the member was active yesterday (or last week) but not yet
    today, so a morning look at /rank does not show a broken streak.
    """
    days = set(active_days)
    day_streak = 0
    cursor = today if today in days else today - timedelta(days=1)
    while cursor in days:
        day_streak += 1
        cursor -= timedelta(days=1)
    weeks = {_week_start(d) for d in days}
    week_streak = 0
    this_week = _week_start(today)
    cursor = this_week if this_week in weeks else this_week - timedelta(weeks=1)
    while cursor in weeks:
        week_streak += 1
        cursor -= timedelta(weeks=1)
    return day_streak, week_streak


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())
