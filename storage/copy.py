"""``tribebot db copy``: move a community's whole store to another database, losing nothing.

Every table is copied row for row, ids included (the ledger's, the order of handled-event
keys), in one transaction on the destination. The rollups are copied as the source has
them, not recomputed: the facts' triggers rebuild them while the facts go in, and are
then replaced by the source's own rows, so totals that forgetting a member merged into an
anonymous id come across exactly as they were.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.database import POSTGRESQL, DatabaseError
from storage.lifecycle import Maintenance
from storage.store import Repository, open_repository

#: Kept by triggers from the other tables; copied last, over what the triggers wrote.
#: ``member_weeks`` after ``daily_activity``, whose own triggers write it.
ROLLUPS = ("daily_activity", "point_totals", "member_weeks")
PAGE = 5000


@dataclass(frozen=True, slots=True)
class CopyReport:
    rows: dict[str, int]
    #: the destination held this data already: nothing was written
    already_there: bool = False


async def copy_store(source_url: str, destination_url: str) -> CopyReport:
    """Copy everything from ``source_url`` into the empty store at ``destination_url``
    (both are migrated to this version first). ``DatabaseError`` when it cannot be done."""
    if source_url == destination_url:
        raise DatabaseError("the source and the destination are the same store; name "
                            "another destination")
    source = await open_repository(source_url)
    try:
        destination = await open_repository(destination_url)
        try:
            return await _copy(source, destination)
        finally:
            await destination.close()
    finally:
        await source.close()


async def fingerprint(repo: Repository, tables: list[str]) -> dict[str, int]:
    """Rows per table, and the sum of every point total: what "the same data" means."""
    out = {}
    for table in tables:
        out[table] = int((await repo.rows(f"SELECT count(*) FROM {table}"))[0][0])
    out["(points)"] = int((await repo.rows(
        "SELECT COALESCE(sum(points), 0) FROM point_totals"))[0][0])
    return out


async def _copy(source: Repository, destination: Repository) -> CopyReport:
    source_tables = await source.tables()
    destination_tables = await destination.tables()
    missing = sorted(set(source_tables) - set(destination_tables))
    if missing:
        raise DatabaseError(f"the destination has no table {missing[0]}; it was written by "
                            "another version of Tribebot")
    tables = sorted(source_tables)
    held = await fingerprint(destination, tables)
    if any(count for table, count in held.items() if table != "(points)"):
        if held == await fingerprint(source, tables):
            return CopyReport({t: held[t] for t in tables}, already_there=True)
        raise DatabaseError("the destination already holds other data; copy into a new, "
                            "empty database")
    order = [t for t in tables if t not in ROLLUPS] + [t for t in ROLLUPS if t in tables]
    copied: dict[str, int] = {}
    async with destination.maintenance() as tx:
        for table in order:
            columns = [c for c in source_tables[table] if c in destination_tables[table]
                       or (c == "rowid" and table == "seen_events")]
            if table in ROLLUPS:
                await tx.execute(f"DELETE FROM {table}")  # what the triggers just wrote
            if table == "daily_activity":
                await tx.execute("DELETE FROM member_weeks")
            names = ", ".join(columns)
            insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
            try:
                copied[table] = await _copy_table(source, tx, table, names, insert)
            except DatabaseError:
                raise
            except Exception as exc:  # a value the destination refuses: nothing is kept
                raise DatabaseError(f"copying the table {table} failed ({exc}); the "
                                    "destination was left empty") from exc
        if destination.dialect == POSTGRESQL:  # the next ids follow the copied ones
            for table, column in (("ledger", "id"), ("seen_events", "rowid")):
                await tx.execute(f"""
                    SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                                  COALESCE((SELECT max({column}) FROM {table}), 0) + 1,
                                  false)""")
    return CopyReport(copied)


async def _copy_table(source: Repository, tx: Maintenance, table: str, names: str,
                      insert: str) -> int:
    """The table's rows in the source's own order (the ids that order matters for are
    copied as columns), read in one pass and written a page at a time."""
    copied = 0
    async for rows in source.pages(f"SELECT {names} FROM {table}", PAGE):
        await tx.executemany(insert, rows)
        copied += len(rows)
    return copied
