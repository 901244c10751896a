"""The only code that speaks SQL: schema, migrations, one module per feature, the writer."""

from storage.database import DatabaseError, NewerSchemaError
from storage.store import Repository, open_repository
from storage.writer import WriterStopped

__all__ = ["DatabaseError", "NewerSchemaError", "Repository", "WriterStopped",
           "open_repository"]
