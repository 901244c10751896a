"""The statement registry: batch order comes from ``FEATURES``, never from import order."""

import subprocess
import sys

import pytest

import storage
from storage.book import BOOK, FEATURES, Book
from storage.privacy import FORGET
from storage.writer import StatementBook


def test_sections_run_in_the_declared_order_whatever_order_they_are_made_in() -> None:
    book = Book(("first", "second", "third"))
    third = book.section("third").add("c", "DELETE FROM t")
    first = book.section("first")
    a1 = first.add("a1", "INSERT INTO t (x) VALUES (?)")
    b = book.section("second").add("b", "UPDATE t SET x = ?")
    a2 = first.add("a2", "DELETE FROM t WHERE x = ?")
    assert [s.name for s in book] == ["a1", "a2", "b", "c"]
    assert a1.order < a2.order < b.order < third.order
    assert book.named("b") is b and book.named("missing") is None
    assert a1.bulk_sql is not None and b.bulk_sql is None  # the writer's bulk forms kept


def test_a_book_refuses_what_would_make_the_order_ambiguous() -> None:
    book = Book(("one",))
    section = book.section("one")
    section.add("x", "DELETE FROM t")
    with pytest.raises(ValueError, match="two statements"):
        section.add("x", "DELETE FROM u")
    with pytest.raises(ValueError, match="already"):
        book.section("one")
    with pytest.raises(ValueError, match="unknown feature"):
        book.section("two")


def test_every_feature_has_its_statements_in_the_book_once_storage_is_imported() -> None:
    assert storage.Repository  # importing storage imports every feature module
    features = {s.order // 1000 for s in BOOK}
    assert features == set(range(len(FEATURES)))
    names = [s.name for s in BOOK]
    assert len(names) == len(set(names))
    # the old statement names, which rows kept by a stop (storage.spill) refer to
    assert {"insert_message", "insert_ledger", "upsert_setting", "set_seen",
            "content_upsert_item", "upsert_stage", "upsert_pending_welcome",
            "forget_0"} <= set(names)


def test_facts_run_first_and_forgetting_last() -> None:
    order = {s.name: s.order for s in BOOK}
    assert order["upsert_community"] == min(order.values())
    assert order["upsert_member"] < order["insert_ledger"] < order["set_seen"]
    last_other = max(o for name, o in order.items() if not name.startswith("forget_"))
    assert min(s.order for s in FORGET) > last_other
    assert [s.order for s in FORGET] == sorted(s.order for s in FORGET)


def test_the_order_does_not_depend_on_which_feature_is_imported_first() -> None:
    probe = ("import importlib, sys; importlib.import_module(sys.argv[1]); "
             "from storage.book import BOOK; print([(s.name, s.order) for s in BOOK])")
    runs = {subprocess.run([sys.executable, "-c", probe, first], capture_output=True,
                           text=True, check=True).stdout
            for first in ("storage.privacy", "storage.content", "storage.writer")}
    assert len(runs) == 1


def test_a_plain_statement_book_still_works_for_the_writer() -> None:
    book = StatementBook()  # what the writer's own tests and the benchmarks use
    assert book.add("x", "DELETE FROM t").order == 0
