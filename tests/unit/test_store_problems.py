"""What the CLI says when the store stops a command midway (storage.problems)."""

import sqlite3

import asyncpg

from storage.problems import store_problem


def test_an_error_that_is_not_the_store_s_is_not_explained_away() -> None:
    assert store_problem(KeyError("a bug")) is None
    assert store_problem(ValueError("a bad argument")) is None
    assert store_problem(sqlite3.ProgrammingError("Incorrect number of bindings")) is None
    assert store_problem(asyncpg.UndefinedColumnError('column "x" does not exist')) is None
    assert store_problem(asyncpg.InsufficientPrivilegeError("permission denied")) is not None


def test_store_errors_are_one_sentence_with_what_to_do() -> None:
    assert store_problem(sqlite3.OperationalError("disk I/O error")) == (
        "SQLite stopped the command: disk I/O error. Run it again once that is resolved: "
        "nothing it committed is lost, and no command counts a fact twice.")
    cancelled = store_problem(asyncpg.QueryCanceledError(
        "canceling statement due to statement timeout"))
    assert cancelled is not None and "statement_timeout" in cancelled
    lost = store_problem(asyncpg.ConnectionDoesNotExistError("connection was closed"))
    assert lost is not None and lost.startswith("the connection to PostgreSQL was lost")
