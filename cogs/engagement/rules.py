"""Pure engagement rules: who earns what, levels on the curve, streaks, spam fingerprints.

No I/O here: every decision is a function of the event, the policy and the member's
in-memory state, so the rules are tested with plain asserts.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.config import EngagementSection as Policy

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

    @property
    def remaining(self) -> int:
        return self.needed - self.into_level


def level_for(points: int, curve: tuple[int, int, int]) -> LevelProgress:
    """The level reached with ``points`` and the progress towards the next one."""
    level, left = 0, max(points, 0)
    while True:
        step = xp_to_next(level, curve)
        if step <= 0 or left < step:
            return LevelProgress(level, left, max(step, 0))
        left -= step
        level += 1


def reward_for(level: int, rewards: dict[str, str]) -> tuple[str | None, list[str]]:
    """The reward of the highest reward level reached, and the lower rewards it replaces."""
    reached = sorted((int(k), v) for k, v in rewards.items() if int(k) <= level)
    if not reached:
        return None, []
    return reached[-1][1], [name for _, name in reached[:-1]]


# -- anti-farming -----------------------------------------------------------------------
_REPEATS = re.compile(r"(.)\1{2,}")


def fingerprint(text: str) -> str:
    """A form of the text under which near-identical messages look the same.

    Case, accents/niqqud, punctuation, spacing and stretched letters ("soooo") are removed,
    so "Hello!!", "hello" and "HELLO   " are one message for the spam check.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(ch for ch in decomposed
                   if unicodedata.category(ch)[0] in ("L", "N", "S"))
    return _REPEATS.sub(r"\1", kept)


@dataclass(slots=True)
class MemberState:
    """What the cog remembers of a member between events (never persisted)."""

    last_award: datetime | None = None
    recent: deque[tuple[str, datetime]] = field(default_factory=lambda: deque(maxlen=20))
    day: str = ""
    earned_today: int = 0
    total: int = 0

    def room_today(self, day: str, cap: int) -> int:
        if day != self.day:
            self.day, self.earned_today = day, 0
        return max(cap - self.earned_today, 0)

    def earn(self, points: int) -> None:
        self.earned_today += points
        self.total += points


def is_duplicate(state: MemberState, print_: str, at: datetime, window_seconds: int) -> bool:
    """True if the member posted the same (near-identical) text within the window."""
    if not print_:
        return False
    horizon = at - timedelta(seconds=window_seconds)
    return any(fp == print_ and seen >= horizon for fp, seen in state.recent)


@dataclass(frozen=True, slots=True)
class MessageAward:
    message_points: int
    reply_points: int
    why_not: str = ""  # the reason nothing was earned (for logs and tests)


def award_message(
    policy: Policy, state: MemberState, *, at: datetime, day: str, length: int,
    text: str | None, is_bot: bool, excluded: bool, replies_to_other: bool, rng: random.Random,
) -> MessageAward:
    """Decide the points for a message and update the member's state accordingly."""
    if is_bot:
        return MessageAward(0, 0, "bot")
    if excluded:
        return MessageAward(0, 0, "excluded channel")
    if length < policy.min_length:
        return MessageAward(0, 0, "too short")
    if text is not None:
        print_ = fingerprint(text)
        duplicate = is_duplicate(state, print_, at, policy.duplicate_window_seconds)
        state.recent.append((print_, at))
        if duplicate:
            return MessageAward(0, 0, "duplicate")
    room = state.room_today(day, policy.daily_cap)
    if room <= 0:
        return MessageAward(0, 0, "daily cap")
    cooling = (state.last_award is not None
               and (at - state.last_award).total_seconds() < policy.cooldown_seconds)
    points = 0 if cooling else rng.randint(policy.message_points_min, policy.message_points_max)
    points = min(points, room)
    bonus = min(policy.reply_bonus, room - points) if replies_to_other else 0
    if points:
        state.last_award = at
    state.earn(points + bonus)
    return MessageAward(points, bonus, "cooldown" if cooling and not bonus else "")


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
