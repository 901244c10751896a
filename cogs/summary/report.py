"""Building the weekly summary from the store, and writing it as text, Markdown or JSON.

The JSON form is a stable, documented schema (``SCHEMA``); tests and other tools read
it. Every number comes from a storage query; nothing here estimates.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.events import AUDIENCE, CHAMPION, PARTICIPANT, REGULAR, STAGES, VISITOR
from bot.core.text import RichText, compose, plain
from bot.i18n import Catalog
from cogs.journey.stages import RANK, JourneyPolicy, week_of_day, week_start
from cogs.summary.journey import Journey, MemberWeeks, journey, recent_start
from storage.content import ContentStore
from storage.store import Repository
from storage.summary import Roster, SummaryStore, Week

SCHEMA = "tribebot.weekly-summary/1"
#: Weeks in the chart, this one included (plus one before it for "returning").
HISTORY_WEEKS = 8
TOP = 5
WEEK_LABEL = re.compile(r"^(\d{4})-W(\d{2})$")


class WeekError(ValueError):
    """A week label that is not like 2026-W47."""


def parse_week(label: str) -> tuple[int, int]:
    match = WEEK_LABEL.match(label.strip())
    if not match:
        raise WeekError(f"{label!r} is not a week like 2026-W47 (ISO year, W, week number)")
    year, number = int(match.group(1)), int(match.group(2))
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        raise WeekError(f"{year} has no week {number}") from None
    return year, number


def week_of(day: date, zone: ZoneInfo, *, until: datetime | None = None) -> tuple[str, Week]:
    """The ISO week containing ``day`` in ``zone``; ``until`` cuts it short (week to date)."""
    monday = day - timedelta(days=day.weekday())
    sunday = monday + timedelta(days=6)
    start = datetime.combine(monday, time(0), tzinfo=zone)
    end = datetime.combine(sunday + timedelta(days=1), time(0), tzinfo=zone)
    if until is not None and until < end:
        end = until
        sunday = min(sunday, until.astimezone(zone).date())
    year, number, _ = monday.isocalendar()
    return (f"{year}-W{number:02d}",
            Week(monday.isoformat(), sunday.isoformat(), int(start.timestamp()),
                 int(end.timestamp())))


@dataclass
class WeeklySummary:
    community: str
    name: str
    week: str
    first_day: str
    last_day: str
    timezone: str
    week_to_date: bool
    members: dict[str, int] = field(default_factory=dict)
    active: dict[str, int] = field(default_factory=dict)
    returning: dict[str, int] = field(default_factory=dict)
    journey: dict[str, Any] = field(default_factory=dict)
    top_contributors: list[dict[str, Any]] = field(default_factory=list)
    rising: list[dict[str, Any]] = field(default_factory=list)
    champions: list[dict[str, Any]] = field(default_factory=list)
    drifting: list[dict[str, Any]] = field(default_factory=list)
    first_messages: dict[str, Any] = field(default_factory=dict)
    lurkers: int = 0
    content: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        # the fields hold plain JSON values already: no deep copy (asdict) of long lists
        return {"schema": SCHEMA, **{f.name: getattr(self, f.name) for f in fields(self)}}


async def build_summary(
    repository: Repository, community: str, name: str, zone: ZoneInfo, *,
    day: date, policy: JourneyPolicy, until: datetime | None = None,
) -> WeeklySummary:
    """The summary of the ISO week containing ``day`` (to ``until`` when week to date).

    The queries are all asked at once: the store's thread answers them in turn while
    the journey is worked out here from the first answers.
    """
    store = SummaryStore(repository)
    label, week = week_of(day, zone, until=until)
    _, previous = week_of(day - timedelta(days=7), zone)
    summary = WeeklySummary(community, name, label, week.first_day, week.last_day, str(zone),
                            until is not None)
    weeks = [week_of(day - timedelta(weeks=back), zone) for back in range(HISTORY_WEEKS, 0, -1)]
    weeks.append((label, week))
    before_first = (date.fromisoformat(week.first_day) - timedelta(days=28)).isoformat()
    (roster, (standings, first_seen, last_weeks), weekly, joins, newcomers_before, top,
     rising, responses, lurkers, content) = await asyncio.gather(
        store.roster(community, week),
        _journeys(store, community, [w for _, w in weeks], policy, complete=until is None),
        asyncio.gather(*(store.weekly_active(community, w) for _, w in weeks)),
        asyncio.gather(*(store.joins_and_leaves(community, w) for _, w in weeks)),
        store.joined_members(community, previous),
        store.top_contributors(community, week, TOP),
        store.rising(community, week, before_first, 3),
        store.first_responses(community, week),
        store.lurkers(community, week),
        _content(store, repository, community, week))
    now, before = len(weeks) - 1, len(weeks) - 2

    summary.journey, fans, champions, drifting, present = _journey_figures(
        standings, first_seen, roster, [w for _, w in weeks])
    joined, left = joins[now]
    summary.members = {"total": present, "joined": joined, "left": left,
                       "net": joined - left}
    summary.active = {"count": weekly[now][0], "previous": weekly[before][0],
                      "change": weekly[now][0] - weekly[before][0]}
    summary.returning = {"count": weekly[now][1],
                         "newcomers_last_week": len(newcomers_before),
                         "newcomers_retained": await store.active_among(community, week,
                                                                        newcomers_before)}

    last_active = await store.last_active_days(
        community, {m: last_weeks[m] for m in drifting})
    drifting.sort(key=lambda m: (last_active.get(m, ""), m), reverse=True)
    names = await store.names(community, {m for m, _, _ in top} | {m for m, _, _ in rising}
                              | set(champions) | set(drifting))

    def person(member: str) -> dict[str, Any]:
        return {"member": member, "name": names.get(member) or member.split(":", 1)[1]}

    summary.top_contributors = [{**person(m), "points": p, "messages": n} for m, p, n in top]
    summary.rising = [{**person(m), "points": p, "average": round(avg, 1)}
                      for m, p, avg in rising]
    summary.champions = [person(m) for m in champions]
    summary.drifting = [{**person(m), "last_active": last_active.get(m)} for m in drifting]

    count, never, wait = responses
    summary.first_messages = {"count": count, "answered": count - never,
                              "never_answered": never,
                              "median_minutes_to_first_response":
                                  round(wait, 1) if wait is not None else None}
    summary.lurkers = lurkers
    summary.content = content
    summary.history = [
        {"week": lbl, "active": weekly[i][0], "new": joins[i][0], "returning": weekly[i][1],
         "true_fans": fans[i]}
        for i, (lbl, _) in enumerate(weeks) if i > 0]
    while summary.history and not any(summary.history[0][k]
                                      for k in ("active", "new", "true_fans")):
        summary.history.pop(0)  # weeks before the community had any history
    return summary


def _journey_figures(standings: dict[str, Journey], first_seen: dict[str, int],
                     roster: Roster, weeks: list[Week]
                     ) -> tuple[dict[str, Any], list[int], list[str], list[str], int]:
    """The journey part of the summary (stages, true fans, moves), the true fans at the
    end of each of ``weeks``, who were champions and drifting at the last one, and how
    many members were present then. Members who never contributed are only counted:
    visitors at every week's end."""
    week = weeks[-1]
    gone = {m for m in roster.leavers if roster.gone_at(m, week.end)}
    present = roster.seen - len(gone)
    arrived = len(roster.new - gone)
    counts = dict.fromkeys(STAGES, 0)
    fans = [0] * len(weeks)
    moves: Counter[tuple[str, str, bool]] = Counter()
    champions, drifting = [], []
    for member, standing in standings.items():
        first = first_seen[member]
        if True in standing.fan_at:
            for index, fan in enumerate(standing.fan_at):
                end = weeks[index].end
                if fan and first < end and not roster.gone_at(member, end):
                    fans[index] += 1
        if first >= week.end or member in gone:
            continue
        counts[standing.stage] += 1
        if standing.stage == CHAMPION:
            champions.append(member)
        if standing.drifting:
            drifting.append(member)
        is_new = first >= week.start
        arrived -= is_new
        old = "new" if is_new else standing.previous
        started_drifting = standing.drifting and not standing.was_drifting
        if old != standing.stage or started_drifting:
            moves[(old, standing.stage, started_drifting)] += 1
    counts[VISITOR] = present - sum(counts.values())
    if arrived:
        moves[("new", VISITOR, False)] += arrived
    journey = {
        "stages": counts,
        "true_fans": counts[REGULAR] + counts[CHAMPION],
        "moves": [{"from": old, "to": new, "drifting": started, "count": n}
                  for (old, new, started), n in sorted(moves.items(), key=_meaningful)],
    }
    return journey, fans, sorted(champions), drifting, present


async def _journeys(store: SummaryStore, community: str, weeks: list[Week],
                    policy: JourneyPolicy, *, complete: bool
                    ) -> tuple[dict[str, Journey], dict[str, int], dict[str, str]]:
    """Every member (not a bot) who ever contributed, at the end of each of ``weeks``, by
    the journey's rule applied to the weeks they contributed up to then; when each was
    first seen; and the Monday of the last week each contributed.

    "Was a regular" for the weeks before these comes from the journey's stored moves;
    reading a year of weeks to re-derive it would cost the summary its speed. Members
    with the same weeks, help and history stand the same, so each pattern is judged once.
    """
    ends = [week_of_day(w.first_day) for w in weeks]
    start = week_start(recent_start(ends, policy)).isoformat()
    earlier_fans = await store.fans_before(community, weeks[0].start)
    facts: dict[str, MemberWeeks] = {}
    first_seen: dict[str, int] = {}
    last_weeks: dict[str, str] = {}
    cap = policy.participant_weeks  # beyond it, how many weeks changes no stage
    for member, before, recent, last, first in await store.contributed_weeks(
            community, recent=start, last=weeks[-1].first_day):
        if first is None:
            continue  # a bot
        facts[member] = MemberWeeks(min(before, cap), sorted(map(week_of_day, recent.split(",")))
                                    if recent else [], member in earlier_fans)
        first_seen[member] = first
        last_weeks[member] = last
    for member, reason, day in await store.journey_signals(community, start,
                                                           weeks[-1].last_day):
        member_weeks = facts.get(member)
        if member_weeks is None:
            continue  # never contributed: a visitor, whatever they were credited for
        week = week_of_day(day)
        if reason == "referral":
            first = member_weeks.referred
            member_weeks.referred = week if first is None else min(first, week)
        elif week not in member_weeks.helps:
            member_weeks.helps.append(week)
    judged: dict[tuple[object, ...], Journey] = {}
    out = {}
    for member, facts_of in facts.items():
        facts_of.helps.sort()
        key = (facts_of.before, tuple(facts_of.recent), tuple(facts_of.helps),
               facts_of.referred, facts_of.regular_before)
        found = judged.get(key)
        if found is None:
            found = judged[key] = journey(facts_of, ends, policy, complete=complete)
        out[member] = found
    return out, first_seen, last_weeks


def _meaningful(move: tuple[tuple[str, str, bool], int]) -> tuple[int, int, int, int]:
    """Moves in the order an owner reads them: conversions (a visitor or one-time poster
    who came back), regulars who started drifting, other promotions, demotions, then
    newcomers' first stage; within each the larger first, then the higher stage."""
    (old, new, started_drifting), count = move
    if old == "new":
        group = 4
    elif started_drifting:
        group = 1
    elif RANK[new] > RANK[old]:
        group = 0 if RANK[old] < RANK[PARTICIPANT] <= RANK[new] else 2
    else:
        group = 3
    return group, -count, -RANK[new], -RANK.get(old, -1)


async def _content(store: SummaryStore, repository: Repository, community: str, week: Week
                   ) -> dict[str, Any]:
    if not await store.has_table("content_slots"):
        return {"posts": [], "best_topic": None, "skipped_slots": 0}
    start, end = datetime.fromtimestamp(week.start, UTC), datetime.fromtimestamp(week.end, UTC)
    items = await ContentStore(repository).item_engagement(community, start, end)
    topics = await ContentStore(repository).topic_engagement(community, start, end)
    skipped = await ContentStore(repository).skipped_slots(community, start, end)
    best = max(topics, key=lambda t: (t.replies + t.reactions, t.key), default=None)
    return {
        "posts": [{"item": i.key, "topic": i.topic, "posts": i.posts, "replies": i.replies,
                   "reactions": i.reactions} for i in items],
        "best_topic": best.key if best is not None and best.replies + best.reactions else None,
        "skipped_slots": len(skipped),
    }


# -- writing it -------------------------------------------------------------------------

def _signed(n: int) -> str:
    return f"{n:+d}"


def to_text(s: WeeklySummary, tr: Catalog) -> RichText:
    """The post: short, human sentences with exact numbers."""
    title = (tr.gettext("Week {week} so far in {community}", week=s.week, community=s.name)
             if s.week_to_date else
             tr.gettext("Week {week} in {community}", week=s.week, community=s.name))
    parts = [title, plain("\n\n")]
    m, a, r, j = s.members, s.active, s.returning, s.journey
    parts.append(tr.gettext(
        "👥 Members: {total} ({joined} joined, {left} left, net {net}).",
        total=m["total"], joined=m["joined"], left=m["left"], net=_signed(m["net"])))
    parts.append(tr.gettext(
        "\n💬 Active: {active} members contributed ({change} vs. last week).",
        active=a["count"], change=_signed(a["change"])))
    parts.append(tr.gettext(
        "\n🔁 Returning: {returning} were also active last week; {retained} of last week's "
        "{newcomers} newcomers contributed again.", returning=r["count"],
        retained=r["newcomers_retained"], newcomers=r["newcomers_last_week"]))
    stages = j["stages"]
    label = {stage: tr.phrase(stage) for stage in STAGES}
    parts.append(tr.gettext(
        "\n🧭 Journey: {visitor} visitors, {audience} audience, {participant} participants, "
        "{regular} regulars, {champion} champions — {fans} true fans.",
        fans=j["true_fans"], **stages))
    parts += [_move(move, tr, label) for move in j["moves"]]
    if s.top_contributors:
        parts.append(_listing(tr, "\n🏆 Top contributors: {names}.", [
            tr.gettext("{name} ({points})", name=p["name"], points=p["points"])
            for p in s.top_contributors]))
    if s.rising:
        parts.append(_listing(tr, "\n📈 Rising: {names}.", [
            _name(tr, p["name"]) for p in s.rising]))
    if s.champions:
        parts.append(_listing(tr, "\n⭐ Champions: {names}.", [
            _name(tr, p["name"]) for p in s.champions[:10]]))
    if s.drifting:
        parts.append(_listing(tr, "\n🌫️ Drifting, worth a personal message: {names}.", [
            tr.gettext("{name} ({day})", name=p["name"], day=p["last_active"] or "—")
            for p in s.drifting[:8]]))
    f = s.first_messages
    if f["count"]:
        wait = f["median_minutes_to_first_response"]
        parts.append(tr.gettext(
            "\n🙋 Newcomers' first messages: {count}; median first response {wait} min; "
            "{never} never answered.", count=f["count"],
            wait="—" if wait is None else f"{wait:g}", never=f["never_answered"]))
    parts.append(tr.gettext("\n👀 Lurkers (only reacted): {n}.", n=s.lurkers))
    c = s.content
    if c["posts"] or c["skipped_slots"]:
        posts = sum(p["posts"] for p in c["posts"])
        parts.append(tr.gettext(
            "\n📣 Content: {posts} posts, {replies} replies, {reactions} reactions; best topic: "
            "{topic}; {skipped} slots skipped.", posts=posts,
            replies=sum(p["replies"] for p in c["posts"]),
            reactions=sum(p["reactions"] for p in c["posts"]),
            topic=c["best_topic"] or "—", skipped=c["skipped_slots"]))
    text = parts[0]
    for part in parts[1:]:
        text = text + part
    return text


def _move(move: dict[str, Any], tr: Catalog, label: dict[str, str]) -> RichText:
    """One journey move in an owner's words ("new → visitor" is someone who joined and
    has not posted yet)."""
    old, new, n = move["from"], move["to"], move["count"]
    if old == "new":
        if new == VISITOR:
            return tr.ngettext("\n   {n} joined and has not posted yet.",
                               "\n   {n} joined and have not posted yet.", n)
        if new == AUDIENCE:
            return tr.ngettext("\n   {n} joined and posted in their first week.",
                               "\n   {n} joined and posted in their first week.", n)
        return tr.ngettext("\n   {n} joined and counts as {stage} already.",
                           "\n   {n} joined and count as {stage} already.", n,
                           stage=label[new])
    if move["drifting"]:
        return tr.ngettext("\n   {n} moved from {old} to drifting (stopped posting).",
                           "\n   {n} moved from {old} to drifting (stopped posting).", n,
                           old=label[old])
    if (old, new) == (VISITOR, AUDIENCE):
        return tr.ngettext("\n   {n} posted for the first time since joining.",
                           "\n   {n} posted for the first time since joining.", n)
    if RANK[new] > RANK[old]:
        return tr.ngettext("\n   {n} moved up from {old} to {new}.",
                           "\n   {n} moved up from {old} to {new}.", n,
                           old=label[old], new=label[new])
    return tr.ngettext("\n   {n} moved down from {old} to {new}.",
                       "\n   {n} moved down from {old} to {new}.", n,
                       old=label[old], new=label[new])


def _name(tr: Catalog, name: str) -> RichText:
    return compose("{name}", {"name": name}, isolate=tr.rtl)


def _listing(tr: Catalog, template: str, items: list[RichText]) -> RichText:
    """A sentence whose ``{names}`` is a list, each item composed (and so isolated) on its
    own: isolating the whole list as one value lets the first name's direction order
    all of it, and in a Hebrew line the scores then sit beside the wrong names."""
    head, _, tail = tr.phrase(template).partition("{names}")
    text = plain(head)
    for index, item in enumerate(items):
        text = text + (plain(", ") + item if index else item)
    return text + plain(tail)


_MARKDOWN = re.compile(r"([\\`*_\[\]<>|~])")


def _escaped(text: str) -> str:
    """Names are the members' own: a ``*`` or ``_`` in one must not turn into emphasis."""
    return _MARKDOWN.sub(r"\\\1", text)


def to_markdown(s: WeeklySummary, tr: Catalog) -> str:
    """The post as Markdown: a bullet per line, the journey's moves nested under theirs."""
    text = to_text(s, tr).plain().splitlines()
    lines = [f"# {_escaped(text[0])}", ""]
    for line in text[2:]:
        if line.strip():
            nested = "  " if line[:1].isspace() else ""
            lines.append(f"{nested}- {_escaped(line.strip())}")
    if s.history:
        lines += ["", "| week | active | new | returning | true fans |", "|---|---|---|---|---|"]
        lines += [f"| {h['week']} | {h['active']} | {h['new']} | {h['returning']} | "
                  f"{h['true_fans']} |" for h in s.history]
    return "\n".join(lines) + "\n"
