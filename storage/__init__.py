"""The only code that speaks SQL: schema, migrations, queries and the batched writer."""

from storage.database import DatabaseError, NewerSchemaError
from storage.repository import Repository, open_repository
from storage.writer import WriterStopped

__all__ = ["DatabaseError", "NewerSchemaError", "Repository", "WriterStopped",
           "open_repository"]
