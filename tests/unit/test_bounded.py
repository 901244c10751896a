from bot.core.bounded import BoundedDict


def test_oldest_entries_are_forgotten_past_the_capacity() -> None:
    seen: BoundedDict[str, int] = BoundedDict(2)
    seen.put("a", 1)
    seen.put("b", 2)
    seen.put("a", 3)  # refreshed: now the newest
    seen.put("c", 4)
    assert list(seen.items()) == [("a", 3), ("c", 4)]
