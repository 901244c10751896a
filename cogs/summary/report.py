"""Building the weekly summary from the store, and writing it as text, Markdown or JSON.

The JSON form is a stable, documented schema (``SCHEMA``); tests and other tools read
it. Every number comes from a storage query; nothing here estimates.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.text import RichText, plain
from bot.i18n import Catalog
from storage import content as content_store
from storage.repository import Repository
from storage.summary import STAGE_NAMES, SummaryStore, Week

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
        return {"schema": SCHEMA, **asdict(self)}


async def build_summary(
    repository: Repository, community: str, name: str, zone: ZoneInfo, *,
    day: date, until: datetime | None = None,
) -> WeeklySummary:
    """The summary of the ISO week containing ``day`` (to ``until`` when week to date)."""
    store = SummaryStore(repository)
    label, week = week_of(day, zone, until=until)
    _, previous = week_of(day - timedelta(days=7), zone)
    summary = WeeklySummary(community, name, label, week.first_day, week.last_day, str(zone),
                            until is not None)
    weeks = [week_of(day - timedelta(weeks=back), zone) for back in range(HISTORY_WEEKS, 0, -1)]
    weeks.append((label, week))
    weekly = [await store.weekly_active(community, w) for _, w in weeks]
    now, before = len(weeks) - 1, len(weeks) - 2

    present = await store.present_members(community, week.end)
    joined, left = await store.joins_and_leaves(community, week)
    summary.members = {"total": len(present), "joined": joined, "left": left,
                       "net": joined - left}
    newcomers_before = await store.joined_members(community, previous)
    summary.active = {"count": weekly[now][0], "previous": weekly[before][0],
                      "change": weekly[now][0] - weekly[before][0]}
    summary.returning = {"count": weekly[now][1],
                         "newcomers_last_week": len(newcomers_before),
                         "newcomers_retained": await store.active_among(community, week,
                                                                        newcomers_before)}

    stage_of, fans = await store.stages_over_time(community, [w.end for _, w in weeks])
    stages = {member: stage for member, stage in stage_of.items() if member in present}
    counts = {stage: 0 for stage in STAGE_NAMES}
    for stage in stages.values():
        counts[stage] += 1
    summary.journey = {
        "stages": counts,
        "true_fans": counts["regular"] + counts["champion"],
        "moves": [{"from": old, "to": new, "count": n}
                  for old, new, n in await store.moves(community, week)],
    }

    top = await store.top_contributors(community, week, TOP)
    before_first = (date.fromisoformat(week.first_day) - timedelta(days=28)).isoformat()
    rising = await store.rising(community, week, before_first, 3)
    champions = sorted(m for m, s in stages.items() if s == "champion")
    drifting = await store.drifting(community)
    names = await store.names(community, {m for m, _, _ in top} | {m for m, _, _ in rising}
                              | set(champions) | {m for m, _ in drifting})

    def person(member: str) -> dict[str, Any]:
        return {"member": member, "name": names.get(member) or member.split(":", 1)[1]}

    summary.top_contributors = [{**person(m), "points": p, "messages": n} for m, p, n in top]
    summary.rising = [{**person(m), "points": p, "average": round(avg, 1)}
                      for m, p, avg in rising]
    summary.champions = [person(m) for m in champions]
    summary.drifting = [{**person(m), "last_active": last} for m, last in drifting]

    count, never, wait = await store.first_responses(community, week)
    summary.first_messages = {"count": count, "answered": count - never,
                              "never_answered": never,
                              "median_minutes_to_first_response":
                                  round(wait, 1) if wait is not None else None}
    summary.lurkers = await store.lurkers(community, week)
    summary.content = await _content(store, repository, community, week)
    summary.history = [
        {"week": lbl, "active": weekly[i][0],
         "new": (await store.joins_and_leaves(community, w))[0],
         "returning": weekly[i][1], "true_fans": fans[i]}
        for i, (lbl, w) in enumerate(weeks) if i > 0]
    while summary.history and not any(summary.history[0][k]
                                      for k in ("active", "new", "true_fans")):
        summary.history.pop(0)  # weeks before the community had any history
    return summary


async def _content(store: SummaryStore, repository: Repository, community: str, week: Week
                   ) -> dict[str, Any]:
    if not await store.has_table("content_slots"):
        return {"posts": [], "best_topic": None, "skipped_slots": 0}
    start, end = datetime.fromtimestamp(week.start, UTC), datetime.fromtimestamp(week.end, UTC)
    items = await content_store.item_engagement(repository, community, start, end)
    topics = await content_store.topic_engagement(repository, community, start, end)
    skipped = await content_store.skipped_slots(repository, community, start, end)
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
    label = {stage: tr.phrase(stage) for stage in STAGE_NAMES} | {"new": tr.phrase("new")}
    parts.append(tr.gettext(
        "\n🧭 Journey: {visitor} visitors, {audience} audience, {participant} participants, "
        "{regular} regulars, {champion} champions — {fans} true fans.",
        fans=j["true_fans"], **stages))
    for move in j["moves"][:4]:
        parts.append(tr.gettext("\n   {count} moved from {old} to {new}.", count=move["count"],
                                old=label[move["from"]], new=label[move["to"]]))
    if s.top_contributors:
        names = ", ".join(f"{p['name']} ({p['points']})" for p in s.top_contributors)
        parts.append(tr.gettext("\n🏆 Top contributors: {names}.", names=names))
    if s.rising:
        parts.append(tr.gettext("\n📈 Rising: {names}.",
                                names=", ".join(p["name"] for p in s.rising)))
    if s.champions:
        parts.append(tr.gettext("\n⭐ Champions: {names}.",
                                names=", ".join(p["name"] for p in s.champions[:10])))
    if s.drifting:
        names = ", ".join(f"{p['name']} ({p['last_active'] or '—'})" for p in s.drifting[:8])
        parts.append(tr.gettext("\n🌫️ Drifting, worth a personal message: {names}.",
                                names=names))
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


def to_markdown(s: WeeklySummary, tr: Catalog) -> str:
    lines = [f"# {to_text(s, tr).plain().splitlines()[0]}", ""]
    lines += [f"- {line.strip()}" for line in to_text(s, tr).plain().splitlines()[2:]
              if line.strip()]
    if s.history:
        lines += ["", "| week | active | new | returning | true fans |", "|---|---|---|---|---|"]
        lines += [f"| {h['week']} | {h['active']} | {h['new']} | {h['returning']} | "
                  f"{h['true_fans']} |" for h in s.history]
    return "\n".join(lines) + "\n"
