"""The pure engagement rules, with plain asserts: no event loop, no database."""

import unicodedata
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from cogs.engagement.rules import (
    _NOISE,
    _REPEATS,
    MemberState,
    Policy,
    ReactionAward,
    award_message,
    award_reaction,
    fingerprint,
    level_for,
    level_of,
    level_up_due,
    message_points,
    reaches,
    reward_for,
    streaks,
    xp_to_next,
)

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CURVE = (5, 50, 100)


def award(policy: Policy, state: MemberState, *, at: datetime = AT, text: str = "hello all",
          **kw: object) -> tuple[int, int, str]:
    args = {"day": at.date().isoformat(), "length": len(text), "is_bot": False,
            "excluded": False, "replies_to_other": False, "drawn": 20}
    args.update(kw)
    result = award_message(policy, state, at=at, text=text, **args)  # type: ignore[arg-type]
    return result.message_points, result.reply_points, result.why_not


def test_default_curve_matches_the_widely_used_formula() -> None:
    assert [xp_to_next(n, CURVE) for n in range(4)] == [100, 155, 220, 295]


def test_level_boundaries_on_the_curve() -> None:
    assert level_for(0, CURVE).level == 0
    assert level_for(99, CURVE).level == 0
    assert level_for(100, CURVE).level == 1
    assert level_for(254, CURVE).level == 1
    assert level_for(255, CURVE).level == 2
    progress = level_for(300, CURVE)
    assert (progress.level, progress.into_level, progress.needed) == (2, 45, 220)
    assert [level_of(p, CURVE) for p in (-5, 0, 99, 100, 254, 255, 300)] == [0, 0, 0, 1, 1, 2, 2]


def test_message_points_are_spread_over_the_range_and_fixed_by_the_message() -> None:
    policy = Policy()
    drawn = [message_points(policy, "console:tribe", f"console:m{i}") for i in range(300)]
    assert min(drawn) == 15 and max(drawn) == 25
    again = [message_points(policy, "console:tribe", f"console:m{i}") for i in range(300)]
    assert again == drawn  # the same message always earns the same
    elsewhere = [message_points(policy, "console:other", f"console:m{i}") for i in range(300)]
    assert elsewhere != drawn  # the community is part of the key


def test_message_points_do_not_change_between_versions() -> None:
    # derived from a keyed hash, not from Python's random: the same on every machine
    assert [message_points(Policy(), "discord:1", f"discord:{n}") for n in range(6)] == [
        22, 17, 25, 24, 19, 16]


def test_cooldown_allows_one_award_per_minute() -> None:
    policy, state = Policy(), MemberState()
    assert award(policy, state, text="first message")[0] > 0
    assert award(policy, state, at=AT + timedelta(seconds=30), text="second one")[2] == "cooldown"
    assert award(policy, state, at=AT + timedelta(seconds=61), text="third one")[0] > 0


def test_too_short_messages_earn_nothing_counting_visible_characters() -> None:
    policy = Policy()
    assert award(policy, MemberState(), text="ok", length=2)[2] == "too short"
    assert award(policy, MemberState(), text="שָׁלוֹם", length=4)[0] > 0


def test_near_identical_messages_within_the_window_earn_nothing() -> None:
    policy, state = Policy(), MemberState()
    assert award(policy, state, text="Buy my course!!")[0] > 0
    later = AT + timedelta(minutes=2)
    assert award(policy, state, at=later, text="buy my   COURSE")[2] == "duplicate"
    much_later = AT + timedelta(minutes=30)
    assert award(policy, state, at=much_later, text="Buy my course")[0] > 0


def test_fingerprint_ignores_case_punctuation_niqqud_and_stretching() -> None:
    assert fingerprint("Hello!!!") == fingerprint("hellooooo") == fingerprint("HELLO")
    assert fingerprint("שָׁלוֹם") == fingerprint("שלום")
    assert fingerprint("hello") != fingerprint("help")


def plain_fingerprint(text: str) -> str:
    """The rule itself, in its plainest form: what ``fingerprint``'s quicker steps
    (ASCII by ``bytes.translate``, spacing by ``str.split``) must give exactly."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return _REPEATS.sub(r"\1", _NOISE.sub("", folded))


def test_fingerprint_is_the_plain_rule_for_every_character() -> None:
    for code in range(0x110000):
        ch = chr(code)
        if unicodedata.category(ch) in ("Cn", "Co", "Cs"):
            continue  # unassigned, private use, surrogates: no rule treats them apart
        for text in (f"a{ch}b", f"א{ch}{ch}{ch}x"):
            assert fingerprint(text) == plain_fingerprint(text), hex(code)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
       | st.text(alphabet=" \t\n\xa0\u3000!?.,-aAbBcC\u05e9\u05b8\u0301\u200d\ufe0f👍",
                 max_size=40))
def test_fingerprint_is_the_plain_rule_for_any_text(text: str) -> None:
    assert fingerprint(text) == plain_fingerprint(text)


def test_reaching_a_level_is_what_level_of_says() -> None:
    short = (1, 1, 1)  # checked settings keep every curve's levels costing points
    for curve in (CURVE, short):
        for points in (-5, 0, 1, 99, 100, 101, 254, 255, 256, 10**9):
            for level in (-1, 0, 1, 2, 3, 999, 1000, 1001, 5000):
                assert reaches(points, level, curve) == (level_of(points, curve) >= level)


def test_a_level_up_is_due_only_past_the_highest_announced_level() -> None:
    # level 1 at 100 points, level 2 at 255 (curve 5n² + 50n + 100)
    assert level_up_due(90, 110, 0, CURVE)  # crossed level 1, nothing announced
    assert not level_up_due(90, 110, 1, CURVE)  # level 1 announced already
    assert not level_up_due(110, 120, 1, CURVE)  # no level crossed
    assert not level_up_due(300, 300, 0, CURVE)  # the total did not grow
    assert not level_up_due(300, 250, 0, CURVE)  # it fell (a reaction removed)
    assert level_up_due(250, 260, 1, CURVE) and not level_up_due(250, 260, 2, CURVE)
    for before in (0, 99, 100, 254, 255):
        for after in (before - 1, before, before + 1, before + 300):
            for announced in (0, 1, 2, 3):
                expected = after > before and level_of(after, CURVE) > announced
                assert level_up_due(before, after, announced, CURVE) == expected


def test_bots_and_excluded_channels_earn_nothing() -> None:
    assert award(Policy(), MemberState(), is_bot=True)[2] == "bot"
    assert award(Policy(), MemberState(), excluded=True)[2] == "excluded channel"


def test_daily_cap_limits_points_per_local_day() -> None:
    policy = Policy(daily_cap=50, message_points_min=20, message_points_max=20)
    state = MemberState()
    earned = [award(policy, state, at=AT + timedelta(minutes=2 * i), text=f"message {i}")[0]
              for i in range(4)]
    assert earned == [20, 20, 10, 0]
    tomorrow = AT + timedelta(days=1)
    assert award(policy, state, at=tomorrow, text="new day")[0] == 20


def test_reply_bonus_even_during_cooldown() -> None:
    policy, state = Policy(), MemberState()
    award(policy, state, text="a first thought")
    points, bonus, _ = award(policy, state, at=AT + timedelta(seconds=10), text="an answer",
                             replies_to_other=True)
    assert (points, bonus) == (0, 5)


def test_rewards_pick_the_highest_reached_and_list_the_lower() -> None:
    rewards = {"5": "Regular", "10": "Veteran", "20": "Legend"}
    assert reward_for(4, rewards) == (None, [])
    assert reward_for(12, rewards) == ("Veteran", ["Regular"])


def test_streaks_count_days_and_weeks_and_survive_until_tomorrow() -> None:
    today = date(2026, 11, 12)  # a Thursday
    days = [today - timedelta(days=n) for n in (1, 2, 3, 10, 17)]
    assert streaks(days, today) == (3, 3)
    assert streaks([*days, today], today) == (4, 3)
    assert streaks([today - timedelta(days=5)], today) == (0, 1)
    assert streaks([], today) == (0, 0)


def test_unknown_length_is_not_judged_too_short() -> None:
    # Discord without the message content intent: the text and its length are withheld
    state = MemberState()
    result = award_message(Policy(), state, at=AT, day="2026-11-02", length=None, text=None,
                           is_bot=False, excluded=False, replies_to_other=False,
                           drawn=20)
    points, why = result.message_points, result.why_not
    assert points > 0 and why == ""


def test_a_picture_without_text_earns_nothing_but_is_not_farming() -> None:
    for has_media, why in ((True, "media without text"), (False, "too short")):
        result = award_message(Policy(), MemberState(), at=AT, day="2026-11-02", length=0,
                               text="", is_bot=False, excluded=False, replies_to_other=False,
                               drawn=20, has_media=has_media)
        assert (result.message_points, result.why_not) == (0, why)
        assert result.farmed is not has_media


# -- reactions ------------------------------------------------------------------------
DAY = "2026-11-02"


def react(policy: Policy, author: MemberState, *, first_time: bool = True,
          given_by_reactor: int = 0, message_points: int = 0, answers_member: bool = False,
          helped: bool = False) -> ReactionAward:
    return award_reaction(policy, author, day=DAY, first_time=first_time,
                          given_by_reactor=given_by_reactor, message_points=message_points,
                          answers_member=answers_member, helped=helped)


def test_a_reaction_earns_the_author_its_points() -> None:
    author = MemberState(total=40)
    assert react(Policy(), author) == ReactionAward(2, None)
    assert (author.total, author.earned_today, author.day) == (42, 2, DAY)


def test_the_same_reaction_again_earns_nothing() -> None:
    author = MemberState()
    assert react(Policy(), author, first_time=False) == ReactionAward(0, None)
    assert author.total == 0


def test_a_reaction_stays_within_each_cap() -> None:
    policy = Policy(reaction_points=5, reaction_cap_per_member_per_day=10,
                    reaction_cap_per_message=20, daily_cap=100)
    assert react(policy, MemberState(), given_by_reactor=8).points == 2, "reactor's day"
    assert react(policy, MemberState(), given_by_reactor=10).points == 0
    assert react(policy, MemberState(), message_points=17).points == 3, "the message's cap"
    assert react(policy, MemberState(), message_points=25).points == 0, "never negative"
    capped = MemberState(day=DAY, earned_today=99)
    assert react(policy, capped).points == 1, "the author's daily cap"
    assert capped.earned_today == 100
    yesterday = MemberState(day="2026-11-01", earned_today=100)
    assert react(policy, yesterday).points == 5, "a new local day has room again"


def test_the_first_reaction_to_an_answer_settles_the_helpful_bonus_once() -> None:
    author = MemberState()
    award = react(Policy(), author, answers_member=True)
    assert award == ReactionAward(2, 10)
    assert author.total == 12
    assert react(Policy(), author, answers_member=True, helped=True).helpful_bonus is None
    assert react(Policy(helpful_answer_bonus=0), MemberState(),
                 answers_member=True).helpful_bonus is None, "no bonus to settle"
    repeat = react(Policy(), MemberState(), first_time=False, answers_member=True)
    assert repeat == ReactionAward(0, 10), "settled even by a repeated reaction"


def test_at_the_daily_cap_the_helpful_bonus_is_settled_with_nothing() -> None:
    author = MemberState(day=DAY, earned_today=500)
    assert react(Policy(), author, answers_member=True) == ReactionAward(0, 0)
    near = MemberState(day=DAY, earned_today=495)
    assert react(Policy(), near, answers_member=True) == ReactionAward(2, 3)
    assert near.earned_today == 500
