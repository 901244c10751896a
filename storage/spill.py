"""Rows the writer could not commit before a stop, kept beside the database until the next
start writes them.

A stop gives an unavailable store (locked by another program, disk full) a few seconds;
after that the queued rows would be lost. They are appended to ``<database>.unsaved.jsonl``
instead, one ``{"statement": name, "params": [...]}`` per line, and the next start submits
them before anything else and removes the file once they are committed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from storage.book import Book
from storage.writer import Params, Statement


def spill_path(database: str) -> Path:
    return Path(f"{database}.unsaved.jsonl")


def keep(path: Path, rows: Iterable[tuple[Statement, Params]]) -> int:
    """Append ``rows`` to ``path``; returns how many were kept (a value with no JSON form
    cannot be, and no store column holds one)."""
    kept = 0
    with path.open("ab") as handle:
        for statement, params in rows:
            try:
                line = orjson.dumps({"statement": statement.name, "params": list(params)})
            except orjson.JSONEncodeError:
                continue
            handle.write(line + b"\n")
            kept += 1
    return kept


def load(path: Path, book: Book) -> tuple[list[tuple[Statement, list[Any]]], int]:
    """The kept rows whose statement this version still has, and how many it does not."""
    rows: list[tuple[Statement, list[Any]]] = []
    unknown = 0
    for line in path.read_bytes().splitlines():
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)
            statement = book.named(str(entry["statement"]))
            params = list(entry["params"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            statement, params = None, []
        if statement is None:
            unknown += 1
        else:
            rows.append((statement, params))
    return rows, unknown
