"""The bundled sample community: eight weeks of a realistic, bilingual group.

Generated deterministically (fixed seed), so the demo and the tests see the same history.
Seventy-odd members behave the way the seeds describe: moderators and regulars who
return every week, helpers who answer newcomers, lurkers who only react, members who
drift away, one-time visitors, and newcomers arriving every week — in English and Hebrew.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

COMMUNITY = "console:makers"
START = date(2026, 9, 28)  # a Monday
WEEKS = 8
CHANNELS = {"general": "general", "help": "help", "showcase": "showcase",
            "offtopic": "off-topic", "owners": "owners"}

QUESTIONS = [
    "How do I get started with the first project?", "Which soldering iron do you recommend?",
    "Anyone tried the new sensor kit?", "Where can I find the meetup schedule?",
    "מישהו יודע איך מחברים את החיישן לבקר?", "איפה אפשר לקנות רכיבים בארץ?",
    "יש למישהו המלצה על מדפסת תלת־ממד למתחילים?", "מתי המפגש הבא?",
]
ANSWERS = [
    "Start with the pinned guide, it walks you through it step by step.",
    "I use a cheap temperature-controlled one, works great for 3 years now.",
    "Yes! The docs are in the #help channel, ping me if you get stuck.",
    "The schedule is on the community calendar, next one is Thursday.",
    "תחבר את ה־VCC ל־3.3V ואת ה־GND לאדמה, ואז זה אמור לעבוד.",
    "יש חנות טובה בתל אביב, ואפשר גם להזמין אונליין.",
    "אני ממליצה על הדגם הבסיסי, הוא סלחני מאוד למתחילים.",
    "ביום חמישי בשבע, באותו מקום כמו בפעם הקודמת.",
]
CHATTER = [
    "Good morning everyone!", "Just finished my weekend build, pictures soon.",
    "This community is the best, thanks all.", "Coffee first, then code.",
    "בוקר טוב לכולם!", "סיימתי סוף סוף את הפרויקט, תודה על העזרה!",
    "איזה כיף שיש קהילה כזאת.", "מישהו מגיע למפגש השבוע?",
    "Showing off: my LED matrix now plays Tetris 🎮", "הנה התמונה של המעגל שבניתי 🔧",
]
EMOJI = ["👍", "❤️", "🎉", "🙏", "🔥", "😂"]
NAMES_EN = ["Dana", "Maya", "Noah", "Liam", "Emma", "Olivia", "Ava", "Mia", "Ethan", "Lucas",
            "Zoe", "Leo", "Ella", "Jack", "Ruby", "Sam", "Nora", "Owen", "Ivy", "Max"]
NAMES_HE = ["אבי", "נועה", "יוסי", "מיכל", "רוני", "תמר", "איתי", "שירה", "עומר", "הילה",
            "דניאל", "יעל", "אורי", "ליאור", "גל", "עדי", "אלון", "רותם", "מאיה", "ניר"]


@dataclass
class Persona:
    id: str
    name: str
    kind: str          # moderator, regular, helper, drifter, lurker, visitor, once, newcomer
    joins_week: int    # week index in which they join (0 = before the bot)
    quiet_from: int    # week index from which they stop posting
    chattiness: float  # expected messages per active day


def _personas(rng: random.Random) -> list[Persona]:
    names = [*NAMES_EN, *NAMES_HE]
    rng.shuffle(names)
    plan = ([("moderator", 0, WEEKS, 3.0)] * 2 + [("regular", 0, WEEKS, 1.2)] * 12
            + [("helper", 0, WEEKS, 1.0)] * 6 + [("drifter", 0, 4, 1.0)] * 8
            + [("lurker", 0, WEEKS, 0.0)] * 10 + [("visitor", 0, WEEKS, 0.0)] * 4)
    for week in range(1, WEEKS):
        plan += [("visitor", week, WEEKS, 0.0), ("once", week, WEEKS, 0.0),
                 ("newcomer", week, WEEKS, 0.6), ("newcomer", week, WEEKS, 0.8)]
    people = []
    for index, (kind, week, quiet, chat) in enumerate(plan):
        base = names[index % len(names)]
        name = base if index < len(names) else f"{base} {index // len(names) + 1}"
        people.append(Persona(f"u{index + 1}", name, kind, week, quiet, chat))
    return people


def _at(day: date, minutes: int) -> str:
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=minutes)
    return moment.isoformat().replace("+00:00", "Z")


def sample_community(seed: int = 2026) -> list[dict[str, Any]]:
    """The whole history as replay records, in time order."""
    rng = random.Random(seed)
    people = _personas(rng)
    records: list[dict[str, Any]] = []
    counter = 0

    def add(kind: str, at: str, **fields: Any) -> None:
        records.append({"type": kind, "at": at, "community": COMMUNITY, **fields})

    moderators = [p.id for p in people if p.kind == "moderator"]
    add("community_joined", _at(START, 6 * 60), name="Makers Hub",
        channels=[{"id": cid, "name": name} for cid, name in CHANNELS.items()],
        moderators=moderators)
    # the owners set up where the bot reports to them, and a few regulars offer help
    add("command", _at(START, 6 * 60 + 2), member=moderators[0], channel="owners",
        text="/community owners #owners")
    for person in [p for p in people if p.kind == "helper"][:3]:
        add("command", _at(START, 6 * 60 + 3), member=person.id, channel="general",
            text="/welcome buddy on")
    # a content calendar: a weekly tip from a queue, and a one-off announcement by DM
    for tip in ("Tip: label your wires before you solder them.",
                "טיפ: צלמו את המעגל לפני שמפרקים אותו.",
                "Tip: share a photo of your build — questions get answers faster."):
        add("command", _at(START, 6 * 60 + 4), member=moderators[0], channel="general",
            text=f'/content add tips "queue" {tip}')
    add("command", _at(START, 6 * 60 + 5), member=moderators[0], channel="general",
        text='/content queue tips "every 1 weeks tue 10:00"')
    add("command", _at(START, 6 * 60 + 6), member=people[2].id, channel="general",
        text="/subscribe meetups")
    add("command", _at(START, 6 * 60 + 7), member=moderators[0], channel="general",
        text='/content add meetups "once 2026-10-15 18:00" --dm Meetup tonight at 19:00!')
    before = START - timedelta(days=90)  # the founding members were there before the bot
    for person in people:
        if person.joins_week == 0:
            add("member_joined", _at(before, 6 * 60 + 1), member=person.id, name=person.name)
    inviters = [p for p in people if p.kind in ("regular", "helper", "moderator")]

    for offset in range(WEEKS * 7):
        day = START + timedelta(days=offset)
        week = offset // 7
        todays: list[tuple[int, str, str, str | None]] = []  # (minute, id, author, question)
        for index, person in enumerate(people):
            join_offset = person.joins_week * 7 + (index % 7 if person.joins_week else 0)
            if offset == join_offset and week > 0:
                minute = rng.randint(8 * 60, 20 * 60)
                add("member_joined", _at(day, minute), member=person.id, name=person.name)
                if rng.random() < 0.5:
                    add("invite_used", _at(day, minute), member=person.id,
                        inviter=rng.choice(inviters).id, code="friends")
                if person.kind == "once":
                    counter += 1
                    todays.append((minute + 20, f"m{counter}", person.id,
                                   rng.choice(QUESTIONS)))
            active = offset > join_offset and person.kind != "once"
            if not active or week >= person.quiet_from or person.chattiness == 0:
                continue
            if person.kind == "newcomer" and week > person.joins_week + 1 and rng.random() < .5:
                continue
            for _ in range(_poisson(rng, person.chattiness)):
                counter += 1
                question = rng.choice(QUESTIONS) if rng.random() < 0.25 else None
                todays.append((rng.randint(7 * 60, 23 * 60), f"m{counter}", person.id,
                               question))
        todays.sort()
        posted: list[tuple[str, str, int]] = []
        for minute, message, author, question in todays:
            if question is not None:
                add("message_posted", _at(day, minute), message=message, author=author,
                    channel="help", text=question)
                posted.append((message, author, minute))
                helpers = [p for p in people if p.kind in ("helper", "moderator")
                           and p.id != author]
                if rng.random() < 0.8:
                    helper = rng.choice(helpers)
                    counter += 1
                    reply = f"m{counter}"
                    reply_at = min(minute + rng.randint(5, 180), 1430)
                    add("message_posted", _at(day, reply_at), message=reply, author=helper.id,
                        channel="help", text=rng.choice(ANSWERS), reply_to=message)
                    posted.append((reply, helper.id, reply_at))
                    add("reaction_added", _at(day, reply_at + 3), message=reply,
                        reactor=author, emoji="🙏")
                continue
            channel = rng.choice(["general", "general", "showcase", "offtopic"])
            add("message_posted", _at(day, minute), message=message, author=author,
                channel=channel, text=rng.choice(CHATTER))
            posted.append((message, author, minute))
        reactors = [p for p in people if p.kind in ("lurker", "regular", "moderator")
                    and p.joins_week < week and week < p.quiet_from]
        for message, author, minute in posted:
            for reactor in rng.sample(reactors, k=min(len(reactors), rng.randint(0, 3))):
                if reactor.id != author:
                    add("reaction_added", _at(day, min(minute + rng.randint(1, 60), 1439)),
                        message=message, reactor=reactor.id, emoji=rng.choice(EMOJI))
        if offset % 7 == 3 and week in (2, 5):
            leaver = next((p for p in people if p.kind == "visitor" and p.joins_week < week),
                          None)
            if leaver is not None:
                add("member_left", _at(day, 22 * 60), member=leaver.id)
    records.sort(key=lambda r: r["at"])
    return records


def _poisson(rng: random.Random, mean: float) -> int:
    """Messages a member writes in a day (a small Poisson draw, no numpy needed)."""
    count, threshold, product = 0, pow(2.718281828, -mean), rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count
