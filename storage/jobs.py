"""The scheduler's job store: APScheduler keeps its jobs in the bot's own SQLite file.

Opened here so that ``storage`` stays the only code that speaks SQL (APScheduler's
store talks to the file through SQLAlchemy); the content cog only schedules.
"""

from __future__ import annotations

from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

#: The table APScheduler keeps its jobs in.
JOB_TABLE = "apscheduler_jobs"


def open_job_store(database: str, table: str = JOB_TABLE) -> BaseJobStore:
    """A job store on the SQLite file at path ``database``."""
    return SQLAlchemyJobStore(url=f"sqlite:///{database}", tablename=table)


def close_job_store(store: BaseJobStore) -> None:
    """Release the file (APScheduler's shutdown leaves its connections open)."""
    if isinstance(store, SQLAlchemyJobStore):
        store.engine.dispose()
