"""The one place SQL is translated for PostgreSQL, and the store URLs the config takes."""

from __future__ import annotations

import pytest

from bot.config import check_store_url
from storage.book import BOOK
from storage.dialect import Variant, postgres_form
from storage.postgres import describe_url, unnest_form
from storage.store import Repository  # noqa: F401 - fills the book


def test_placeholders_are_numbered_as_sqlite_numbers_them() -> None:
    assert postgres_form("SELECT ? , ? WHERE a = ?").sql == "SELECT $1 , $2 WHERE a = $3"
    # a bare ? after ?N is one more than the largest so far
    assert postgres_form("SELECT ?1, ?3, ?").sql == "SELECT $1, $3, $4"
    named = postgres_form("SELECT :a, :b, :a, x::text")
    assert named.sql == "SELECT $1, $2, $1, x::text"
    assert named.args({"b": 2, "a": 1}) == [1, 2]


def test_string_literals_are_left_alone() -> None:
    assert postgres_form("SELECT '?:x' || ?").sql == "SELECT '?:x' || $1"


def test_insert_or_ignore_becomes_on_conflict_do_nothing() -> None:
    sql = postgres_form("INSERT OR IGNORE INTO t (a) VALUES (?)").sql
    assert sql == "INSERT INTO t (a) VALUES ($1)\nON CONFLICT DO NOTHING"


def test_sqlite_only_spellings_are_translated() -> None:
    sql = postgres_form("SELECT instr(a, b), group_concat(x, char(10)) FROM t INDEXED BY i")
    assert sql.sql == "SELECT strpos(a, b), string_agg(x, chr(10)) FROM t"


def test_insert_or_replace_needs_its_own_form() -> None:
    with pytest.raises(ValueError, match="Variant"):
        postgres_form("INSERT OR REPLACE INTO t (a) VALUES (?)")
    assert postgres_form(Variant("INSERT OR REPLACE INTO t (a) VALUES (?)",
                                 "INSERT INTO t (a) VALUES (?)")).sql == \
        "INSERT INTO t (a) VALUES ($1)"


def test_every_write_statement_has_a_postgresql_form() -> None:
    for statement in BOOK:
        assert "?" not in postgres_form(statement.source).sql, statement.name


def test_plain_and_do_nothing_inserts_get_a_multi_row_form() -> None:
    types = {"t": {"a": "text", "b": "int8"}}
    bulk = unnest_form("INSERT INTO t (a, b, c) VALUES ($1, $2, 0)\nON CONFLICT DO NOTHING",
                       {"t": {**types["t"], "c": "int8"}})
    assert bulk == ("INSERT INTO t (a, b, c) SELECT u.c1, u.c2, 0 FROM unnest($1::text[], "
                    "$2::int8[]) WITH ORDINALITY AS u(c1, c2, n) ORDER BY u.n "
                    "ON CONFLICT DO NOTHING")
    # an upsert that updates may touch one row twice in a batch: row by row
    assert unnest_form("INSERT INTO t (a, b) VALUES ($1, $2) ON CONFLICT (a) DO UPDATE "
                       "SET b = excluded.b", types) is None
    assert unnest_form("UPDATE t SET a = $1", types) is None


@pytest.mark.parametrize(("given", "taken"), [
    ("tribebot.db", "sqlite:///tribebot.db"),
    ("sqlite:///data/t.db", "sqlite:///data/t.db"),
    ("postgresql://bot@db.example/tribe", "postgresql://bot@db.example/tribe"),
    ("postgres://bot:pw@localhost:5432/tribe", "postgres://bot:pw@localhost:5432/tribe"),
])
def test_store_urls_the_config_takes(given: str, taken: str) -> None:
    assert check_store_url(given) == taken


@pytest.mark.parametrize(("given", "says"), [
    ("mysql://x/y", "is not a store Tribebot knows"),
    ("postgresql://bot@host", "names no database"),
    ("postgresql://bot:secret@host:port/db", "is not a PostgreSQL URL"),
    ("sqlite:///", "names no file"),
])
def test_store_urls_the_config_refuses(given: str, says: str) -> None:
    with pytest.raises(ValueError, match=says) as caught:
        check_store_url(given)
    assert "secret" not in str(caught.value)


def test_messages_never_show_the_password() -> None:
    assert describe_url("postgresql://bot:secret@db:5432/tribe") == \
        "postgresql://bot@db:5432/tribe"
