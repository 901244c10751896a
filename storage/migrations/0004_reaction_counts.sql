-- Tribebot schema version 4: anonymous reaction totals (no reactor, so no points).
CREATE TABLE reaction_counts (
    community_id TEXT NOT NULL REFERENCES communities(id) DEFERRABLE INITIALLY DEFERRED,
    message_id   TEXT NOT NULL,
    counts       TEXT NOT NULL,          -- JSON: emoji -> total
    total        INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (community_id, message_id)
) WITHOUT ROWID;
