-- Tribebot schema version 7: what the bot has announced, kept so that neither a restart nor
-- a re-delivered or replayed event announces it again.

-- The highest level announced (and rewarded) per member and season: a level-up is posted
-- only when the total crosses a level above this one.
CREATE TABLE level_announcements (
    community_id TEXT NOT NULL,
    season       INTEGER NOT NULL,
    member_id    TEXT NOT NULL,
    level        INTEGER NOT NULL,
    PRIMARY KEY (community_id, season, member_id)
) WITHOUT ROWID;

-- Welcome posts: when the last one went out (newcomers within `burst_seconds` wait to be
-- greeted together) and whom each named (a reply to it greets them).
CREATE TABLE welcome_posts (
    community_id TEXT NOT NULL,
    at           INTEGER NOT NULL,
    message_id   TEXT,                   -- NULL when the welcome went by direct message only
    newcomers    TEXT NOT NULL           -- JSON list of the member ids it named
);
CREATE INDEX welcome_posts_by_time ON welcome_posts (community_id, at);

-- A handled key an event later undid (a reaction removed re-allows adding it again; a
-- join re-allows a leave): kept with live = 0, so that after a restart a new occurrence is
-- not taken for a re-delivery.
ALTER TABLE seen_events ADD COLUMN live INTEGER NOT NULL DEFAULT 1;
