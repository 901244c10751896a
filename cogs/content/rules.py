"""Pure rules of the content calendar: schedules, slots, rotation and input checks.

No event loop, no database: every function here takes what it needs and returns a value,
so the scheduling behaviour (DST, misfires, rotation) is tested with plain asserts.
Errors carry an English sentence with placeholders (a gettext msgid) and its values, so
the cog can translate them for the community.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot.core.events import STAGES
from bot.core.text import TEXT_LIMITS, text_limit  # noqa: F401 - also this module's API

DEFAULT_GRACE = timedelta(hours=1)
MAX_EVERY = 366
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LIBRARY_WORDS = frozenset({"queue", "library"})
TOPIC_PATTERN = re.compile(r"^[^\W_][\w-]{0,31}$")


class ContentError(ValueError):
    """Bad input: ``message`` is an English msgid with ``{placeholders}`` for ``values``."""

    def __init__(self, message: str, **values: Any) -> None:
        self.message = message
        self.values = values
        super().__init__(message.format(**values))


@dataclass(frozen=True, slots=True)
class Schedule:
    """A validated schedule; ``spec`` is its normal form, enough to rebuild the trigger.

    ``kind`` is ``once``, ``days``, ``weeks``, ``cron`` or ``library`` (no schedule of its
    own: the item waits in its topic's queue).
    """

    kind: str
    spec: str

    @property
    def recurring(self) -> bool:
        return self.kind in ("days", "weeks", "cron")


# -- schedules -------------------------------------------------------------------------

def parse_schedule(text: str, zone: ZoneInfo, now: datetime) -> Schedule:
    """Read a schedule typed by a moderator; raises ContentError saying what to fix.

    Forms: ``once 2026-12-01 10:00``, ``every 3 days 10:00``, ``every 2 weeks tue 10:00``,
    ``cron 0 10 * * TUE``, ``queue``. ``every`` forms are anchored on their first future
    slot (``from DATE`` in the normal form) so a rebuilt trigger keeps the same rhythm.
    """
    words = text.strip().split()
    if not words:
        raise ContentError(_SCHEDULE_HELP, schedule=text)
    head = words[0].lower()
    if head in LIBRARY_WORDS and len(words) == 1:
        return Schedule("library", "queue")
    if head == "once":
        return _parse_once(words[1:], zone, now, text)
    if head == "every":
        return _parse_every(words[1:], zone, now, text)
    if head == "cron":
        return _parse_cron(" ".join(words[1:]), zone, now)
    raise ContentError(_SCHEDULE_HELP, schedule=text)


_SCHEDULE_HELP = (
    "I don't understand the schedule “{schedule}”. Write it in quotes as one of: "
    "\"once 2026-12-01 10:00\", \"every 3 days 10:00\", \"every 2 weeks tue 10:00\", "
    "\"cron 0 10 * * TUE\" or \"queue\"."
)


def _parse_once(words: list[str], zone: ZoneInfo, now: datetime, text: str) -> Schedule:
    if len(words) != 2:
        raise ContentError(_SCHEDULE_HELP, schedule=text)
    day = _parse_date(words[0])
    clock = _parse_time(words[1])
    moment = local_moment(day, clock, zone)
    if moment <= now:
        raise ContentError(
            "{when} ({zone}) is already in the past; pick a future date and time.",
            when=f"{words[0]} {words[1]}", zone=zone.key)
    return Schedule("once", f"once {day.isoformat()} {_hhmm(clock)}")


def _parse_every(words: list[str], zone: ZoneInfo, now: datetime, text: str) -> Schedule:
    anchor: date | None = None
    if len(words) >= 2 and words[-2].lower() == "from":
        anchor = _parse_date(words[-1])
        words = words[:-2]
    count = 1
    if words and words[0].isdigit():
        count = int(words.pop(0))
    if not words:
        raise ContentError(_SCHEDULE_HELP, schedule=text)
    unit = words.pop(0).lower().rstrip("s")
    if not 1 <= count <= MAX_EVERY:
        raise ContentError("The interval must be between 1 and {max}, not {value}.",
                           max=MAX_EVERY, value=count)
    if unit == "day" and len(words) == 1:
        clock = _parse_time(words[0])
        weekday = None
    elif unit == "week" and len(words) == 2:
        weekday = _parse_weekday(words[0])
        clock = _parse_time(words[1])
    else:
        raise ContentError(_SCHEDULE_HELP, schedule=text)
    if anchor is None:
        anchor = _first_day(clock, weekday, zone, now)
    elif weekday is not None and anchor.weekday() != weekday:
        raise ContentError("{day} is not a {weekday}.", day=anchor.isoformat(),
                           weekday=WEEKDAYS[weekday])
    if weekday is None:
        spec = f"every {count} days {_hhmm(clock)} from {anchor.isoformat()}"
        return Schedule("days", spec)
    spec = f"every {count} weeks {WEEKDAYS[weekday]} {_hhmm(clock)} from {anchor.isoformat()}"
    return Schedule("weeks", spec)


def _parse_cron(expression: str, zone: ZoneInfo, now: datetime) -> Schedule:
    expression = expression.strip().strip("\"'")
    fields = expression.split()
    if len(fields) != 5:
        raise ContentError(
            "The cron expression “{cron}” needs 5 fields (minute hour day month weekday), "
            "like \"0 10 * * TUE\"; it has {count}.", cron=expression, count=len(fields))
    try:
        trigger = CronTrigger.from_crontab(cron_to_apscheduler(expression), timezone=zone)
    except ValueError as exc:
        raise ContentError("The cron expression “{cron}” is not valid: {problem}.",
                           cron=expression, problem=str(exc)) from None
    if trigger.get_next_fire_time(None, now) is None:
        raise ContentError("The cron expression “{cron}” never fires.", cron=expression)
    return Schedule("cron", f"cron {expression}")


def cron_to_apscheduler(expression: str) -> str:
    """A crontab line with its weekday field in APScheduler 3's numbering.

    Crontab counts weekdays from Sunday (0 or 7); APScheduler 3 counts from Monday (0).
    Names (``TUE``) mean the same in both and are kept; numbers become names, and a
    numeric range that wraps past Sunday is split in two.
    """
    fields = expression.split()
    if len(fields) != 5:
        return expression
    fields[4] = ",".join(_weekday_part(part) for part in fields[4].split(","))
    return " ".join(fields)


def _weekday_part(part: str) -> str:
    body, slash, step = part.partition("/")
    if slash and not step.isdigit():
        return part  # left for APScheduler to reject with its own message
    stride = int(step) if slash else 1
    if body == "*":
        if not slash:
            return "*"
        days = range(0, 7, stride)
    elif "-" in body:
        first, _, last = body.partition("-")
        if not (first.isdigit() and last.isdigit()):
            return part
        days = range(int(first), int(last) + 1, stride)
    elif body.isdigit():
        days = range(int(body), int(body) + 1) if not slash else range(int(body), 7, stride)
    else:
        return part
    if not days or max(days) > 7:
        return part
    cron_names = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
    return ",".join(dict.fromkeys(cron_names[d % 7] for d in days))


def build_trigger(spec: str, zone: ZoneInfo) -> BaseTrigger | None:
    """The APScheduler trigger of a normal-form schedule (None for a library item)."""
    words = spec.split()
    kind = words[0]
    if kind == "queue":
        return None
    if kind == "once":
        return DateTrigger(run_date=local_moment(date.fromisoformat(words[1]),
                                                 _parse_time(words[2]), zone), timezone=zone)
    if kind == "cron":
        return CronTrigger.from_crontab(cron_to_apscheduler(" ".join(words[1:])), timezone=zone)
    count, unit, anchor = int(words[1]), words[2], date.fromisoformat(words[-1])
    clock = _parse_time(words[-3])
    if unit == "days":
        return CalendarIntervalTrigger(days=count, hour=clock.hour, minute=clock.minute,
                                       second=clock.second, start_date=anchor, timezone=zone)
    return CalendarIntervalTrigger(weeks=count, hour=clock.hour, minute=clock.minute,
                                   second=clock.second, start_date=anchor, timezone=zone)


def fire_times(trigger: BaseTrigger, after: datetime, until: datetime,
               *, limit: int = 1000) -> list[datetime]:
    """Slots of ``trigger`` in (after, until], oldest first, at most ``limit`` (the latest)."""
    found: list[datetime] = []
    moment = next_fire_after(trigger, after)
    while moment is not None and moment <= until:
        found.append(moment)
        if len(found) > limit:
            found.pop(0)
        moment = trigger.get_next_fire_time(moment, moment)
    return found


def next_fire_after(trigger: BaseTrigger, after: datetime) -> datetime | None:
    """The first slot strictly after ``after``."""
    moment = trigger.get_next_fire_time(None, after)
    while moment is not None and moment <= after:
        moment = trigger.get_next_fire_time(moment, moment)
    return moment


def upcoming(trigger: BaseTrigger, after: datetime, count: int) -> list[datetime]:
    out: list[datetime] = []
    moment = next_fire_after(trigger, after)
    while moment is not None and len(out) < count:
        out.append(moment)
        moment = trigger.get_next_fire_time(moment, moment)
    return out


@dataclass(frozen=True, slots=True)
class SlotDecision:
    slot: datetime
    send: bool
    reason: str = ""  # why a slot is skipped: "missed" (beyond grace) or "coalesced"


def plan_slots(due: Sequence[datetime], now: datetime, grace: timedelta) -> list[SlotDecision]:
    """What to do with the slots that came due: post the latest one if it is within the
    grace time; every other slot is skipped (and recorded, for the weekly summary)."""
    decisions = []
    for index, slot in enumerate(due):
        late = now - slot > grace
        if index == len(due) - 1 and not late:
            decisions.append(SlotDecision(slot, True))
        else:
            decisions.append(SlotDecision(slot, False, "missed" if late else "coalesced"))
    return decisions


# -- rotation --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class QueueEntry:
    item: int
    posts: int  # how many times this queue has posted the item


def next_in_rotation(entries: Sequence[QueueEntry]) -> int | None:
    """The item a queue posts next: the least posted, oldest first.

    Every item is posted once before any is posted twice, and an item added later joins
    the round it is behind in.
    """
    if not entries:
        return None
    return min(entries, key=lambda e: (e.posts, e.item)).item


# -- input checks ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ContentFlags:
    direct: bool = False
    stage: str | None = None
    body: str = ""


def parse_flags(text: str) -> ContentFlags:
    """Leading ``--dm`` and ``--stage STAGE`` of a content text. A file is attached to the
    command's message, never named (``--file PATH`` is refused: it would read the host)."""
    words = text.split(" ")
    direct, stage = False, None
    while words and words[0].startswith("--"):
        flag, _, value = words.pop(0).partition("=")
        flag = flag.lower()
        if flag == "--dm":
            direct = True
        elif flag == "--file":
            raise ContentError("Attach the file to the command's message instead of naming "
                               "it; I never open a file named in a command.")
        elif flag == "--stage":
            if not value:
                if not words:
                    raise ContentError("{flag} needs a value.", flag=flag)
                value = words.pop(0)
            stage = check_stage(value)
        else:
            raise ContentError("I don't know the option {flag}; use --dm or --stage.",
                               flag=flag)
    if stage is not None and not direct:
        # the channel post is seen by everyone: a stage can only choose who gets the DMs
        raise ContentError(STAGE_NEEDS_DM, stage=stage)
    return ContentFlags(direct=direct, stage=stage, body=" ".join(words).strip())


STAGE_NEEDS_DM = ("--stage {stage} only chooses which of the topic's subscribers also get the "
                  "post by direct message, so it needs --dm; the post in the channel is seen "
                  "by everyone. Add --dm, or leave out --stage.")


def check_stage(stage: str) -> str:
    value = stage.strip().lower()
    if value not in STAGES:
        raise ContentError("There is no stage “{stage}”; stages are {stages}.",
                           stage=stage, stages=", ".join(STAGES))
    return value


def check_topic(topic: str) -> str:
    value = topic.strip().lstrip("#").lower()
    if not TOPIC_PATTERN.match(value):
        raise ContentError(
            "A topic is one word of letters, digits or dashes (up to 32), not “{topic}”.",
            topic=topic)
    return value


def check_text(body: str, community: str) -> str:
    text = body.strip()
    if not text:
        raise ContentError("The content text is empty.")
    limit = text_limit(community)
    if len(text) > limit:
        raise ContentError(
            "The text has {length} characters; {platform} allows at most {limit}. "
            "Shorten it by {over}.", length=len(text), platform=community.partition(":")[0],
            limit=limit, over=len(text) - limit)
    return text


def parse_content_id(word: str) -> tuple[str, int]:
    """``7`` names item 7, ``q2`` names queue 2: returns ("item" | "queue", number)."""
    value = word.strip().lstrip("#").lower()
    kind = "queue" if value.startswith("q") else "item"
    number = value[1:] if kind == "queue" else value
    if not number.isdigit():
        raise ContentError("“{value}” is not a content id; ids look like 7 (an item) or q2 "
                           "(a queue). /content list shows them.", value=word)
    return kind, int(number)


def retry_delays(tries: int, base: float) -> list[float]:
    """Waits between send attempts: base, 2·base, 4·base … (tries - 1 of them)."""
    return [base * (2 ** i) for i in range(max(tries - 1, 0))]


def local_moment(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """A wall-clock time in ``zone``; raises when DST makes it not exist that day."""
    naive = datetime.combine(day, clock)
    moment = naive.replace(tzinfo=zone)
    back = moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != naive:
        raise ContentError("{when} does not exist in {zone} (the clocks jump forward then); "
                           "pick another time.", when=f"{day.isoformat()} {_hhmm(clock)}",
                           zone=zone.key)
    return moment


def _first_day(clock: time, weekday: int | None, zone: ZoneInfo, now: datetime) -> date:
    """The first local date, from today on, whose slot is still ahead of ``now``."""
    day = now.astimezone(zone).date()
    for _ in range(15):
        if weekday is None or day.weekday() == weekday:
            moment = datetime.combine(day, clock).replace(tzinfo=zone)
            if moment > now:
                return day
        day += timedelta(days=1)
    return day


def _parse_date(word: str) -> date:
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise ContentError("“{value}” is not a date; write it as YYYY-MM-DD, like 2026-12-01.",
                           value=word) from None


def _parse_time(word: str) -> time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", word)
    if match:
        hour, minute, second = (int(g) if g else 0 for g in match.groups())
        if hour < 24 and minute < 60 and second < 60:
            return time(hour, minute, second)
    raise ContentError("“{value}” is not a time; write it as HH:MM on a 24-hour clock, "
                       "like 10:00.", value=word)


def _parse_weekday(word: str) -> int:
    value = word.lower()
    full = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    if value in full:
        value = value[:3]
    if value not in WEEKDAYS:
        raise ContentError("“{value}” is not a weekday; write mon, tue, wed, thu, fri, sat "
                           "or sun.", value=word)
    return WEEKDAYS.index(value)


def _hhmm(clock: time) -> str:
    return clock.strftime("%H:%M:%S" if clock.second else "%H:%M")
