"""The registry of write statements: each feature module adds its own, in batch order.

Inside one batch the writer runs statements group by group in ``Statement.order`` (see
``storage.writer``), so the order is part of what each statement means: facts before the
points and rollups that count them, a member's rows before ``forget`` that removes them.
That order is declared here once, per feature (``FEATURES``), and does not depend on
which module happens to be imported first. This module imports no feature module: the
features import it, never the other way round.
"""

from __future__ import annotations

from collections.abc import Iterator

from storage.writer import Statement, bulk_form

#: Features in the order their writes run inside one batch. Facts come first (what
#: happened), then what is derived from them; privacy's ``forget`` last, so it also
#: removes whatever the same batch wrote about the member.
FEATURES = ("facts", "points", "settings", "seen", "content", "summary", "journey",
            "welcome", "privacy")

#: Room for statements per feature; orders are ``feature index * STRIDE + position``.
STRIDE = 1000


class Section:
    """One feature's statements; ``add`` in the order they run inside the feature."""

    def __init__(self, book: Book, feature: str, base: int) -> None:
        self._book = book
        self.feature = feature
        self._base = base
        self.statements: list[Statement] = []

    def add(self, name: str, sql: str) -> Statement:
        if len(self.statements) >= STRIDE:
            raise ValueError(f"feature {self.feature} has more than {STRIDE} statements")
        stmt = Statement(name, sql, self._base + len(self.statements), bulk_form(sql))
        self._book.register(stmt)
        self.statements.append(stmt)
        return stmt


class Book:
    """Every write statement, found by name (what ``storage.spill`` keeps on disk)."""

    def __init__(self, features: tuple[str, ...] = FEATURES) -> None:
        self._features = features
        self._sections: dict[str, Section] = {}
        self._by_name: dict[str, Statement] = {}

    def section(self, feature: str) -> Section:
        """The section a feature module adds its statements to (one per feature)."""
        if feature not in self._features:
            raise ValueError(f"unknown feature {feature!r}; add it to storage.book.FEATURES")
        if feature in self._sections:
            raise ValueError(f"feature {feature!r} already has its statements")
        section = Section(self, feature, self._features.index(feature) * STRIDE)
        self._sections[feature] = section
        return section

    def register(self, stmt: Statement) -> None:
        if stmt.name in self._by_name:
            raise ValueError(f"two statements are named {stmt.name!r}")
        self._by_name[stmt.name] = stmt

    def named(self, name: str) -> Statement | None:
        return self._by_name.get(name)

    def __iter__(self) -> Iterator[Statement]:
        """Every statement, in batch order."""
        return iter(sorted(self._by_name.values(), key=lambda s: s.order))


#: The one book every storage module adds to.
BOOK = Book()
