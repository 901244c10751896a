"""When content jobs wake up: APScheduler on the system clock, the bot's timers in replay.

In production an AsyncIOScheduler keeps one job per item or queue in an SQLAlchemy job
store on the bot's own SQLite file, so jobs survive restarts. A stored job holds only
strings (the store key and the job name) and points at ``run_content_job``, a
module-level function that finds the live cog through ``_LIVE``: no client, cog or
connection is ever pickled.

On a simulated clock APScheduler would fire by wall time, so the same jobs are armed as
timers on the bot's clock instead, at the trigger's next fire time.

Either way a wake-up only says "look now": the cog works out which slots came due from
its own slot records, so a duplicate or late wake-up posts nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger

from bot.core.clock import Clock
from bot.core.timers import Timers
from bot.ownership import Ownership
from cogs.content.rules import next_fire_after
from storage.jobs import JOB_TABLE, close_job_store, open_job_store

log = logging.getLogger(__name__)

JOB_PREFIX = "content:"


class JobRunner(Protocol):
    async def run_job(self, job: str) -> None: ...


#: Live cogs by store key (the resolved database path): how a stored job finds its cog.
_LIVE: dict[str, JobRunner] = {}


async def run_content_job(store_key: str, job: str) -> None:
    """The function every stored job calls; arguments are plain strings."""
    runner = _LIVE.get(store_key)
    if runner is None:
        log.warning("content job %s fired but no content cog serves %s", job, store_key)
        return
    await runner.run_job(job)


def store_key(database: str) -> str:
    return database if database == ":memory:" else str(Path(database).resolve())


def job_table(ownership: Ownership) -> str:
    """The job table of this process. APScheduler cannot share one among processes (each
    would run, reschedule or drop the others' jobs), so a process that takes a range of
    Discord shards keeps its jobs in a table of its own; a single process keeps the
    usual one."""
    if ownership.shards is None:
        return JOB_TABLE
    ids, count = ownership.shards
    return f"{JOB_TABLE}_shards_{'_'.join(map(str, sorted(ids)))}_of_{count}"


class JobDriver(Protocol):
    def start(self) -> None: ...
    def resume(self) -> None: ...
    def shutdown(self) -> None: ...
    def plan(self, job: str, trigger: BaseTrigger, grace: timedelta) -> None: ...
    def unplan(self, job: str) -> None: ...
    def planned(self) -> set[str]: ...


class APSchedulerDriver:
    """Jobs in APScheduler with the SQLAlchemy job store on the bot's database."""

    def __init__(self, key: str, database: str, runner: JobRunner,
                 table: str = JOB_TABLE) -> None:
        self.key = key
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": open_job_store(database, table)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        _LIVE[key] = runner

    def start(self) -> None:
        """Start paused: stored jobs load, but none fires before ``resume``."""
        self.scheduler.start(paused=True)

    def resume(self) -> None:
        self.scheduler.resume()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        close_job_store(self.scheduler._jobstores["default"])  # release the file
        _LIVE.pop(self.key, None)

    def plan(self, job: str, trigger: BaseTrigger, grace: timedelta) -> None:
        """Add or replace a job; a stored job with the same trigger and grace is kept as
        it is, so a slot it missed while the bot was down still fires within grace."""
        job_id = JOB_PREFIX + job
        seconds = max(int(grace.total_seconds()), 1)
        existing = self.scheduler.get_job(job_id)
        if (existing is not None and existing.misfire_grace_time == seconds
                and existing.trigger.__getstate__() == trigger.__getstate__()):
            return
        due = next_fire_after(trigger, datetime.now(UTC))
        if due is None:
            self.unplan(job)  # a date already past: the cog's catch-up decides about it
            return
        # APScheduler would start an interval trigger at its anchor, which a new time zone
        # can put hours in the past (10:00 in Jerusalem is 08:00 UTC): the slot stored is
        # the first one still ahead, as the timers do
        self.scheduler.add_job(
            run_content_job, trigger=trigger, args=(self.key, job), id=job_id, name=job,
            replace_existing=True, misfire_grace_time=seconds, coalesce=True,
            next_run_time=due,
        )

    def unplan(self, job: str) -> None:
        if self.scheduler.get_job(JOB_PREFIX + job) is not None:
            self.scheduler.remove_job(JOB_PREFIX + job)

    def planned(self) -> set[str]:
        return {j.id.removeprefix(JOB_PREFIX) for j in self.scheduler.get_jobs()
                if j.id.startswith(JOB_PREFIX)}


class TimerDriver:
    """The same jobs as timers on the bot's (simulated) clock."""

    def __init__(self, timers: Timers, clock: Clock,
                 run: Callable[[str], Awaitable[None]],
                 trigger_of: Callable[[str], BaseTrigger | None]) -> None:
        self._timers = timers
        self._clock = clock
        self._run = run
        self._trigger_of = trigger_of
        self._jobs: set[str] = set()

    def start(self) -> None:
        pass

    def resume(self) -> None:
        pass

    def shutdown(self) -> None:
        for job in list(self._jobs):
            self.unplan(job)

    def plan(self, job: str, trigger: BaseTrigger, grace: timedelta) -> None:
        due = next_fire_after(trigger, self._clock.now())
        if due is None:
            self.unplan(job)
            return
        self._jobs.add(job)

        async def fire() -> None:
            await self._run(job)
            current = self._trigger_of(job)
            if current is not None and job in self._jobs:
                self.plan(job, current, grace)

        self._timers.call_at(due, JOB_PREFIX + job, fire)

    def unplan(self, job: str) -> None:
        self._jobs.discard(job)
        self._timers.cancel(JOB_PREFIX + job)

    def planned(self) -> set[str]:
        return set(self._jobs)
