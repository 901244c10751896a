-- Tribebot schema version 4, PostgreSQL: anonymous reaction totals.
CREATE TABLE reaction_counts (
    community_id TEXT COLLATE "C" NOT NULL REFERENCES communities(id) DEFERRABLE INITIALLY DEFERRED,
    message_id   TEXT COLLATE "C" NOT NULL,
    counts       TEXT NOT NULL,          -- JSON: emoji -> total
    total        BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (community_id, message_id)
);
