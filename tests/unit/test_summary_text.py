"""The weekly summary as owners read it: whole move lists, readable mixed-script lists,
nested Markdown. Lines are rendered with python-bidi (the Unicode bidi algorithm) to see
them in the order a screen shows them."""

from typing import Any

from bidi import get_display

from bot.core.text import FSI, PDI
from bot.i18n import catalog
from cogs.summary.report import WeeklySummary, to_markdown, to_text

MIXED = [("Ella", 842), ("יוסי", 615), ("Bob", 354), ("רוני", 796)]


def summary(**fields: Any) -> WeeklySummary:
    s = WeeklySummary("console:t", "Tribe", "2026-W47", "2026-11-16", "2026-11-22",
                      "Asia/Jerusalem", False)
    s.members = {"total": 10, "joined": 2, "left": 0, "net": 2}
    s.active = {"count": 5, "previous": 4, "change": 1}
    s.returning = {"count": 3, "newcomers_last_week": 1, "newcomers_retained": 1}
    s.journey = {"stages": {"visitor": 2, "audience": 2, "participant": 3, "regular": 2,
                            "champion": 1}, "true_fans": 3, "moves": []}
    s.first_messages = {"count": 0, "answered": 0, "never_answered": 0,
                        "median_minutes_to_first_response": None}
    s.content = {"posts": [], "best_topic": None, "skipped_slots": 0}
    for name, value in fields.items():
        setattr(s, name, value)
    return s


def line(text: str, start: str) -> str:
    [found] = [row for row in text.splitlines() if row.startswith(start)]
    return found


def positions(display: str, tokens: list[str]) -> list[int]:
    """Where each token shows in a displayed line (a right-to-left word is displayed
    reversed, so it is looked for displayed on its own)."""
    shown = display.replace(FSI, "").replace(PDI, "")
    found = [shown.find(get_display(token)) for token in tokens]
    assert -1 not in found, (shown, tokens)
    return found


def in_reading_order(found: list[int], *, rtl: bool) -> bool:
    return found == sorted(found, reverse=rtl) and len(set(found)) == len(found)


def test_a_hebrew_list_keeps_each_score_beside_its_name_in_order() -> None:
    top = [{"member": f"console:{n}", "name": n, "points": p, "messages": 1} for n, p in MIXED]
    text = to_text(summary(top_contributors=top), catalog("he")).plain()
    shown = get_display(line(text, "🏆"))
    tokens = [str(t) for pair in MIXED for t in pair]  # name, its score, next name, ...
    # read right to left: Ella, 842, יוסי, 615, Bob, 354, רוני, 796
    assert in_reading_order(positions(shown, tokens), rtl=True), shown


def test_an_english_list_of_hebrew_names_keeps_order_and_scores() -> None:
    pairs = [("יוסי", 615), ("Ella", 842), ("רוני", 796)]
    top = [{"member": f"console:{n}", "name": n, "points": p, "messages": 1} for n, p in pairs]
    text = to_text(summary(top_contributors=top), catalog("en")).plain()
    shown = get_display(line(text, "🏆"))
    assert in_reading_order(positions(shown, [str(t) for pair in pairs for t in pair]),
                            rtl=False), shown


def test_drifting_days_stay_with_their_names_in_hebrew() -> None:
    drifting = [{"member": "console:a", "name": "Liam", "last_active": "2026-10-25"},
                {"member": "console:b", "name": "נועה", "last_active": "2026-10-18"}]
    text = to_text(summary(drifting=drifting), catalog("he")).plain()
    shown = get_display(line(text, "🌫️"))
    assert in_reading_order(
        positions(shown, ["Liam", "2026-10-25", "נועה", "2026-10-18"]), rtl=True), shown


MOVES = [  # as the report orders them: conversions, drifting, promotions, demotions, new
    {"from": "audience", "to": "participant", "drifting": False, "count": 2},
    {"from": "regular", "to": "participant", "drifting": True, "count": 1},
    {"from": "participant", "to": "regular", "drifting": False, "count": 3},
    {"from": "visitor", "to": "audience", "drifting": False, "count": 1},
    {"from": "champion", "to": "regular", "drifting": False, "count": 1},
    {"from": "new", "to": "audience", "drifting": False, "count": 2},
    {"from": "new", "to": "visitor", "drifting": False, "count": 4},
]


def test_every_move_is_listed_in_an_owners_words() -> None:
    text = to_text(summary(journey={**summary().journey, "moves": MOVES}),
                   catalog("en")).plain()
    assert [row for row in text.splitlines() if row.startswith("   ")] == [
        "   2 moved up from audience to participant.",
        "   1 moved from regular to drifting (stopped posting).",
        "   3 moved up from participant to regular.",
        "   1 posted for the first time since joining.",
        "   1 moved down from champion to regular.",
        "   2 joined and posted in their first week.",
        "   4 joined and have not posted yet.",
    ]
    hebrew = to_text(summary(journey={**summary().journey, "moves": MOVES}),
                     catalog("he")).plain()
    assert sum(row.startswith("   ") for row in hebrew.splitlines()) == len(MOVES)
    assert "הצטרפו ועדיין לא כתבו" in hebrew


def test_markdown_keeps_the_moves_nested_under_the_journey() -> None:
    markdown = to_markdown(summary(journey={**summary().journey, "moves": MOVES[:2]},
                                   top_contributors=[{"member": "console:x", "name": "a_b*",
                                                      "points": 5, "messages": 1}]),
                           catalog("en"))
    lines = markdown.splitlines()
    journey = next(i for i, row in enumerate(lines) if row.startswith("- 🧭 Journey"))
    assert lines[journey + 1:journey + 3] == [
        "  - 2 moved up from audience to participant.",
        "  - 1 moved from regular to drifting (stopped posting).",
    ]
    assert lines[journey + 3].startswith("- ")
    assert "a\\_b\\* (5)" in markdown  # a member's name does not become emphasis
