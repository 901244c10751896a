"""A store error that stopped a command midway, as one sentence: the CLI's last word.

Opening a store already explains itself (``DatabaseError``); this covers what the server
or the file says later — a lock another session holds, a ``statement_timeout``, a server
shutting down, a full disk — which would otherwise end the command in a traceback.
"""

from __future__ import annotations

import sqlite3

import asyncpg

_AFTER = ("Run it again once that is resolved: nothing it committed is lost, and no "
          "command counts a fact twice.")

#: SQLSTATE -> what it means for the user, where a plain wording helps.
_POSTGRES_HINTS = {
    "55P03": "another session holds a lock on a table it needs, longer than the server's "
             "lock_timeout (a long transaction left open, a running migration)",
    "57014": "the server cancelled it (its statement_timeout, or an administrator)",
    "57P01": "the server is shutting down",
    "57P02": "the server is restarting",
    "57P03": "the server is not accepting connections yet",
    "53100": "the server's disk is full",
    "40P01": "it deadlocked with another session",
}


def store_problem(exc: BaseException) -> str | None:
    """The sentence for ``exc`` if the store raised it, else None: a bug (a statement the
    store cannot parse, a wrong number of values) must show its traceback."""
    if isinstance(exc, sqlite3.ProgrammingError | sqlite3.InterfaceError):
        return None
    if isinstance(exc, sqlite3.Error):
        return f"SQLite stopped the command: {exc}. {_AFTER}"
    if isinstance(exc, asyncpg.InterfaceError | asyncpg.PostgresConnectionError):
        return (f"the connection to PostgreSQL was lost in the middle of the command ({exc}). "
                f"{_AFTER}")
    if isinstance(exc, asyncpg.PostgresError):
        code = getattr(exc, "sqlstate", None) or ""
        if code.startswith("42") and code != "42501":  # bad SQL; 42501: not allowed
            return None
        why = _POSTGRES_HINTS.get(code)
        detail = f"{why} ({exc})" if why else str(exc)
        return f"PostgreSQL stopped the command: {detail}. {_AFTER}"
    return None
