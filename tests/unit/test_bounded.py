from bot.core.bounded import BoundedDict


def test_oldest_entries_are_forgotten_past_the_capacity() -> None:
    seen: BoundedDict[str, int] = BoundedDict(2)
    seen.put("a", 1)
    seen.put("b", 2)
    seen.put("a", 3)  # refreshed: now the newest
    seen.put("c", 4)
    assert list(seen.items()) == [("a", 3), ("c", 4)]


def test_evicted_tells_whether_anything_was_ever_forgotten() -> None:
    seen: BoundedDict[str, int] = BoundedDict(2)
    seen.put("a", 1)
    seen.put("b", 2)
    seen.put("a", 5)  # an update of a key it holds forgets nothing
    assert not seen.evicted and list(seen) == ["b", "a"]
    seen.put("c", 3)
    assert seen.evicted and list(seen) == ["a", "c"]
