"""The job store of the content schedules: APScheduler's, on the bot's own database.

APScheduler keeps its jobs through SQLAlchemy; that is SQL, so it is opened here, with
the rest of the store, and the content cog only schedules.
"""

from __future__ import annotations

from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

#: The table APScheduler keeps its jobs in, next to the bot's own tables.
JOB_TABLE = "apscheduler_jobs"


def open_job_store(database: str) -> BaseJobStore:
    """A job store on the SQLite file ``database`` (jobs survive restarts there)."""
    return SQLAlchemyJobStore(url=f"sqlite:///{database}", tablename=JOB_TABLE)


def close_job_store(store: BaseJobStore) -> None:
    """Release the database file (the scheduler's shutdown leaves the engine open)."""
    if isinstance(store, SQLAlchemyJobStore):
        store.engine.dispose()
