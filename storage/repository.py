"""The repository: every query and write of Tribebot, behind one interface.

Writes are queued on the batched writer and return immediately (they sit on the
per-event path); reads are awaited on a separate read connection after the writer has
flushed, so a reader always sees what was written before it asked.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from storage import spill
from storage.database import (
    OPTIMIZE_AT_OPEN,
    DatabaseError,
    connect,
    migrate,
    optimize,
    schema_version,
    sqlite_path,
)
from storage.writer import BatchedWriter, Params, Statement, StatementBook, WriterStopped

log = logging.getLogger(__name__)

#: Rows written between two ``PRAGMA optimize`` (SQLite's statistics go stale as tables
#: grow; a community writes this many rows in hours to days).
OPTIMIZE_EVERY = 250_000

#: How long one write waits for another program's lock before the writer's own retries.
WRITER_BUSY_TIMEOUT_MS = 1000
#: Every write statement of every storage module, in batch execution order.
BOOK = StatementBook()
_book = BOOK
# Declaration order is execution order inside a batch (see storage.writer).
UPSERT_COMMUNITY = _book.add("upsert_community", """
    INSERT INTO communities (id, platform, name, joined_at, left_at) VALUES (?, ?, ?, ?, NULL)
    ON CONFLICT (id) DO UPDATE SET
        name = CASE WHEN excluded.name != '' THEN excluded.name ELSE name END,
        left_at = NULL""")
UPSERT_CHANNEL = _book.add("upsert_channel", """
    INSERT INTO channels (community_id, channel_id, name) VALUES (?, ?, ?)
    ON CONFLICT DO UPDATE SET name = excluded.name""")
# A new member is present; presence changes only through SET_MEMBER_PRESENCE, which runs
# after every upsert of the batch, so joins and leaves keep their order.
UPSERT_MEMBER = _book.add("upsert_member", """
    INSERT INTO members (community_id, member_id, name, is_bot, first_seen_at, present)
    VALUES (?, ?, ?, ?, ?, 1)
    ON CONFLICT DO UPDATE SET
        name = CASE WHEN excluded.name != '' THEN excluded.name ELSE name END,
        is_bot = excluded.is_bot""")
SET_MEMBER_PRESENCE = _book.add("set_member_presence", """
    UPDATE members SET present = ? WHERE community_id = ? AND member_id = ?""")
INSERT_MEMBER_EVENT = _book.add("insert_member_event", """
    INSERT OR IGNORE INTO member_events (community_id, member_id, kind, at, day)
    VALUES (?, ?, ?, ?, ?)""")
INSERT_INVITE = _book.add("insert_invite", """
    INSERT OR IGNORE INTO invites (community_id, member_id, inviter_id, code, at)
    VALUES (?, ?, ?, ?, ?)""")
# Before the message in a batch: the day is then never counted as contribution at all
# (the other order is right too, the rollup's triggers take the day back).
INSERT_FARMED = _book.add("insert_farmed", """
    INSERT OR IGNORE INTO farmed_messages (community_id, message_id, member_id, reason, at, day)
    VALUES (?, ?, ?, ?, ?, ?)""")
INSERT_MESSAGE = _book.add("insert_message", """
    INSERT OR IGNORE INTO messages (community_id, message_id, channel_id, thread_id, author_id,
        author_is_bot, reply_to_id, reply_to_author_id, at, day, length, has_media, text)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")
UPDATE_MESSAGE_EDIT = _book.add("update_message_edit", """
    UPDATE messages SET edited_at = ?, length = ?, text = COALESCE(?, text)
    WHERE community_id = ? AND message_id = ?""")
UPDATE_MESSAGE_DELETE = _book.add("update_message_delete", """
    UPDATE messages SET deleted_at = ? WHERE community_id = ? AND message_id = ?""")
UPSERT_REACTION = _book.add("upsert_reaction", """
    INSERT INTO reactions (community_id, message_id, reactor_id, emoji, author_id,
        reactor_is_bot, day, first_at, changed_at, active)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET
        active = excluded.active, changed_at = excluded.changed_at,
        author_id = COALESCE(author_id, excluded.author_id)
    WHERE excluded.changed_at >= reactions.changed_at""")
INSERT_LEDGER = _book.add("insert_ledger", """
    INSERT OR IGNORE INTO ledger (community_id, member_id, season, delta, reason, ref, at, day,
        actor_id, note)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")
UPSERT_SETTING = _book.add("upsert_setting", """
    INSERT INTO community_settings (community_id, key, value) VALUES (?, ?, ?)
    ON CONFLICT DO UPDATE SET value = excluded.value""")
DELETE_SETTING = _book.add("delete_setting", """
    DELETE FROM community_settings WHERE community_id = ? AND key = ?""")
MARK_COMMUNITY_LEFT = _book.add("mark_community_left", """
    UPDATE communities SET left_at = ? WHERE id = ?""")
UPSERT_REACTION_COUNTS = _book.add("upsert_reaction_counts", """
    INSERT INTO reaction_counts (community_id, message_id, counts, total, at)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET counts = excluded.counts, total = excluded.total,
        at = excluded.at
    WHERE excluded.at >= reaction_counts.at""")
PRUNE_SEEN = _book.add("prune_seen", """
    DELETE FROM seen_events WHERE rowid <= (SELECT max(rowid) FROM seen_events) - ?""")
SET_SEASON = _book.add("set_season", "UPDATE communities SET season = ? WHERE id = ?")
UPSERT_ANNOUNCED = _book.add("upsert_announced_level", """
    INSERT INTO level_announcements (community_id, season, member_id, level) VALUES (?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET level = max(level, excluded.level)""")
INSERT_SEEN = _book.add("insert_seen", "INSERT OR IGNORE INTO seen_events (key, at) VALUES (?, ?)")
# What records a key now (INSERT_SEEN stays for rows an older version kept at a stop): a
# handled key (live = 1) and the key it undoes (live = 0), in one statement so that the
# batch keeps their order; REPLACE gives a key seen again a new rowid (the newest last).
SET_SEEN = _book.add("set_seen", """
    INSERT OR REPLACE INTO seen_events (key, at, live) VALUES (?, ?, ?)""")


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True, slots=True)
class CommunityRow:
    id: str
    platform: str
    name: str
    joined_at: datetime
    left_at: datetime | None
    season: int


@dataclass(frozen=True, slots=True)
class LedgerRow:
    member: str
    delta: int
    reason: str
    ref: str
    at: datetime
    season: int
    actor: str | None
    note: str


@dataclass(frozen=True, slots=True)
class RecentLedgerRow:
    member: str
    reason: str
    ref: str
    delta: int
    at: datetime
    day: str


@dataclass(slots=True)
class MessageFacts:
    """What a reaction needs of the message it reacts to, as the store has it."""

    author: str
    channel: str | None
    reply_to_author: str | None
    author_is_bot: bool
    #: (reactor, emoji) of every reaction recorded -> the points it still holds
    reactions: dict[tuple[str, str], int]
    #: reaction points the message earned in all (what the per-message cap counts)
    reaction_points: int
    #: the helpful-answer bonus was settled (given, or spent at the daily cap)
    helped: bool


@dataclass(frozen=True, slots=True)
class MemberStanding:
    """A member's points state as the store has it (for a member memory let go of)."""

    total: int
    announced: int
    last_award: datetime | None
    earned_on_day: int


@dataclass(frozen=True, slots=True)
class Standing:
    member: str
    name: str
    points: int
    rank: int


class Repository:
    """SQLite implementation. A PostgreSQL one would offer the same methods."""

    def __init__(
        self, url: str, *, max_batch: int = 1000, max_delay_ms: float = 50, bulk: bool = True
    ) -> None:
        self.url = url
        self._bulk = bulk
        self.path = sqlite_path(url)
        self._max_batch = max_batch
        self._max_delay_ms = max_delay_ms
        self._write: aiosqlite.Connection | None = None
        self._read: aiosqlite.Connection | None = None
        self.writer: BatchedWriter | None = None
        self.migrations_applied: list[str] = []
        #: where a row written now belongs, if not straight to the writer (the bus's
        #: unit of the event being handled; see ``bot.core.bus``)
        self.collect: Callable[[], list[Any] | None] | None = None

    # -- lifecycle ---------------------------------------------------------------------
    async def open(self, *, writable: bool = True) -> list[str]:
        """Check the file, connect, apply pending migrations, start the writer; returns
        the migrations applied. ``writable=False`` accepts a read-only database (reports)."""
        self._write = await connect(self.url, check=True, writable=writable)
        # the writer retries a locked store by itself (see storage.writer): one try waits
        # a second, not five, so a stop is never stuck behind a statement waiting for a lock
        await self._write.execute(f"PRAGMA busy_timeout={WRITER_BUSY_TIMEOUT_MS}")
        try:
            applied = await migrate(self._write)
            self.migrations_applied = applied
        except Exception:
            await self._write.close()
            raise
        if self.path == ":memory:":
            self._read = self._write  # one in-memory database cannot be opened twice
        else:
            self._read = await connect(self.url)
            await self._read.execute("PRAGMA query_only=ON")
        self.writer = BatchedWriter(
            self._write, max_batch=self._max_batch, max_delay_ms=self._max_delay_ms,
            bulk=self._bulk, optimize_every=OPTIMIZE_EVERY,
        )
        await self.writer.start()
        await self._write_kept_rows()
        await optimize(self._write, OPTIMIZE_AT_OPEN)  # after migrations and kept rows
        return applied

    async def _write_kept_rows(self) -> None:
        """Rows the last stop could not commit (see ``storage.spill``) go in first."""
        path = spill.spill_path(self.path)
        if self.path == ":memory:" or not path.exists():
            return
        import storage.content
        import storage.journey  # noqa: F401

        rows, unknown = await asyncio.to_thread(spill.load, path, BOOK)
        for statement, params in rows:
            self._submit(statement, params)
        await self.flush()
        if unknown:
            kept = path.with_suffix(".unreadable")
            path.rename(kept)
            log.error("%d rows kept from the last stop name statements this version does "
                      "not have; they stay in %s", unknown, kept)
        else:
            path.unlink()
        log.warning("wrote %d rows the last stop could not save (kept in %s)", len(rows),
                    path)

    async def close(self, *, give_up_after_s: float = 15.0) -> None:
        """Commit what is queued and close; ``WriterStopped`` if rows could not be saved
        (they are kept in a file beside the database for the next start, if possible)."""
        try:
            if self.writer is not None:
                await self.writer.close(give_up_after_s=give_up_after_s)
        except WriterStopped as exc:
            assert self.writer is not None
            unsaved = self.writer.unsaved_rows()
            if not unsaved or self.path == ":memory:":
                raise
            path = spill.spill_path(self.path)
            try:
                kept = await asyncio.to_thread(spill.keep, path, unsaved)
            except OSError as error:  # the disk that is full, say
                raise WriterStopped(f"{exc}; keeping them in {path} failed too ({error})"
                                    ) from exc
            raise WriterStopped(f"{exc}. {kept} of them are kept in {path}; the next start "
                                "writes them") from exc
        finally:
            if self._read is not None and self._read is not self._write:
                await self._read.close()
            if self._write is not None:
                if self.writer is not None and not self.writer.unsaved:  # the store is fine
                    await optimize(self._write)
                await self._write.close()
            self._write = self._read = None

    async def until_writes_fail(self) -> BaseException:
        """Wait until the writer stops on an error it cannot get past; return that error."""
        assert self.writer is not None, "repository is not open"
        await self.writer.failed.wait()
        assert self.writer.failure is not None
        return self.writer.failure

    async def __aenter__(self) -> Repository:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _submit(self, stmt: Any, params: Sequence[Any]) -> None:
        rows = self.collect() if self.collect is not None else None
        if rows is not None:  # part of the event being handled: saved with it
            rows.append((stmt, params))
            return
        assert self.writer is not None, "repository is not open"
        self.writer.submit(stmt, params)

    def submit_unit(self, rows: list[tuple[Statement, Params]]) -> None:
        """Queue rows that are committed together or not at all (one event's)."""
        assert self.writer is not None, "repository is not open"
        self.writer.submit_unit(rows)

    # Other modules of ``storage`` (one per feature) queue writes and run reads through
    # these two, so every write still goes through the one batched writer.
    def submit(self, stmt: Statement, params: Sequence[Any]) -> None:
        self._submit(stmt, params)

    async def rows(
        self, sql: str, params: Sequence[Any] = (), *, consistent: bool = True
    ) -> list[Any]:
        return await self._rows(sql, params, consistent=consistent)

    async def dict_rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows as column -> value dicts (for exports)."""
        assert self.writer is not None and self._read is not None, "repository is not open"
        await self.writer.flush()
        async with self._read.execute(sql, params) as cur:
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in await cur.fetchall()]

    async def _rows(
        self, sql: str, params: Sequence[Any] = (), *, consistent: bool = True
    ) -> list[Any]:
        """Run a read. ``consistent`` first commits queued writes so the read sees them;
        reads that tolerate a slightly old answer skip that and leave batching alone."""
        assert self.writer is not None and self._read is not None, "repository is not open"
        if consistent:
            await self.writer.flush()
        async with self._read.execute(sql, params) as cur:
            return list(await cur.fetchall())

    # -- writes (queued) ---------------------------------------------------------------
    def record_community(self, community: str, platform: str, name: str, at: datetime) -> None:
        self._submit(UPSERT_COMMUNITY, (community, platform, name, epoch(at)))

    def record_community_left(self, community: str, at: datetime) -> None:
        self._submit(MARK_COMMUNITY_LEFT, (epoch(at), community))

    def record_channel(self, community: str, channel: str, name: str) -> None:
        self._submit(UPSERT_CHANNEL, (community, channel, name))

    def record_member(
        self, community: str, member: str, name: str, is_bot: bool, at: datetime,
        *, present: bool | None = None,
    ) -> None:
        """Create or refresh a member; ``present`` None leaves presence as it is."""
        self._submit(UPSERT_MEMBER, (community, member, name, int(is_bot), epoch(at)))
        if present is not None:
            self._submit(SET_MEMBER_PRESENCE, (int(present), community, member))

    def record_member_event(
        self, community: str, member: str, kind: str, at: datetime, day: str
    ) -> None:
        self._submit(INSERT_MEMBER_EVENT, (community, member, kind, epoch(at), day))

    def record_invite(
        self, community: str, member: str, inviter: str | None, code: str, at: datetime
    ) -> None:
        self._submit(INSERT_INVITE, (community, member, inviter, code, epoch(at)))

    def record_message(
        self, community: str, message: str, *, channel: str, thread: str | None, author: str,
        author_is_bot: bool, reply_to: str | None, reply_to_author: str | None, at: datetime,
        day: str, length: int, has_media: bool, text: str | None,
    ) -> None:
        self._submit(INSERT_MESSAGE, (
            community, message, channel, thread, author, int(author_is_bot), reply_to,
            reply_to_author, epoch(at), day, length, int(has_media), text,
        ))

    def record_farmed(
        self, community: str, message: str, member: str, reason: str, at: datetime, day: str
    ) -> None:
        """A message the engagement rules refused as farming: not contribution."""
        self._submit(INSERT_FARMED, (community, message, member, reason, epoch(at), day))

    def record_edit(
        self, community: str, message: str, at: datetime, length: int, text: str | None
    ) -> None:
        self._submit(UPDATE_MESSAGE_EDIT, (epoch(at), length, text, community, message))

    def record_delete(self, community: str, message: str, at: datetime) -> None:
        self._submit(UPDATE_MESSAGE_DELETE, (epoch(at), community, message))

    def record_reaction(
        self, community: str, message: str, reactor: str, emoji: str, *,
        author: str | None, reactor_is_bot: bool, at: datetime, day: str, active: bool,
    ) -> None:
        ts = epoch(at)
        self._submit(UPSERT_REACTION, (
            community, message, reactor, emoji, author, int(reactor_is_bot), day, ts, ts,
            int(active),
        ))

    def record_reaction_counts(
        self, community: str, message: str, counts: Sequence[tuple[str, int]], at: datetime
    ) -> None:
        """The latest anonymous totals of a message (the platform sends the whole set)."""
        self._submit(UPSERT_REACTION_COUNTS, (
            community, message, json.dumps(dict(counts), ensure_ascii=False),
            sum(n for _, n in counts), epoch(at),
        ))

    def prune_seen(self, keep: int) -> None:
        """Forget all but the newest ``keep`` handled-event keys (they only guard against
        re-deliveries, which come within minutes; without pruning the table grows forever)."""
        self._submit(PRUNE_SEEN, (keep,))

    def record_seen(self, key: str, at: datetime, *, undoes: str | None = None) -> None:
        """Remember a handled event's key (and that the key it undoes is free again)."""
        ts = epoch(at)
        self._submit(SET_SEEN, (key, ts, 1))
        if undoes is not None:
            self._submit(SET_SEEN, (undoes, ts, 0))

    def add_ledger(
        self, community: str, member: str, *, season: int, delta: int, reason: str, ref: str,
        at: datetime, day: str, actor: str | None = None, note: str = "",
    ) -> None:
        """Append a points change; the same (member, reason, ref) is only ever counted once."""
        self._submit(INSERT_LEDGER, (
            community, member, season, delta, reason, ref, epoch(at), day, actor, note,
        ))

    def set_announced_level(self, community: str, season: int, member: str, level: int) -> None:
        self._submit(UPSERT_ANNOUNCED, (community, season, member, level))

    def set_season(self, community: str, season: int) -> None:
        self._submit(SET_SEASON, (season, community))

    def set_setting(self, community: str, key: str, value: Any) -> None:
        self._submit(UPSERT_SETTING, (community, key, json.dumps(value, ensure_ascii=False)))

    def clear_setting(self, community: str, key: str) -> None:
        self._submit(DELETE_SETTING, (community, key))

    async def flush(self) -> None:
        assert self.writer is not None
        await self.writer.flush()

    # -- reads -------------------------------------------------------------------------
    async def communities(self) -> list[CommunityRow]:
        rows = await self._rows(
            "SELECT id, platform, name, joined_at, left_at, season FROM communities ORDER BY id"
        )
        return [
            CommunityRow(r[0], r[1], r[2], from_epoch(r[3]),
                         from_epoch(r[4]) if r[4] is not None else None, r[5])
            for r in rows
        ]

    async def all_settings(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for community, key, value in await self._rows(
            "SELECT community_id, key, value FROM community_settings"
        ):
            out.setdefault(community, {})[key] = json.loads(value)
        return out

    async def recent_event_keys(
        self, limit: int
    ) -> tuple[list[tuple[str, datetime]], datetime | None]:
        """The newest ``limit`` handled-event keys with their times, oldest first, and the
        latest time among the keys left out (None when none are): an event at or before
        it may be a re-delivery that only the store recognises. Times are rounded up to
        the next second (the store keeps whole seconds), which errs on the side of asking."""
        rows = await self._rows(
            "SELECT rowid, key, at, live FROM seen_events ORDER BY rowid DESC LIMIT ?", (limit,)
        )
        horizon = None
        if len(rows) == limit:
            older = await self._rows(
                "SELECT max(at) FROM seen_events WHERE rowid < ?", (rows[-1][0],))
            if older and older[0][0] is not None:
                # stored in whole seconds: the next second covers the fraction cut off
                horizon = from_epoch(int(older[0][0]) + 1)
        return [(r[1], from_epoch(r[2] + 1)) for r in reversed(rows) if r[3]], horizon

    async def seen_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` were handled already (one question for a whole batch)."""
        if not keys:
            return set()
        marks = ",".join("?" * len(keys))
        rows = await self._rows(
            f"SELECT key FROM seen_events WHERE key IN ({marks}) AND live = 1", list(keys),
            consistent=False)
        return {r[0] for r in rows}

    async def latest_event_time(self) -> datetime | None:
        """When the newest handled event happened (where a replay's clock resumes)."""
        rows = await self._rows("SELECT max(at) FROM seen_events")
        return from_epoch(int(rows[0][0])) if rows and rows[0][0] is not None else None

    async def message_author(self, community: str, message: str, *, consistent: bool = True
                             ) -> str | None:
        """``consistent=False`` reads what is committed, without committing what is queued
        first (the recorder remembers the authors of the messages written lately)."""
        rows = await self._rows(
            "SELECT author_id FROM messages WHERE community_id = ? AND message_id = ?",
            (community, message), consistent=consistent,
        )
        return rows[0][0] if rows else None

    async def message_authors(self, community: str, messages: Sequence[str]
                              ) -> dict[str, str]:
        """Who wrote each of ``messages`` that the store knows (one question per 500)."""
        found: dict[str, str] = {}
        for start in range(0, len(messages), 500):
            part = list(messages[start:start + 500])
            marks = ",".join("?" * len(part))
            for message, author in await self._rows(
                f"SELECT message_id, author_id FROM messages WHERE community_id = ? "
                f"AND message_id IN ({marks})", (community, *part)):
                found[message] = author
        return found

    async def channels(self, community: str) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in await self._rows(
            "SELECT channel_id, name FROM channels WHERE community_id = ? ORDER BY channel_id",
            (community,))]

    async def member_names(self, community: str, members: Iterable[str]) -> dict[str, str]:
        ids = list(members)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = await self._rows(
            "SELECT member_id, name FROM members"
            f" WHERE community_id = ? AND member_id IN ({marks})",
            (community, *ids), consistent=False,
        )
        return {r[0]: r[1] for r in rows}

    async def counts(self) -> dict[str, int]:
        """Row counts per table, for ``tribebot db stats``."""
        tables = ["communities", "members", "member_events", "messages", "reactions",
                  "ledger", "point_totals", "daily_activity", "seen_events"]
        out = {}
        for table in tables:
            rows = await self._rows(f"SELECT count(*) FROM {table}")
            out[table] = int(rows[0][0])
        return out

    async def schema_version(self) -> int:
        assert self._read is not None
        return await schema_version(self._read)

    # points ---------------------------------------------------------------------------
    async def season_of(self, community: str) -> int:
        rows = await self._rows("SELECT season FROM communities WHERE id = ?", (community,))
        return int(rows[0][0]) if rows else 1

    async def point_totals(self, community: str, season: int) -> dict[str, int]:
        rows = await self._rows(
            "SELECT member_id, points FROM point_totals WHERE community_id = ? AND season = ?",
            (community, season),
        )
        return {r[0]: int(r[1]) for r in rows}

    async def standing(self, community: str, season: int, member: str) -> Standing | None:
        rows = await self._rows(
            """SELECT t.member_id, COALESCE(m.name, ''), t.points,
                      (SELECT count(*) FROM point_totals o WHERE o.community_id = t.community_id
                         AND o.season = t.season AND o.points > t.points) + 1
               FROM point_totals t LEFT JOIN members m
                 ON m.community_id = t.community_id AND m.member_id = t.member_id
               WHERE t.community_id = ? AND t.season = ? AND t.member_id = ?""",
            (community, season, member),
        )
        return Standing(rows[0][0], rows[0][1], int(rows[0][2]), int(rows[0][3])) if rows else None

    async def leaderboard(
        self, community: str, season: int, *, since_day: str | None = None,
        limit: int = 10, offset: int = 0,
    ) -> list[Standing]:
        """Members by points: the season's totals, or points earned since a local day."""
        if since_day is None:
            rows = await self._rows(
                """SELECT t.member_id, COALESCE(m.name, ''), t.points FROM point_totals t
                   LEFT JOIN members m ON m.community_id = t.community_id
                                      AND m.member_id = t.member_id
                   WHERE t.community_id = ? AND t.season = ? AND t.points > 0
                   ORDER BY t.points DESC, t.member_id LIMIT ? OFFSET ?""",
                (community, season, limit, offset),
            )
        else:
            rows = await self._rows(
                """SELECT d.member_id, COALESCE(m.name, ''), sum(d.points) AS p
                   FROM daily_activity d LEFT JOIN members m
                     ON m.community_id = d.community_id AND m.member_id = d.member_id
                   WHERE d.community_id = ? AND d.day >= ?
                   GROUP BY d.member_id HAVING p > 0
                   ORDER BY p DESC, d.member_id LIMIT ? OFFSET ?""",
                (community, since_day, limit, offset),
            )
        return [Standing(r[0], r[1], int(r[2]), offset + i + 1) for i, r in enumerate(rows)]

    async def ledger_history(self, community: str, member: str, limit: int = 10) -> list[LedgerRow]:
        rows = await self._rows(
            """SELECT member_id, delta, reason, ref, at, season, actor_id, note FROM ledger
               WHERE community_id = ? AND member_id = ? ORDER BY id DESC LIMIT ?""",
            (community, member, limit),
        )
        return [LedgerRow(r[0], r[1], r[2], r[3], from_epoch(r[4]), r[5], r[6], r[7]) for r in rows]

    async def ledger_amount(self, community: str, member: str, reason: str, ref: str) -> int:
        rows = await self._rows(
            """SELECT delta FROM ledger WHERE community_id = ? AND member_id = ?
               AND reason = ? AND ref = ?""", (community, member, reason, ref),
        )
        return int(rows[0][0]) if rows else 0

    async def ledger_has(self, community: str, member: str, reason: str, ref: str) -> bool:
        """Whether the ledger holds this change (of any amount, 0 included). Not waiting
        for queued writes: callers remember what they wrote themselves."""
        rows = await self._rows(
            """SELECT 1 FROM ledger WHERE community_id = ? AND member_id = ? AND reason = ?
               AND ref = ?""", (community, member, reason, ref), consistent=False)
        return bool(rows)

    async def announced_levels(self, community: str, season: int) -> dict[str, int]:
        rows = await self._rows(
            "SELECT member_id, level FROM level_announcements WHERE community_id = ? "
            "AND season = ?", (community, season))
        return {r[0]: int(r[1]) for r in rows}

    async def bot_members(self, community: str) -> list[str]:
        rows = await self._rows(
            "SELECT member_id FROM members WHERE community_id = ? AND is_bot = 1", (community,))
        return [r[0] for r in rows]

    async def recent_ledger(self, community: str, since: datetime, *, page: int = 20_000
                            ) -> list[RecentLedgerRow]:
        """Ledger rows dated ``since`` or later, read newest first by row id and stopping at
        the first page with none that recent (rows are appended roughly in time order), so
        a long history is not read at start."""
        out: list[RecentLedgerRow] = []
        below = None
        cutoff = epoch(since)
        while True:
            rows = await self._rows(
                "SELECT id, member_id, reason, ref, delta, at, day FROM ledger "
                "WHERE community_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
                (community, below if below is not None else 2 ** 62, page))
            recent = [r for r in rows if r[5] >= cutoff]
            out.extend(RecentLedgerRow(r[1], r[2], r[3], int(r[4]), from_epoch(r[5]), r[6])
                       for r in recent)
            if len(rows) < page or not recent:
                return out
            below = rows[-1][0]

    async def message_facts(self, community: str, message: str, author: str | None
                            ) -> MessageFacts | None:
        """What the store knows about a message and its reactions; ``author`` stands in
        when the message itself was never recorded (posted before the bot was there)."""
        rows = await self._rows(
            "SELECT author_id, channel_id, reply_to_author_id, author_is_bot FROM messages "
            "WHERE community_id = ? AND message_id = ?", (community, message),
            consistent=False)
        if rows:
            author, channel, parent, is_bot = rows[0][0], rows[0][1], rows[0][2], bool(rows[0][3])
        elif author is None:
            return None
        else:
            channel, parent, is_bot = None, None, False
        facts = MessageFacts(author, channel, parent, is_bot, {}, 0, False)
        for reactor, emoji in await self._rows(
                "SELECT reactor_id, emoji FROM reactions WHERE community_id = ? "
                "AND message_id = ?", (community, message), consistent=False):
            facts.reactions[(reactor, emoji)] = 0
        prefix = message + "|"
        for reason, ref, delta in await self._rows(
                """SELECT reason, ref, delta FROM ledger WHERE community_id = ? AND member_id = ?
                   AND ((reason IN ('reaction_received', 'reaction_removed')
                         AND ref >= ? AND ref < ?)
                        OR (reason = 'helpful_answer' AND ref = ?))""",
                (community, author, prefix, message + "}", message), consistent=False):
            if reason == "helpful_answer":
                facts.helped = True
                continue
            reactor, _, emoji = ref[len(prefix):].partition("|")
            key = (reactor, emoji)
            facts.reactions[key] = facts.reactions.get(key, 0) + int(delta)
            if reason == "reaction_received":
                facts.reaction_points += int(delta)
        return facts

    async def member_standing(self, community: str, season: int, member: str, day: str,
                              earning: Sequence[str]) -> MemberStanding:
        """Total, announced level, last message award and points earned on ``day`` (the
        reasons in ``earning``) of one member."""
        marks = ",".join("?" * len(earning))
        rows = await self._rows(
            f"""SELECT
                 (SELECT points FROM point_totals WHERE community_id = ?1 AND season = ?2
                    AND member_id = ?3),
                 (SELECT level FROM level_announcements WHERE community_id = ?1
                    AND season = ?2 AND member_id = ?3),
                 (SELECT max(at) FROM ledger WHERE community_id = ?1 AND member_id = ?3
                    AND reason = 'message' AND delta > 0),
                 (SELECT sum(delta) FROM ledger WHERE community_id = ?1 AND member_id = ?3
                    AND day = ?4 AND reason IN ({marks}))""",
            (community, season, member, day, *earning), consistent=False)
        total, announced, last, earned = rows[0]
        return MemberStanding(int(total or 0), int(announced or 0),
                              from_epoch(last) if last is not None else None, int(earned or 0))

    async def active_days(self, community: str, member: str, days: Sequence[str]) -> list[str]:
        """Which of ``days`` the member posted or reacted on, oldest first.

        Asked as one primary-key seek per day: the rollup is keyed by day first, which is
        what the weekly reports scan, so a per-member index is not worth its write cost.
        """
        if not days:
            return []
        marks = ",".join("?" * len(days))
        rows = await self._rows(
            f"""SELECT day FROM daily_activity WHERE community_id = ? AND day IN ({marks})
                AND member_id = ? AND (messages > 0 OR reactions_given > 0) ORDER BY day""",
            (community, *days, member),
        )
        return [r[0] for r in rows]

    async def recompute_totals(self) -> int:
        """Rebuild point totals from the ledger; returns how many totals were wrong."""
        assert self._write is not None and self.writer is not None
        await self.writer.flush()
        drift_sql = """
            SELECT count(*) FROM (
              SELECT community_id, season, member_id, sum(delta) AS p FROM ledger
              GROUP BY community_id, season, member_id) l
            FULL OUTER JOIN point_totals t USING (community_id, season, member_id)
            WHERE COALESCE(l.p, 0) != COALESCE(t.points, 0)"""
        async with self._write.execute(drift_sql) as cur:
            row = await cur.fetchone()
        drift = int(row[0]) if row else 0
        await self._write.executescript("""
            BEGIN;
            DELETE FROM point_totals;
            INSERT INTO point_totals (community_id, season, member_id, points)
              SELECT community_id, season, member_id, sum(delta) FROM ledger
              GROUP BY community_id, season, member_id;
            COMMIT;""")
        return drift


async def open_repository(url: str, *, max_batch: int = 1000, max_delay_ms: float = 50,
                          writable: bool = True) -> Repository:
    """Open the store named by a URL (only ``sqlite:///`` today)."""
    if not url.startswith("sqlite:///"):
        raise DatabaseError(
            f"unsupported storage url {url!r}; only sqlite:///path/to/file.db is available now"
        )
    repo = Repository(url, max_batch=max_batch, max_delay_ms=max_delay_ms)
    await repo.open(writable=writable)
    return repo
