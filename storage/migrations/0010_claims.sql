-- Tribebot schema version 10: work that exactly one of several bot processes on this
-- database does. Portable SQL (SQLite and PostgreSQL): plain types, a primary key.

-- A weekly summary is posted by the process that inserted its row first: the claim is
-- committed before anything is sent and read back, so a second process (or a second run
-- of the same slot) sees that it lost and posts nothing. A send that fails removes the
-- row, so the next try may post it; so does the next start of the community's process
-- for a claim never marked posted (its claimant died before or while sending).
CREATE TABLE summary_claims (
    community_id TEXT NOT NULL,
    week         TEXT NOT NULL,      -- the ISO week summarised, like 2026-W44
    claim        TEXT NOT NULL,      -- a random token of the claimant
    claimed_by   TEXT NOT NULL,      -- which process: host, pid and what it serves
    claimed_at   INTEGER NOT NULL,   -- UTC seconds
    posted_at    INTEGER,            -- UTC seconds, once the platform took the post
    PRIMARY KEY (community_id, week)
);
