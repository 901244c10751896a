"""A store error that stopped a command midway, as one sentence: the CLI's last word.

Opening a store already explains itself (``DatabaseError``); this covers what the server
or the file says later — a lock another session holds, a ``statement_timeout``, a server
shutting down, a full disk — which would otherwise end the command in a traceback.
PostgreSQL's errors are worded in ``storage.postgres`` (imported only for one of them:
every command starts without asyncpg).
"""

from __future__ import annotations

import sqlite3

from storage.database import AFTER_A_STOP


def store_problem(exc: BaseException) -> str | None:
    """The sentence for ``exc`` if the store raised it, else None: a bug (a statement the
    store cannot parse, a wrong number of values) must show its traceback."""
    if type(exc).__module__.partition(".")[0] == "asyncpg":
        from storage.postgres import command_problem

        return command_problem(exc)
    if isinstance(exc, sqlite3.ProgrammingError | sqlite3.InterfaceError):
        return None
    if isinstance(exc, sqlite3.Error):
        return f"SQLite stopped the command: {exc}. {AFTER_A_STOP}"
    return None
