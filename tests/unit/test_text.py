import pytest
from hypothesis import given
from hypothesis import strategies as st

import bot.core.text as text_module
from bot.core.ids import make_id, native_part, platform_of
from bot.core.text import (
    FSI,
    PDI,
    Mention,
    TemplateError,
    check_template,
    compose,
    visible_length,
)
from bot.i18n import catalog


def test_ids_are_namespaced_and_round_trip() -> None:
    ident = make_id("telegram", -100123, 55)
    assert ident == "telegram:-100123:55"
    assert platform_of(ident) == "telegram"
    assert native_part(ident) == "-100123:55"
    with pytest.raises(ValueError):
        make_id("slack", 1)
    with pytest.raises(ValueError):
        platform_of("12345")


def test_visible_length_counts_what_a_reader_sees() -> None:
    assert visible_length("abc") == 3
    assert visible_length("שָׁלוֹם") == 4  # niqqud marks do not count
    assert visible_length("👨‍👩‍👧") == 1  # one family emoji made of joined emoji
    assert visible_length("👍🏽") == 1  # skin tone modifier attaches
    assert visible_length("  a  ") == 1


def test_compose_keeps_mentions_as_segments() -> None:
    text = compose("Hi {member}, you have {points} points", {
        "member": Mention("discord:1", "Dana"), "points": 42})
    assert text.segments == ("Hi ", Mention("discord:1", "Dana"), ", you have 42 points")
    assert text.plain() == "Hi @Dana, you have 42 points"
    assert text.mentions() == ("discord:1",)


def test_hebrew_values_are_isolated_so_numbers_stay_in_order() -> None:
    text = compose("{member} הגיע לרמה {level}!", {
        "member": Mention("telegram:5", "Dana"), "level": 12}, isolate=True)
    assert text.segments == (FSI, Mention("telegram:5", "Dana"),
                             PDI + " הגיע לרמה " + FSI + "12" + PDI + "!")


def test_rtl_value_in_english_text_is_isolated() -> None:
    text = compose("Welcome {name}!", {"name": "אבי"})
    assert text.plain() == f"Welcome {FSI}אבי{PDI}!"


def test_unknown_placeholder_is_a_clear_error() -> None:
    with pytest.raises(TemplateError, match=r"unknown placeholder \{membr\}; you can use"):
        check_template("Hi {membr}", {"member", "name"})
    with pytest.raises(TemplateError, match="broken placeholder"):
        check_template("Hi {member", {"member"})


def test_hebrew_catalog_translates() -> None:
    he = catalog("he")
    text = he.gettext("Sorry, only moderators can use /{command}.", command="points give")
    assert "מנהלים" in text.plain()
    assert FSI + "points give" + PDI in text.plain()
    assert catalog("en").gettext("Sorry, only moderators can use /{command}.",
                                 command="x").plain() == "Sorry, only moderators can use /x."


def test_local_day_follows_the_zone_across_daylight_saving() -> None:
    from datetime import UTC, datetime

    from bot.communities import Communities
    from bot.config import Settings

    communities = Communities(Settings(), repository=None)  # type: ignore[arg-type]
    communities._overrides["c"] = {"timezone": "America/New_York"}  # no store needed here
    # clocks fell back at 02:00 on 2026-11-01: that local day lasts 25 hours
    assert communities.local_day("c", datetime(2026, 11, 1, 4, 30, tzinfo=UTC)) == "2026-11-01"
    assert communities.local_day("c", datetime(2026, 11, 2, 4, 30, tzinfo=UTC)) == "2026-11-01"
    assert communities.local_day("c", datetime(2026, 11, 2, 5, 30, tzinfo=UTC)) == "2026-11-02"


@pytest.mark.parametrize("template", [
    "{name:>50000000}", "{name!r}", "{name.__class__}", "{name[0]}", "{name:{name}}",
])
def test_only_bare_placeholders_are_accepted(template: str) -> None:
    with pytest.raises(TemplateError, match=r"is not a bare placeholder; write it as \{name\}"):
        check_template(template, {"name"})


def test_a_format_spec_is_never_applied() -> None:
    """A template stored before specs were refused still gives a normal-size text."""
    assert compose("Hi {name:>50000000}!", {"name": "Avi"}).plain() == "Hi Avi!"
    assert compose("{n:,}{n!r}", {"n": 12345}).plain() == "1234512345"


def test_a_template_is_no_longer_than_a_post_on_its_platform() -> None:
    check_template("x" * 2000, {"name"}, community="discord:1")
    with pytest.raises(TemplateError, match=r"discord allows at most 2000\. Shorten it by 1"):
        check_template("x" * 2001, {"name"}, community="discord:1")
    check_template("x" * 4096, {"name"}, community="telegram:-100")


def test_template_problems_are_said_in_the_community_s_language() -> None:
    with pytest.raises(TemplateError) as caught:
        check_template("{name:>9}", {"name"})
    said = catalog("he").gettext(caught.value.message, **caught.value.values).plain()
    assert "{name:>9}" in said and "{name}" in said and "bare placeholder" not in said


@given(st.text(alphabet=st.sampled_from(
    ["a", " ", "\t", "\x1f", "ש", "\u05b8", "\u200d", "\ufe0f", "👍", "🏽", "\u00ad",
     "\u20dd", "\u3000", "é", "\u0301", "\U0001f468", "\U000e0100"]), max_size=40)
       | st.text(max_size=40))
def test_visible_length_fast_paths_agree_with_the_rule(text: str) -> None:
    # the fast paths (ASCII, no joiner) must give what the character-by-character rule gives
    assert visible_length(text) == text_module._visible_length_by_character(text)
