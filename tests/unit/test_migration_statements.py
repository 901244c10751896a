"""SQLite migrations run statement by statement (storage.database.statements), so
that the write lock ``migrate`` takes is not committed away by ``executescript``."""

import sqlite3

from storage.database import migrations, statements


def test_a_migration_is_split_into_its_statements_with_triggers_whole() -> None:
    script = """-- a comment; with a semicolon
        CREATE TABLE a (x TEXT DEFAULT 'semi;colon');
        CREATE TRIGGER t AFTER INSERT ON a BEGIN
            INSERT INTO a VALUES ('again'); DELETE FROM a WHERE x = 'x';
        END;
        -- the end"""
    found = statements(script)
    assert len(found) == 2
    assert found[0].endswith("CREATE TABLE a (x TEXT DEFAULT 'semi;colon');")
    assert found[1].startswith("CREATE TRIGGER t") and found[1].endswith("END;")
    for migration in migrations():  # every bundled one runs statement by statement
        assert all(sqlite3.complete_statement(s) for s in statements(migration.sql))
