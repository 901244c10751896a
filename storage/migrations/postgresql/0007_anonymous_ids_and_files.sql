-- Tribebot schema version 7, PostgreSQL. SQLite's 0007 repairs data that versions before
-- it wrote (guessable ids of forgotten members, host paths of attachments). No
-- PostgreSQL store is older than version 9, where PostgreSQL support arrived, so there
-- is no such data; only the second repair is repeated, which costs nothing.
UPDATE content_items SET file = NULL WHERE file IS NOT NULL;
