"""Pure rules of the content calendar: schedules across DST, slots, rotation, checks."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cogs.content.rules import (
    ContentError,
    QueueEntry,
    build_trigger,
    check_text,
    check_topic,
    cron_to_apscheduler,
    fire_times,
    next_in_rotation,
    parse_content_id,
    parse_flags,
    parse_schedule,
    plan_slots,
    retry_delays,
    upcoming,
)

JERUSALEM = ZoneInfo("Asia/Jerusalem")
NEW_YORK = ZoneInfo("America/New_York")


def local_times(text: str, zone: ZoneInfo, now: datetime, count: int) -> list[str]:
    trigger = build_trigger(parse_schedule(text, zone, now).spec, zone)
    assert trigger is not None
    return [t.astimezone(zone).strftime("%Y-%m-%d %H:%M %z") for t in
            upcoming(trigger, now, count)]


@pytest.mark.parametrize(("text", "expected"), [
    ("every 1 days 10:00", ["2026-03-26 10:00 +0200", "2026-03-27 10:00 +0300",
                            "2026-03-28 10:00 +0300"]),
    ("cron 0 10 * * *", ["2026-03-26 10:00 +0200", "2026-03-27 10:00 +0300",
                         "2026-03-28 10:00 +0300"]),
    ("every 1 weeks thu 10:00", ["2026-03-26 10:00 +0200", "2026-04-02 10:00 +0300"]),
])
def test_jerusalem_spring_forward_keeps_ten_local(text: str, expected: list[str]) -> None:
    now = datetime(2026, 3, 25, 12, tzinfo=UTC)  # DST starts on Friday 27 March 2026
    assert local_times(text, JERUSALEM, now, len(expected)) == expected


def test_jerusalem_autumn_back_keeps_ten_local() -> None:
    now = datetime(2026, 10, 22, 12, tzinfo=UTC)  # DST ends on Sunday 25 October 2026
    assert local_times("every 3 days 10:00", JERUSALEM, now, 3) == [
        "2026-10-23 10:00 +0300", "2026-10-26 10:00 +0200", "2026-10-29 10:00 +0200"]


@pytest.mark.parametrize(("text", "expected"), [
    ("cron 0 10 * * TUE", ["2026-10-27 10:00 -0400", "2026-11-03 10:00 -0500"]),
    ("every 2 weeks tue 10:00", ["2026-10-27 10:00 -0400", "2026-11-10 10:00 -0500"]),
    ("every 3 days 10:00", ["2026-10-27 10:00 -0400", "2026-10-30 10:00 -0400",
                            "2026-11-02 10:00 -0500"]),
])
def test_new_york_fall_back_keeps_ten_local(text: str, expected: list[str]) -> None:
    now = datetime(2026, 10, 27, 12, tzinfo=UTC)  # 08:00 local; DST ends 1 November
    assert local_times(text, NEW_YORK, now, len(expected)) == expected


def test_new_york_spring_forward_once() -> None:
    now = datetime(2027, 3, 1, tzinfo=UTC)
    assert local_times("once 2027-03-15 10:00", NEW_YORK, now, 3) == ["2027-03-15 10:00 -0400"]


def test_normal_forms_anchor_every_schedules_on_their_first_slot() -> None:
    now = datetime(2026, 11, 2, 9, tzinfo=UTC)  # Monday 11:00 in Jerusalem
    assert parse_schedule("every 3 days 10:00", JERUSALEM, now).spec == \
        "every 3 days 10:00 from 2026-11-03"
    assert parse_schedule("every 2 weeks tue 10:00", JERUSALEM, now).spec == \
        "every 2 weeks tue 10:00 from 2026-11-03"
    assert parse_schedule("every day 12:00", JERUSALEM, now).spec == \
        "every 1 days 12:00 from 2026-11-02"
    assert parse_schedule("cron 0 10 * * TUE", JERUSALEM, now).spec == "cron 0 10 * * TUE"
    assert parse_schedule("queue", JERUSALEM, now).kind == "library"


def test_once_in_the_past_and_nonexistent_times_are_refused() -> None:
    now = datetime(2026, 11, 2, 9, tzinfo=UTC)
    with pytest.raises(ContentError, match="already in the past"):
        parse_schedule("once 2026-11-02 10:00", JERUSALEM, now)  # 10:00 local was 08:00 UTC
    with pytest.raises(ContentError, match="does not exist in America/New_York"):
        parse_schedule("once 2027-03-14 02:30", NEW_YORK, now)


@pytest.mark.parametrize("text", ["cron 61 10 * * *", "cron 0 10 * *", "cron 0 10 * * FUNDAY",
                                  "every 0 days 10:00", "every 3 fortnights 10:00",
                                  "every 2 weeks 10:00", "at noon", ""])
def test_malformed_schedules_are_refused(text: str) -> None:
    with pytest.raises(ContentError):
        parse_schedule(text, JERUSALEM, datetime(2026, 11, 2, tzinfo=UTC))


def test_cron_weekday_numbers_mean_what_crontab_means() -> None:
    assert cron_to_apscheduler("0 10 * * 0") == "0 10 * * sun"
    assert cron_to_apscheduler("0 10 * * 7") == "0 10 * * sun"
    assert cron_to_apscheduler("0 10 * * 1-5") == "0 10 * * mon,tue,wed,thu,fri"
    assert cron_to_apscheduler("0 10 * * 5-7") == "0 10 * * fri,sat,sun"
    assert cron_to_apscheduler("0 10 * * */2") == "0 10 * * sun,tue,thu,sat"
    assert cron_to_apscheduler("0 10 * * TUE") == "0 10 * * TUE"
    trigger = build_trigger("cron 0 10 * * 2", NEW_YORK)
    assert trigger is not None
    first = upcoming(trigger, datetime(2026, 11, 2, tzinfo=UTC), 1)[0]
    assert first.astimezone(NEW_YORK).strftime("%a %H:%M") == "Tue 10:00"


def test_fire_times_are_strictly_after_and_up_to_until() -> None:
    trigger = build_trigger("every 1 days 10:00 from 2026-11-01", ZoneInfo("UTC"))
    assert trigger is not None
    slots = fire_times(trigger, datetime(2026, 11, 2, 10, tzinfo=UTC),
                       datetime(2026, 11, 4, 10, tzinfo=UTC))
    assert [s.day for s in slots] == [3, 4]


def test_plan_posts_the_latest_slot_within_grace_and_skips_the_rest() -> None:
    now = datetime(2026, 11, 4, 10, 30, tzinfo=UTC)
    due = [now - timedelta(days=1, minutes=30), now - timedelta(minutes=50),
           now - timedelta(minutes=30)]
    plan = plan_slots(due, now, timedelta(hours=1))
    assert [(d.send, d.reason) for d in plan] == [(False, "missed"), (False, "coalesced"),
                                                 (True, "")]
    late = plan_slots([now - timedelta(hours=2)], now, timedelta(hours=1))
    assert [(d.send, d.reason) for d in late] == [(False, "missed")]
    assert plan_slots([], now, timedelta(hours=1)) == []


def test_rotation_posts_every_item_once_before_any_twice() -> None:
    posts = {1: 0, 2: 0, 3: 0}
    order = []
    for _ in range(7):
        chosen = next_in_rotation([QueueEntry(i, n) for i, n in posts.items()])
        assert chosen is not None
        order.append(chosen)
        posts[chosen] += 1
    assert order == [1, 2, 3, 1, 2, 3, 1]
    assert next_in_rotation([QueueEntry(1, 2), QueueEntry(2, 2), QueueEntry(9, 0)]) == 9
    assert next_in_rotation([]) is None


def test_flags_lead_the_text() -> None:
    flags = parse_flags("--dm --stage=regular Read this -- carefully")
    assert (flags.direct, flags.stage, flags.body) == (True, "regular", "Read this -- carefully")
    assert parse_flags("Plain text").direct is False
    with pytest.raises(ContentError, match="I don't know the option --loud"):
        parse_flags("--loud Hi")
    with pytest.raises(ContentError, match="There is no stage"):
        parse_flags("--stage boss Hi")


def test_a_file_cannot_be_named_in_the_text() -> None:
    with pytest.raises(ContentError, match="Attach the file to the command's message"):
        parse_flags("--file /etc/passwd Read this")
    with pytest.raises(ContentError, match="Attach the file"):
        parse_flags("--dm --file=config.toml Read this")


def test_text_limit_follows_the_platform() -> None:
    assert check_text("x" * 2000, "discord:1") == "x" * 2000
    with pytest.raises(ContentError, match="discord allows at most 2000"):
        check_text("x" * 2001, "discord:1")
    assert check_text("x" * 4096, "telegram:-100") == "x" * 4096
    with pytest.raises(ContentError, match="telegram allows at most 4096"):
        check_text("x" * 4097, "telegram:-100")
    with pytest.raises(ContentError, match="empty"):
        check_text("   ", "discord:1")


def test_topics_and_ids() -> None:
    assert check_topic("#Tips") == "tips"
    assert check_topic("טיפים") == "טיפים"
    with pytest.raises(ContentError):
        check_topic("two words")
    assert parse_content_id("7") == ("item", 7)
    assert parse_content_id("q2") == ("queue", 2)
    with pytest.raises(ContentError):
        parse_content_id("seven")


def test_retry_delays_double() -> None:
    assert retry_delays(3, 2) == [2, 4]
    assert retry_delays(1, 2) == []
