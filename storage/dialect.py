"""The two SQL dialects the store speaks, and the one place SQL is translated between them.

Every statement is written once, in the form SQLite takes (``?`` / ``?1`` / ``:name``
placeholders, ``INSERT OR IGNORE``), wherever the dialects agree on what it means; the
PostgreSQL form is derived here, mechanically and cached. Where they truly differ (JSON
functions, ``INSERT OR REPLACE``, the catalogue) a statement carries both forms as a
``Variant``. No feature module checks which database it is on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


@dataclass(frozen=True, slots=True)
class Variant:
    """One statement in each dialect, where no mechanical translation says the same."""

    sqlite: str
    postgres: str


Sql = str | Variant

_PLACEHOLDER = re.compile(r"\?(\d+)?|(?<![:\w]):([A-Za-z_]\w*)|'(?:[^']|'')*'")
_OR_IGNORE = re.compile(r"^(\s*)INSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_OR_REPLACE = re.compile(r"^\s*INSERT\s+OR\s+REPLACE\b", re.IGNORECASE)
_INDEXED_BY = re.compile(r"\s+INDEXED\s+BY\s+\w+", re.IGNORECASE)
#: SQLite's names for functions PostgreSQL spells differently (same arguments)
_FUNCTIONS = {"instr": "strpos", "group_concat": "string_agg", "char": "chr"}
_FUNCTION = re.compile(r"\b(" + "|".join(_FUNCTIONS) + r")\(", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Translated:
    """A statement for PostgreSQL: ``$n`` placeholders, and the names they were bound by
    (for ``:name`` statements, whose parameters come as a mapping)."""

    sql: str
    names: tuple[str, ...] = ()

    def args(self, params: Sequence[Any] | Mapping[str, Any]) -> Sequence[Any]:
        if self.names:
            assert isinstance(params, Mapping), "a :name statement takes a mapping"
            return [params[name] for name in self.names]
        assert not isinstance(params, Mapping), "a ? statement takes a sequence"
        return params


def sqlite_form(sql: Sql) -> str:
    return sql.sqlite if isinstance(sql, Variant) else sql


@lru_cache(maxsize=4096)
def _translate(sql: str) -> Translated:
    if _OR_REPLACE.match(sql):
        raise ValueError("INSERT OR REPLACE has no PostgreSQL form; give the statement a "
                         f"Variant: {sql.strip()[:80]}")
    text, ignore = _OR_IGNORE.subn(r"\1INSERT INTO", sql)
    text = _INDEXED_BY.sub("", text)
    text = _FUNCTION.sub(lambda m: _FUNCTIONS[m.group(1).lower()] + "(", text)
    names: list[str] = []
    highest = 0

    def number(match: re.Match[str]) -> str:
        nonlocal highest
        token = match.group(0)
        if token.startswith("'"):
            return token  # a string literal: nothing in it is a placeholder
        if match.group(2) is not None:  # :name
            if match.group(2) not in names:
                names.append(match.group(2))
            return f"${names.index(match.group(2)) + 1}"
        if match.group(1) is not None:  # ?N
            highest = max(highest, int(match.group(1)))
            return f"${match.group(1)}"
        highest += 1  # a bare ? is one more than the largest so far (as in SQLite)
        return f"${highest}"

    text = _PLACEHOLDER.sub(number, text)
    if ignore:
        text = text.rstrip().rstrip(";") + "\nON CONFLICT DO NOTHING"
    return Translated(text, tuple(names))


def postgres_form(sql: Sql) -> Translated:
    """The statement as PostgreSQL takes it (translated once, then cached)."""
    if isinstance(sql, Variant):
        return _translate(sql.postgres)
    return _translate(sql)
